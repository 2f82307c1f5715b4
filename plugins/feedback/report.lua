-- feedback.report_facts and feedback.nps_report_facts — the satisfaction figures for the reports module, by its
-- module-neutral contract (plugins/reports/README.md, "The contract"), from the module's own tables.
--   CSAT (kind "csat"): one fact per answered CSAT request: at = answered, dims = {agent, team} (who had the ticket),
--     values = {score (1-5), satisfied (1 for 4 or 5, else 0: its average is the CSAT share)}; refreshed on csat.rated.
--   NPS (kind "nps"): one fact per answered survey mail: at = answered, dims = {survey}, values = {score (0-10),
--     promoter (9-10), detractor (0-6)}: NPS = 100 x (promoters - detractors) / answers; refreshed on survey.answered.
-- Both answer {describe = true}, {after, limit} -> {items, next} and {ids = {...}} -> {items}.
local destek = require "destek"

local M = {}

local function source(kind, event, sql, fact)
  return function(args)
    if args.describe then
      return { kind = kind, subjects = destek.json.array({}), events = { [event] = "id" }, durations = destek.json.array({}) }
    end
    local items = {}
    if args.ids then
      for i, id in ipairs(args.ids) do
        if i > 500 then break end
        local rows = destek.db.query(sql .. " AND x.id = ?1", math.tointeger(id) or 0)
        if rows[1] then items[#items + 1] = fact(rows[1]) end
      end
      return { items = destek.json.array(items) }
    end
    local limit = math.tointeger(args.limit) or 500
    if limit < 1 or limit > 200 then limit = 200 end
    local rows = destek.db.query(sql .. " AND x.id > ?1 ORDER BY x.id LIMIT ?2", math.tointeger(args.after) or 0, limit)
    for _, r in ipairs(rows) do items[#items + 1] = fact(r) end
    return { items = destek.json.array(items), next = #rows == limit and rows[#rows].id or nil }
  end
end

function M.register()
  destek.service("feedback.report_facts", source("csat", "csat.rated",
    "SELECT x.id, x.reference, x.answered_at, x.score, x.agent_id, x.team_id," ..
    " (SELECT name FROM core_users u WHERE u.id = x.agent_id) AS agent_name" ..
    " FROM feedback_csat x WHERE x.score IS NOT NULL AND x.answered_at IS NOT NULL",
    function(r)
      return { id = r.id, ref = r.reference, at = r.answered_at, open = 0,
        dims = { agent = r.agent_id and tostring(r.agent_id) or "none", team = r.team_id and tostring(r.team_id) or "none" },
        labels = r.agent_name and { agent = r.agent_name } or nil,
        values = { score = r.score, satisfied = r.score >= 4 and 1 or 0 } }
    end))
  destek.service("feedback.nps_report_facts", source("nps", "survey.answered",
    "SELECT x.id, x.answered_at, x.score, x.survey_id, (SELECT name FROM feedback_surveys s WHERE s.id = x.survey_id) AS survey" ..
    " FROM feedback_survey_sends x WHERE x.score IS NOT NULL AND x.answered_at IS NOT NULL",
    function(r)
      return { id = r.id, at = r.answered_at, open = 0,
        dims = { survey = tostring(r.survey_id) }, labels = r.survey and { survey = r.survey } or nil,
        values = { score = r.score, promoter = r.score >= 9 and 1 or 0, detractor = r.score <= 6 and 1 or 0 } }
    end))
end

return M
