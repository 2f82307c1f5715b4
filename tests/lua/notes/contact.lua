-- notes/contact.lua: who a note is about. The one place that knows what a contact is.
--
-- A contact is the core's (a contact store with e-mails and phones, merging, KVKK export and erasure): it is asked
-- for through the core's service contacts.get, which every desk has.
local destek = require "destek"

local contact = {}

-- The contact with this id, as {id, name}, or nil when there is none.
function contact.get(id)
  if math.type(id) ~= "integer" or id < 1 then return nil end
  local found = destek.call("contacts.get", { id = id })
  if found then return { id = found.id, name = found.name } end
  return nil
end

return contact
