/* lua_pattern: the sandbox's own string.find/match/gmatch/gsub give what Lua's string library gives.
 *
 * Differential: the same Lua driver runs in two states, one with the library's functions and one with the host's
 * (lh_pattern_install), over many generated patterns, subjects, replacements and arguments, including malformed
 * patterns; every result and every error message must be equal. Then: the pathological pattern of issue 9 ends in a
 * budget error within the time limit in a sandbox state, and common patterns are not much slower than the library's. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lualib.h>

#include "check.h"
#include "lua_host_internal.h"

/* Generates cases from a seed; returns an array of "what | result" lines. Uses no pattern function itself except
 * the ones under test. */
static const char DRIVER[] =
  "local seed, count = ...\n"
  "local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n + 1 end\n"
  "local function pick(t) return t[rnd(#t)] end\n"
  "local atoms = { 'a', 'b', 'c', 'x', '.', '%a', '%d', '%s', '%w', '%p', '%l', '%u', '%x', '%c', '%g', '%A', '%D',\n"
  "  '%S', '%W', '%%', '%.', '%-', '%]', '%z', '%q', '%(', '[abc]', '[^a]', '[a-c]', '[%d_]', '[]]', '[^]]', '[a-]',\n"
  "  '[-a]', '[%a-]', '[a%-z]', '[^%s]', '[%]a]', '[b-a]', '(', ')', '()', '(a)', '(.-)', '%b()', '%bab', '%b((',\n"
  "  '%f[%w]', '%f[%W]', '%f[a]', '%f[^a]', '%1', '%2', '%0', '%9', '^', '$', '[', '%', '%b', '%b(', '%f', '%fa',\n"
  "  '%f[', '[a', '[^', '[%', ' ', '\\0', ']', '-', '*', '+', '?', '\\xc3', 'A', '1', '_' }\n"
  "local quants = { '', '', '', '', '*', '+', '-', '?' }\n"
  "local function gen_pattern()\n"
  "  local parts = {}\n"
  "  if rnd(5) == 1 then parts[#parts + 1] = '^' end\n"
  "  for i = 1, rnd(6) - 1 do parts[#parts + 1] = pick(atoms) .. pick(quants) end\n"
  "  if rnd(5) == 1 then parts[#parts + 1] = '$' end\n"
  "  return table.concat(parts)\n"
  "end\n"
  "local chars = { 'a', 'b', 'c', 'x', ' ', '(', ')', '1', '2', 'A', '_', '-', '%', ']', '\\0', '\\xc3\\xa9', '\\n', '.' }\n"
  "local function gen_subject()\n"
  "  local t = {}\n"
  "  for i = 1, rnd(14) - 1 do t[i] = pick(chars) end\n"
  "  return table.concat(t)\n"
  "end\n"
  "local function ser(...)\n"
  "  local out = {}\n"
  "  for i = 1, select('#', ...) do\n"
  "    local v = select(i, ...)\n"
  "    if type(v) == 'string' then out[i] = string.format('%q', v)\n"
  "    elseif type(v) == 'table' or type(v) == 'function' then out[i] = type(v)\n"
  "    else out[i] = tostring(v) .. ':' .. (math.type(v) or type(v)) end\n"
  "  end\n"
  "  return select('#', ...) .. '[' .. table.concat(out, ',') .. ']'\n"
  "end\n"
  "local function try(f, ...) return ser(pcall(f, ...)) end\n"
  "local function gm(s, p, init)\n"
  "  local out = {}\n"
  "  for a, b, c in string.gmatch(s, p, init) do\n"
  "    out[#out + 1] = ser(a, b, c)\n"
  "    if #out > 40 then break end\n"
  "  end\n"
  "  return table.concat(out, ';')\n"
  "end\n"
  "local repls = { '', 'x', '%0', '%1', '%2', '[%1]', '%%', '%', 'a%', '%x', '<%0>', '%9', 7, 2.5,\n"
  "  { a = 'A', b = false, ['1'] = 'one', x = 1.5, c = {} },\n"
  "  function(...) return select('#', ...) .. ':' .. table.concat({ ... }, '/') end,\n"
  "  function() return nil end, function() return false end, function() return {} end,\n"
  "  function(a) return a end, function() return 42 end, true }\n"
  "local inits = { nil, 1, 2, 0, -1, -3, 5, 20, -20, 1.5, '2', math.mininteger, math.maxinteger }\n"
  "local maxes = { nil, 0, 1, 2, -1, 100, 1.5 }\n"
  "local out = {}\n"
  "for i = 1, count do\n"
  "  local s, p = gen_subject(), gen_pattern()\n"
  "  if rnd(40) == 1 then s = rnd(100) end\n"
  "  if rnd(60) == 1 then p = rnd(10) end\n"
  "  local init, plain, repl, max = inits[rnd(13)], ({ nil, true, false })[rnd(3)], rnd(#repls), maxes[rnd(7)]\n"
  "  local what = ser(s, p, init, plain, repl, max)\n"
  "  repl = repls[repl]\n"
  "  out[#out + 1] = 'find ' .. what .. ' | ' .. try(string.find, s, p, init, plain)\n"
  "  out[#out + 1] = 'match ' .. what .. ' | ' .. try(string.match, s, p, init)\n"
  "  out[#out + 1] = 'gmatch ' .. what .. ' | ' .. try(gm, s, p, init)\n"
  "  out[#out + 1] = 'gsub ' .. what .. ' | ' .. try(string.gsub, s, p, repl, max)\n"
  "  out[#out + 1] = 'method ' .. what .. ' | ' .. try(function() return s:find(p, init, plain) end)\n"
  "end\n"
  "local fixed = {\n"
  "  { ('a'):rep(250), ('a?'):rep(250) }, { ('a'):rep(199), ('a?'):rep(199) .. '$' },\n"
  "  { ('a'):rep(300), ('(a)'):rep(33) }, { ('a'):rep(40), ('(a)'):rep(32) }, { ('a'):rep(40), ('a*'):rep(201) },\n"
  "  { 'hello world from Lua', '(%w+)' }, { '  trim me  ', '^%s*(.-)%s*$' }, { 'key = value', '(%w+)%s*=%s*(%w+)' },\n"
  "  { 'THE (quick) fox', '%f[%a]%a+' }, { 'f(a(b)c)d', '%b()' }, { 'abcabc', '(a)(b)(c)%3%2%1' },\n"
  "  { 'abcabc', '(abc)%1' }, { 'x = 1, y = 2', '()(%a)()' }, { '', '' }, { '', '$' }, { 'abc', '' },\n"
  "  { 'a.b.c', '%.' }, { 'a+b', 'a+b', }, { 'a\\0b', '\\0' }, { 'a\\0b', '[\\0]' }, { 'a\\0b', '%z' },\n"
  "  { ('x'):rep(100) .. 'y', '.-y' }, { 'aaa', 'a-' }, { 'aaa', '()a*()' }, { 'abc', '((a)(b))' }, { 'abc', '(()' },\n"
  "  { 'abc', 'a)' }, { 'abc', '%1' }, { 'abc', '(a%1)' }, { 'abc', '[a-' }, { 'abc', '[%a' }, { 'a]b', '[]]' },\n"
  "}\n"
  "for _, c in ipairs(fixed) do\n"
  "  local what = ser(c[1], c[2])\n"
  "  out[#out + 1] = 'find ' .. what .. ' | ' .. try(string.find, c[1], c[2])\n"
  "  out[#out + 1] = 'match ' .. what .. ' | ' .. try(string.match, c[1], c[2])\n"
  "  out[#out + 1] = 'gmatch ' .. what .. ' | ' .. try(gm, c[1], c[2])\n"
  "  out[#out + 1] = 'gsub ' .. what .. ' | ' .. try(string.gsub, c[1], c[2], '<%0>')\n"
  "  out[#out + 1] = 'gsub1 ' .. what .. ' | ' .. try(string.gsub, c[1], c[2], '%1')\n"
  "end\n"
  "out[#out + 1] = 'args | ' .. try(string.find) .. try(string.find, 'a') .. try(string.find, {}, 'a')\n"
  "  .. try(string.gsub, 'a', 'a') .. try(string.gsub, 'a', 'a', 'b', 'x') .. try(string.gmatch, 'a')\n"
  "  .. try(string.match, 'a', 'a', {}) .. try(string.gsub, 'a', 'a', nil, 'x') .. try(string.find, 'a', nil)\n"
  "local it = string.gmatch('a1b2c3', '%a(%d)')\n"
  "out[#out + 1] = 'iterator | ' .. ser(it()) .. ser(it()) .. ser(it()) .. ser(it()) .. ser(it())\n"
  "return out\n";

