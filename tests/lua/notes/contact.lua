-- notes/contact.lua: who a note is about. The one place that knows what a contact is.
--
-- Contacts are moving into the core (a contact store with e-mails and phones, merging, KVKK export and erasure).
-- Until then a contact is ticketing's customer: it is asked for through the service ticketing.customer when a
-- ticketing that publishes it is installed; without one, ticketing's customers are read directly (a plugin may read
-- other tables; it never writes them). When the core's contacts come, only this file changes.
local destek = require "destek"

local contact = {}

-- The contact with this id, as {id, name}, or nil when there is none.
function contact.get(id)
  if math.type(id) ~= "integer" or id < 1 then return nil end
  local found, err = destek.call("ticketing.customer", { id = id })
  if found then return { id = found.id, name = found.name } end
  if err.status ~= 501 then return nil end          -- ticketing answered: no such customer
  local rows = destek.db.query("SELECT id, name FROM tkt_customers WHERE id = ?1", id)
  return rows[1]
end

return contact
