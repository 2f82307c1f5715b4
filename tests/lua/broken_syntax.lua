-- Test-only plugin (not shipped): a syntax error; the server skips it and serves the others.
return {
  name = "broken_syntax",
  version = "1.0.0",
  init = function()
    local x = = 1
  end,
}