static const char *run_driver(lua_State *L, long seed, int count)
{
  if (luaL_loadbufferx(L, DRIVER, sizeof DRIVER - 1, "=driver", "t") != LUA_OK) return lua_tostring(L, -1);
  lua_pushinteger(L, seed);
  lua_pushinteger(L, count);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) return lua_tostring(L, -1);
  return NULL;
}

static lua_State *new_state(int ours)
{
  lua_State *L = luaL_newstate();
  *(void **)lua_getextraspace(L) = NULL;   /* not a plugin state: lh_budget_charge does nothing */
  luaL_openlibs(L);
  if (ours) {
    lua_getglobal(L, "string");
    lh_pattern_install(L, -1);
    lua_pop(L, 1);
  }
  return L;
}

static void differential(long seed, int count)
{
  lua_State *lib = new_state(0), *host = new_state(1);
  const char *e1 = run_driver(lib, seed, count), *e2 = run_driver(host, seed, count);
  CHECK(!e1 && !e2);
  if (e1 || e2) {
    fprintf(stderr, "driver failed: %s / %s\n", e1 ? e1 : "-", e2 ? e2 : "-");
    lua_close(lib);
    lua_close(host);
    return;
  }
  lua_Integer n = (lua_Integer)lua_rawlen(lib, -1);
  CHECK(n == (lua_Integer)lua_rawlen(host, -1));
  int shown = 0;
  long compared = 0;
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(lib, -1, i);
    lua_rawgeti(host, -1, i);
    size_t l1, l2;
    const char *a = lua_tolstring(lib, -1, &l1), *b = lua_tolstring(host, -1, &l2);
    if (l1 != l2 || memcmp(a, b, l1) != 0) {
      check_failures++;
      if (shown++ < 15) fprintf(stderr, "differs:\n  library: %s\n  host:    %s\n", a, b);
    }
    compared++;
    lua_pop(lib, 1);
    lua_pop(host, 1);
  }
  printf("seed %ld: %ld results compared, %d differ\n", seed, compared, shown);
  lua_close(lib);
  lua_close(host);
}

