/* The standard library as the sandbox offers it: where one call of a library function can take long, the call is
 * metered or bounded, because the instruction hook sees only Lua instructions and a C function runs as one.
 *
 *   metered          the call's deadline is checked as soon as the function returns (string.*, table.*, utf8.*,
 *                    tonumber, load, rawequal, collectgarbage): a loop of such calls stops after one of them;
 *   bounded          loops a plugin drives without running Lua are refused past what a state can hold
 *                    (table.move, insert, remove, concat; string.rep of ""; os.date's format);
 *   charged          table.sort past SORT_NATIVE_MAX elements; the pattern functions (lua_pattern.c).
 * Each bound's error text is listed in plugins/README.md ("What a plugin cannot do"). */
#include <string.h>

#include "lua_host_internal.h"

/* Library functions whose single call can take long (their work grows with their arguments: up to the 64 MiB a
 * state may hold) run through metered(): it checks the call's deadline as soon as the function returns. The hook
 * alone would notice only after LH_HOOK_EVERY instructions, that is after up to a thousand such calls. The original
 * C function is kept in a userdata upvalue and called directly, in the same frame (so its argument errors still
 * name it); none of the wrapped functions uses upvalues of its own. */
static int metered(lua_State *L)
{
  lua_CFunction f = *(lua_CFunction *)lua_touserdata(L, lua_upvalueindex(1));
  int n = f(L);
  lh_budget_check(L);
  return n;
}

/* Replaces t[name] (a C function) by a metered wrapper; with pre, pre runs first, with the original as upvalue 1. */
static void meter(lua_State *L, int t, const char *name, lua_CFunction pre)
{
  lua_getfield(L, t, name);
  lua_CFunction f = lua_tocfunction(L, -1);
  lua_pop(L, 1);
  if (!f) return;
  *(lua_CFunction *)lua_newuserdatauv(L, sizeof f, 0) = f;
  lua_pushcclosure(L, pre ? pre : metered, 1);
  lua_setfield(L, t, name);
}

static int call_original(lua_State *L) { return metered(L); }

/* table.sort without a comparator compares in C, n log n times, out of the hook's sight. Up to SORT_NATIVE_MAX
 * elements (a few milliseconds) the library sorts; past that, a plain table is sorted here with the same "<"
 * (lua_compare), charging the budget as it goes, and a table with a metatable is sorted by the library through a C
 * comparator that charges each comparison. The order of equal elements may differ from the library's, which the
 * manual leaves unspecified ("the sort algorithm is not stable"). */
#define SORT_NATIVE_MAX 65536

static int sort_less(lua_State *L)
{
  lh_budget_charge(L, 25);
  lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
  return 1;
}

/* t[i] < the value at stack index v? */
static int elem_less(lua_State *L, lua_Integer i, int v)
{
  lua_rawgeti(L, 1, i);
  int yes = lua_compare(L, -1, v, LUA_OPLT);
  lua_pop(L, 1);
  return yes;
}

static int less_elem(lua_State *L, int v, lua_Integer i)
{
  lua_rawgeti(L, 1, i);
  int yes = lua_compare(L, v, -1, LUA_OPLT);
  lua_pop(L, 1);
  return yes;
}

static void swap_elems(lua_State *L, lua_Integer i, lua_Integer j)
{
  lua_rawgeti(L, 1, i);
  lua_rawgeti(L, 1, j);
  lua_rawseti(L, 1, i);
  lua_rawseti(L, 1, j);
}

/* Quicksort of the table at index 1, t[lo..hi]: median of three, Hoare partition (bounded, so that an inconsistent
 * "<" cannot run off the range), the smaller side first, insertion sort for short ranges. */
static void sort_range(lua_State *L, lua_Integer lo, lua_Integer hi)
{
  while (hi - lo > 12) {
    lh_budget_charge(L, (long)(hi - lo) * 12);
    lua_Integer mid = lo + (hi - lo) / 2;
    lua_rawgeti(L, 1, mid);
    if (elem_less(L, lo, -1) == 0 && less_elem(L, -1, lo)) swap_elems(L, lo, mid);
    lua_pop(L, 1);
    lua_rawgeti(L, 1, hi);
    if (elem_less(L, mid, -1) == 0 && less_elem(L, -1, mid)) swap_elems(L, mid, hi);
    lua_pop(L, 1);
    lua_rawgeti(L, 1, mid);
    if (elem_less(L, lo, -1) == 0 && less_elem(L, -1, lo)) swap_elems(L, lo, mid);
    lua_pop(L, 1);
    lua_rawgeti(L, 1, mid);
    int pivot = lua_gettop(L);
    lua_Integer i = lo, j = hi;
    while (i <= j) {
      while (i < hi && elem_less(L, i, pivot)) i++;
      while (j > lo && less_elem(L, pivot, j)) j--;
      if (i <= j) {
        swap_elems(L, i, j);
        i++;
        j--;
      }
    }
    lua_pop(L, 1);
    if (j - lo < hi - i) {
      sort_range(L, lo, j);
      lo = i;
    } else {
      sort_range(L, i, hi);
      hi = j;
    }
  }
  lh_budget_charge(L, (long)(hi - lo + 1) * 40);
  for (lua_Integer k = lo + 1; k <= hi; k++) {
    lua_rawgeti(L, 1, k);
    int v = lua_gettop(L);
    lua_Integer m = k - 1;
    while (m >= lo && less_elem(L, v, m)) {
      lua_rawgeti(L, 1, m);
      lua_rawseti(L, 1, m + 1);
      m--;
    }
    lua_rawseti(L, 1, m + 1);
  }
}

