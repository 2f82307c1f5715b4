-- helpcentre: the help centre (issue 14), a module written in Lua on the module API. Categories and articles in
-- Turkish and English, written in Markdown (destek.markdown: cmark's safe mode), drafts, scheduled publishing (a
-- one-shot timer), a history of versions with restore, images (destek.files), Turkish-aware search (destek.text),
-- public server-rendered pages under /help (templates/), sitemap.xml, suggestions for the contact form and its
-- deflection beacon, "was this helpful?", a report, and demo content (the helpcentre.demo service, which
-- `destek demo` runs).
--
-- store.lua holds every SQL statement; api.lua the agents' routes; pages.lua the public ones; demo.lua the demo.
local destek = require "destek"
local api = require "api"
local pages = require "pages"

return {
  name = "helpcentre",
  version = "1.0.0",
  settings = {
    { name = "helpcentre.shop_name", type = "string", default = "",
      description = "The shop's name at the top of the help centre (empty: \"Help centre\")" },
    { name = "helpcentre.logo_url", type = "string", default = "", description = "The shop's logo on the help centre" },
    { name = "helpcentre.colour", type = "string", default = "#0b6e4f",
      description = "The help centre's accent colour (#rrggbb)" },
    { name = "helpcentre.public_url", type = "string", default = "",
      description = "The address of the help centre's site for canonical links and sitemap.xml (empty: mail.public_url, else the request's host)" },
    { name = "helpcentre.contact_url", type = "string", default = "/contact",
      description = "Where the help centre's \"contact us\" link leads" },
  },
  init = function()
    api.register()
    pages.register()
    -- demo.lua (30 articles of text) is loaded only when `destek demo` asks: a worker's state never needs it.
    destek.service("helpcentre.demo", function(args) return require("demo").fill(args) end)
    destek.service("helpcentre.suggest", pages.suggest_service)
  end,
}