/* ------------------------------------------------------------------------------------------------ budget */

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int ignore(lua_State *L) { (void)L; return 0; }

/* Runs the chunk (text) as a plugin would: in a plugin environment, through lh_run. */
static int run_chunk(lua_State *L)
{
  const char *code = lua_touserdata(L, 1);
  if (!strncmp(code, "--slow\n", 7)) lh_pause_credit(lh_state_of(L), 10);   /* more time: correctness, not speed */
  if (luaL_loadbufferx(L, code, strlen(code), "=test", "t") != LUA_OK) return lua_error(L);
  lua_newtable(L);                     /* a stand-in for the destek module: lh_push_env reads module.log.info */
  lua_newtable(L);
  lua_pushcfunction(L, ignore);
  lua_setfield(L, -2, "info");
  lua_setfield(L, -2, "log");
  lh_push_env(L, 0);
  lua_remove(L, -2);
  lua_setupvalue(L, -2, 1);
  lua_call(L, 0, 0);
  return 0;
}

static int sandboxed(const char *code, char *err, size_t errlen, double *ms)
{
  struct lh_state *s = lh_state_new(NULL, 0, err, errlen);
  CHECK(s != NULL);
  if (!s) return -2;
  double t0 = now();
  int rc = lh_run(s, 0, NULL, run_chunk, (void *)code, err, errlen);
  *ms = (now() - t0) * 1000;
  lh_state_free(s);
  return rc;
}