/* A comparator that is a C function (rawequal, say) runs no instruction the hook could count: each call is charged
 * here. Upvalue 1: the comparator. */
static int sort_call(lua_State *L)
{
  lh_budget_charge(L, 25);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

static int sb_sort(lua_State *L)
{
  if (lua_type(L, 1) != LUA_TTABLE || lua_rawlen(L, 1) <= SORT_NATIVE_MAX) return call_original(L);
  if (lua_isnoneornil(L, 2)) {
    lua_settop(L, 1);
    if (!lua_getmetatable(L, 1)) {
      luaL_checkstack(L, 8, "table.sort");
      sort_range(L, 1, (lua_Integer)lua_rawlen(L, 1));
      return 0;
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, sort_less);
  } else if (lua_iscfunction(L, 2)) {   /* (the library takes functions only) */
    lua_settop(L, 2);
    lua_pushcclosure(L, sort_call, 1);
  }
  return call_original(L);
}

/* table.move copies element by element even when they are all nil: a range longer than any table a state can hold
 * (64 MiB of 16-byte values) is refused instead of looping for ever. */
#define MOVE_MAX ((lua_Unsigned)LH_MEMORY_LIMIT / 16)

static int sb_move(lua_State *L)
{
  int f_ok, e_ok;
  lua_Integer f = lua_tointegerx(L, 2, &f_ok), e = lua_tointegerx(L, 3, &e_ok);
  if (f_ok && e_ok) {
    if (e >= f && (lua_Unsigned)e - (lua_Unsigned)f >= MOVE_MAX)
      return luaL_error(L, "table.move: at most %I elements at a time", (lua_Integer)MOVE_MAX);
  }
  return call_original(L);
}

/* table.insert/remove shift elements up to the table's length, and table.concat walks its range, in C: a length that
 * a __len metamethod makes up (or a range given) is refused past what a state can hold, like table.move's. The
 * check calls __len itself, so a table with __len has it called twice by these functions. */
static void check_length(lua_State *L, const char *fn)
{
  if (lua_type(L, 1) != LUA_TTABLE || luaL_getmetafield(L, 1, "__len") == LUA_TNIL) return;
  lua_pop(L, 1);
  lua_Integer n = luaL_len(L, 1);
  if (n < 0 || (lua_Unsigned)n > MOVE_MAX)
    luaL_error(L, "table.%s: a length over %I (from __len) is refused", fn, (lua_Integer)MOVE_MAX);
}

static int sb_insert(lua_State *L)
{
  check_length(L, "insert");
  return call_original(L);
}

static int sb_remove(lua_State *L)
{
  check_length(L, "remove");
  return call_original(L);
}

static int sb_concat(lua_State *L)
{
  if (lua_isnoneornil(L, 4)) {
    check_length(L, "concat");
  } else {
    int i_ok = 1, j_ok;
    lua_Integer i = 1, j = lua_tointegerx(L, 4, &j_ok);
    if (!lua_isnoneornil(L, 3)) i = lua_tointegerx(L, 3, &i_ok);
    if (i_ok && j_ok && j >= i && (lua_Unsigned)j - (lua_Unsigned)i >= MOVE_MAX)
      return luaL_error(L, "table.concat: at most %I elements at a time", (lua_Integer)MOVE_MAX);
  }
  return call_original(L);
}

/* string.rep of an empty string with an empty separator loops n times copying nothing, whatever n is. */
static int sb_rep(lua_State *L)
{
  size_t l, lsep;
  luaL_checklstring(L, 1, &l);
  luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &lsep);
  if (l == 0 && lsep == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  return call_original(L);
}

/* os.date calls strftime once per conversion of its format: formats are short. */
#define DATE_FORMAT_MAX 256

static int sb_date(lua_State *L)
{
  size_t len = 0;
  if (lua_type(L, 1) == LUA_TSTRING && (lua_tolstring(L, 1, &len), len > DATE_FORMAT_MAX))
    return luaL_error(L, "os.date: the format may be at most %d bytes", DATE_FORMAT_MAX);
  return call_original(L);
}

void lh_limits_install(lua_State *L, int G)
{
  G = lua_absindex(L, G);
  static const struct { const char *lib; const char *const names[16]; } plain[] = {
    { "string", { "byte", "char", "format", "lower", "upper", "reverse", "sub", "pack", "packsize", "unpack",
                  NULL } },
    { "table", { "pack", "unpack", NULL } },
    { "utf8", { "char", "codepoint", "len", "offset", NULL } },
    { NULL, { "tonumber", "load", "rawequal", "collectgarbage", NULL } },   /* a full collection takes a while */
  };
  for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
    if (plain[i].lib) lua_getfield(L, G, plain[i].lib);
    else lua_pushvalue(L, G);
    for (const char *const *n = plain[i].names; *n; n++) meter(L, lua_gettop(L), *n, NULL);
    lua_pop(L, 1);
  }
  lua_getfield(L, G, "table");
  meter(L, lua_gettop(L), "sort", sb_sort);
  meter(L, lua_gettop(L), "move", sb_move);
  meter(L, lua_gettop(L), "insert", sb_insert);
  meter(L, lua_gettop(L), "remove", sb_remove);
  meter(L, lua_gettop(L), "concat", sb_concat);
  lua_getfield(L, G, "string");
  meter(L, lua_gettop(L), "rep", sb_rep);
  lua_pop(L, 1);
  lua_getfield(L, G, "os");
  meter(L, lua_gettop(L), "date", sb_date);
  lua_getfield(L, G, "string");
  lh_pattern_install(L, -1);
  lua_pop(L, 3);
}
