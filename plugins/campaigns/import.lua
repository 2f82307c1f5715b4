-- campaigns/import.lua: importing a shop's existing consent list into the core's ledger, with its proof. A CSV with a
-- header row; columns (any order, names as below, case-insensitive):
--
--   contact     the person's e-mail address or phone number (required)
--   channel     email, sms, call, whatsapp (required)
--   status      ONAY or RET (required)
--   at          when the person gave it, "2026-11-01T10:00:00Z" or "2026-11-01" (required)
--   source      web_form, checkout, call_centre, reply, iys (required; how it was collected)
--   text_shown  the text the person was shown (required for an ONAY)
--   address     the e-mail address or phone number the consent is about (default: contact)
--   ip          the address it came from (required when collected on the web: web_form, checkout)
--   name        the person's name (optional; fills a new contact)
--   lang        tr or en (optional; fills a new contact)
--   tags        the module's tags for segments, separated by spaces (optional; added)
--
-- Every row is checked; one bad row refuses the whole file (422 invalid_rows, every bad row with its line, column and
-- why) and nothing is recorded. A good file records every row in one transaction (consent.record's checks). At most
-- 10,000 rows a file.
local destek = require "destek"

local import = {}

-- The file parsed, checked and recorded in one call of the core's consent.import_csv (C: parsing and checking
-- 10,000 rows in Lua does not fit a call's time budget on a loaded machine, and the core's time is not the plugin's),
-- then the rows' tags in one statement. The count of rows, or nil and the problems [{line, column, message}]. The
-- caller answers 422 then, so nothing is kept. A file that is not CSV raises 422 bad_csv.
function import.record_csv(csv)
  local res, err = destek.call("consent.import_csv", { csv = csv })
  if not res then
    if err.code == "bad_csv" then error(destek.error(422, "bad_csv", err.message, "csv")) end
    if err.code ~= "invalid_rows" then error(err) end
    local line, message = tostring(err.message or ""):match("^line (%d+): (.*)$")
    return nil, { { line = tonumber(line) or destek.json.null, column = err.field or destek.json.null,
                    message = message or err.message } }
  end
  if res.problems then return nil, res.problems end
  if res.tags_json ~= "[]" then
    destek.db.exec("INSERT OR IGNORE INTO campaigns_tags(contact_id, tag) SELECT json_extract(value, '$[0]')," ..
                   " json_extract(value, '$[1]') FROM json_each(?1)", res.tags_json)
  end
  return res.count
end

return import
