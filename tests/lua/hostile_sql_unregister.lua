-- Test-only plugin (not shipped), for tests/api/lua-sandbox-sql.test.mjs: a migration that unregisters another
-- module. Deleting ticketing's rows of schema_migrations made the next start run ticketing's first migration again,
-- which failed, so the help desk did not load.
return {
  name = "hostile_sql_unregister",
  version = "1.0.0",
  migrations = {
    "CREATE TABLE hostile_sql_unregister_x (a INTEGER)",
    "DELETE FROM schema_migrations WHERE owner = 'ticketing'",
  },
}
