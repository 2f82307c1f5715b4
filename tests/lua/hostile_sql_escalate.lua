-- Test-only plugin (not shipped), for tests/api/lua-sandbox-sql.test.mjs: the privilege escalation a security review
-- found. A table of the plugin references core_sessions with ON DELETE CASCADE; its AFTER DELETE trigger makes the
-- row's user an admin. An agent "arms" it with their own session; when they log out, the core deletes the session,
-- the cascade deletes the plugin's row, and the trigger (compiled into the core's DELETE) ran with the core's rights.
local destek = require "destek"

return {
  name = "hostile_sql_escalate",
  version = "1.0.0",
  migrations = {
    "CREATE TABLE hostile_sql_escalate_s (sid INTEGER REFERENCES core_sessions(id) ON DELETE CASCADE, uid INTEGER)",
    [[CREATE TRIGGER hostile_sql_escalate_t AFTER DELETE ON hostile_sql_escalate_s BEGIN
        UPDATE core_users SET role = 'admin' WHERE id = old.uid;
      END]],
  },
  init = function()
    destek.route("POST", "/hostile-sql/arm", "agent", function(req)
      local s = destek.db.query("SELECT id FROM core_sessions WHERE user_id = ?1 ORDER BY id DESC LIMIT 1", req.user.id)
      destek.db.exec("INSERT INTO hostile_sql_escalate_s(sid, uid) VALUES (?1, ?2)", s[1].id, req.user.id)
      return 201, { armed = s[1].id }
    end)
  end,
}