static void budget(void)
{
  char err[300];
  double ms;
  int rc = sandboxed("return (('a'):rep(300)):find(('a-'):rep(4) .. 'b')", err, sizeof err, &ms);
  printf("pathological find: %s after %.0f ms\n", rc ? err : "finished", ms);
  CHECK(rc == -1);
  CHECK(strstr(err, "test:1: ran past its time limit") || strstr(err, "test:1: ran out of its instruction budget"));
  CHECK(ms < 1000);
  rc = sandboxed("local s = string.rep('a', 300) local ok = pcall(string.gsub, s, ('a-'):rep(4) .. 'b', '')", err,
                 sizeof err, &ms);
  CHECK(rc == -1 && ms < 1000);   /* pcall cannot catch it */
  /* Past 65536 elements, table.sort without a comparator is the host's own, charging the budget (about 60 ms of
   * CPU here; given more time, so that a busy machine cannot fail it). */
  rc = sandboxed("--slow\nlocal t = {} for i = 1, 70000 do t[i] = (i * 7919) % 70001 end\n"
                 "t[70001] = 0.5 table.sort(t)\n"
                 "for i = 2, #t do if t[i - 1] > t[i] then error('unsorted') end end\n"
                 "if t[1] ~= 0.5 then error('0.5 is not first') end\n"
                 "local s = {} for i = 1, 70000 do s[i] = tostring((i * 31) % 1009) end table.sort(s)\n"
                 "for i = 2, #s do if s[i - 1] > s[i] then error('strings unsorted') end end",
                 err, sizeof err, &ms);
  printf("sort of 70001 numbers and 70000 strings: %s in %.0f ms\n", rc ? err : "sorted", ms);
  CHECK(rc == 0);
}

/* ------------------------------------------------------------------------------------------------ speed */

static const char BENCH[] =
  "local text = ('  Merhaba dünya, kargo nerede? 12345 ürün iade.  '):rep(20)\n"
  "local n = 0\n"
  "for i = 1, 2000 do\n"
  "  n = n + #text:match('^%s*(.-)%s*$')\n"
  "  for w in text:gmatch('%a+') do n = n + 1 end\n"
  "  n = n + select(2, text:gsub('%d+', '#'))\n"
  "  n = n + (text:find('iade', 1, true) or 0) + (text:find('ürün') or 0)\n"
  "  n = n + #text:gsub('[%c\"\\\\]', '%%%0')\n"
  "end\n"
  "return n\n";

static double bench(lua_State *L, lua_Integer *result)
{
  double t0 = now();
  if (luaL_loadbufferx(L, BENCH, sizeof BENCH - 1, "=bench", "t") != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
    fprintf(stderr, "bench: %s\n", lua_tostring(L, -1));
    check_failures++;
    return 0;
  }
  *result = lua_tointeger(L, -1);
  return now() - t0;
}

static void speed(void)
{
  lua_State *lib = new_state(0), *host = new_state(1);
  lua_Integer r1 = 0, r2 = 0;
  double best1 = 1e9, best2 = 1e9;
  for (int i = 0; i < 3; i++) {
    double t1 = bench(lib, &r1), t2 = bench(host, &r2);
    if (t1 < best1) best1 = t1;
    if (t2 < best2) best2 = t2;
  }
  printf("common patterns: library %.1f ms, host %.1f ms (%.2f x)\n", best1 * 1000, best2 * 1000, best2 / best1);
  CHECK(r1 == r2);
#ifndef __SANITIZE_ADDRESS__   /* instrumented, the host's matcher is several times slower than the library's */
  CHECK(best2 < best1 * 3);   /* loose: the machine is shared; typically close to 1 */
#endif
  lua_close(lib);
  lua_close(host);
}

int main(void)
{
  differential(1, 6000);
  differential(20260604, 6000);
  differential(777, 6000);
  budget();
  speed();
  CHECK_DONE();
}
