-- Test-only plugin (not shipped), for tests/api/lua-sandbox-more.test.mjs: a route that answers with the response
-- headers named by {case}: cookies that are the server's (a login CSRF or session fixation), headers that would change
-- or remove the server's security headers or the response's framing, and what a plugin may send.
local destek = require "destek"

local CASES = {
  session = { ["Set-Cookie"] = "destek_session=attacker-chosen; Path=/; HttpOnly" },
  session_upper = { ["set-cookie"] = "DESTEK_SESSION=attacker-chosen" },
  other_plugin = { ["Set-Cookie"] = "lua_api_pref=1" },
  smuggled = { ["Set-Cookie"] = "hostile_headers_a=x destek_session=attacker-chosen; Path=/api" },
  domain = { ["Set-Cookie"] = "hostile_headers_a=1; Domain=example.com" },
  csp = { ["Content-Security-Policy"] = "default-src * 'unsafe-inline' 'unsafe-eval'" },
  frame = { ["x-frame-options"] = "ALLOWALL" },
  hsts = { ["Strict-Transport-Security"] = "max-age=0" },
  clear = { ["Clear-Site-Data"] = "\"cookies\"" },
  length = { ["Content-Length"] = "0" },
  chunked = { ["Transfer-Encoding"] = "chunked" },
  connection = { ["Connection"] = "close" },
  bad_name = { ["X-Bad\tName"] = "1" },
  own_cookie = { ["Set-Cookie"] = "hostile_headers_pref=dark", ["X-Plugin"] = "yes" },
  own_cookie_attrs = { ["Set-Cookie"] = "hostile_headers_seen=1; Max-Age=60; SameSite=Strict; Path=/hostile-more" },
}

return {
  name = "hostile_headers",
  version = "1.0.0",
  init = function()
    -- a page with a script that would act as the agent who opens it, were it served with the app's origin
    destek.route("GET", "/hostile-more/page", "public", function()
      return 200, "<!doctype html><form method=post action=/api/v1/users></form><script src=/hostile-more/x.js></script>",
        { ["Content-Type"] = "text/html; charset=utf-8" }
    end)
    destek.route("GET", "/hostile-more/headers/{case}", "public", function(req)
      return 200, { case = req.params.case }, CASES[req.params.case]
    end, "case:text")
  end,
}
