-- feedback: what customers think, put where the shop can act on it (issue 15), a module written in Lua on the module
-- API. CSAT after every solved ticket (csat.lua), product reviews from buyers with fair moderation, public replies,
-- a JSON API and an embeddable widget (reviews.lua), NPS surveys to recent buyers (nps.lua), and demo data
-- (demo.lua, the feedback.demo service `destek demo` runs). Mail goes through the desk's mail settings with
-- ticketing's ticketing.mail_send; scores reach the ticket with ticketing.rate (ticket.rated, triggers).
local destek = require "destek"
local csat = require "csat"
local reviews = require "reviews"
local nps = require "nps"

return {
  name = "feedback",
  version = "1.0.0",
  events = { "csat", "review", "survey" },
  settings = {
    { name = "feedback.csat_enabled", type = "bool", default = true,
      description = "Ask \"How did we do?\" after a ticket is solved" },
    { name = "feedback.csat_delay_minutes", type = "int", default = 60,
      description = "Minutes after a ticket is solved before the CSAT question is mailed" },
    { name = "feedback.reviews_enabled", type = "bool", default = true,
      description = "Ask buyers for a product review when an order's shipment is delivered" },
    { name = "feedback.review_delay_hours", type = "int", default = 72,
      description = "Hours after the delivery before the review request is mailed" },
    { name = "feedback.review_ticket_max_stars", type = "int", default = 2,
      description = "A review of this many stars or fewer opens a ticket (0: never)" },
    { name = "feedback.widget_cache_seconds", type = "int", default = 10,
      description = "Seconds shops' pages and browsers may keep the reviews widget's JSON (its Cache-Control max-age)" },
    { name = "feedback.public_url", type = "string", default = "",
      description = "The address in the links of feedback mails (empty: mail.public_url)" },
  },
  init = function()
    csat.register()
    reviews.register()
    nps.register()
    destek.route("GET", "/feedback/static/{file}", "public", function(req) return destek.asset(req.params.file) end,
                 { params = "file:text" })
    require("report").register()
    destek.service("feedback.demo", function(args) return require("demo").fill(args) end)
    destek.service("feedback.csat_rate", csat.rate_service)
    destek.timer("feedback.demo", function(_, payload) require("demo").orders_part(math.tointeger(payload.from)) end)
    -- KVKK: an erased person's comments, review texts and addresses are blanked; scores stay, so figures count the same.
    destek.service("feedback.contact_erase", function(person)
      destek.db.exec("UPDATE feedback_csat SET email = NULL, name = NULL, comment = CASE WHEN comment IS NULL THEN NULL" ..
                     " ELSE '***' END WHERE contact_id = ?1", person.id)
      destek.db.exec("UPDATE feedback_survey_sends SET email = '', name = NULL, reason = CASE WHEN reason IS NULL THEN" ..
                     " NULL ELSE '***' END WHERE contact_id = ?1", person.id)
      destek.db.exec("UPDATE feedback_review_requests SET email = NULL, name = NULL WHERE contact_id = ?1", person.id)
      destek.db.exec("UPDATE feedback_reviews SET email = NULL, author = '***', body = '***' WHERE contact_id = ?1", person.id)
      destek.cache.clear()   -- the widget's copies may show the erased text
      return {}
    end)
    destek.service("feedback.contact_merged", function(m)
      for _, t in ipairs({ "feedback_csat", "feedback_review_requests", "feedback_reviews" }) do
        destek.db.exec("UPDATE " .. t .. " SET contact_id = ?1 WHERE contact_id = ?2", m.id, m.source_id)
      end
      -- one answer per contact per survey: the source's rows that would collide stay the source's
      destek.db.exec("UPDATE OR IGNORE feedback_survey_sends SET contact_id = ?1 WHERE contact_id = ?2", m.id, m.source_id)
      return {}
    end)
    destek.service("feedback.contact_export", function(p)
      return {
        csat = destek.db.query("SELECT ticket_id, reference, score, comment, sent_at, answered_at FROM feedback_csat" ..
                               " WHERE contact_id = ?1", p.id),
        surveys = destek.db.query("SELECT survey_id, score, reason, sent_at, answered_at FROM feedback_survey_sends" ..
                                  " WHERE contact_id = ?1", p.id),
        reviews = destek.db.query("SELECT product, product_name, order_number, rating, body, status, rule, created_at" ..
                                  " FROM feedback_reviews WHERE contact_id = ?1", p.id),
      }
    end)
  end,
}
