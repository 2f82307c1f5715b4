-- Test-only plugin (not shipped) for tests/api/stream.test.mjs: sync subscribers that veto, so that the test can
-- prove a vetoed or rolled-back change streams nothing.
local destek = require "destek"

return {
  name = "live_veto",
  version = "0.1.0",
  init = function()
    -- A vetoed event: the ticket and its ticket.created are taken back.
    destek.on("ticket.created", function(payload)
      if string.find(payload.subject or "", "veto", 1, true) then return nil, "no tickets about vetoes" end
    end)
    -- A rolled-back call: ticket.updated was emitted (and accepted) before ticket.solved is vetoed, so the whole
    -- PATCH rolls back with ticket.updated in it.
    destek.on("ticket.solved", function(payload)
      for _, tag in ipairs(payload.tags or {}) do
        if tag == "unsolvable" then return nil, "this ticket cannot be solved" end
      end
    end)
  end,
}
