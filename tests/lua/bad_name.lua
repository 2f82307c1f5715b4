-- Test-only plugin (not shipped): an invalid name; skipped.
return { name = "Bad-Name", version = "1.0.0" }
