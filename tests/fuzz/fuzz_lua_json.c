/* Fuzz target: the Lua-to-JSON conversion (lh_to_json: destek.json.encode, and what a Lua route or hook returns),
 * with the way back (lh_push_json: request bodies and destek.json.decode) for a round trip.
 *
 * Input: a small program that builds Lua values in a sandboxed state (the one every plugin runs in), one opcode
 * byte at a time (the byte modulo 16), with its operands in the bytes that follow (missing bytes read as 0):
 *    0 nil            1 boolean (1 byte)   2 small integer (1 byte, signed)   3 integer (8 bytes)
 *    4 float (8 bytes: NaN, infinities and -0 included)   5 string (length byte % 64, then the bytes, NUL too)
 *    6 new table (also kept in a pool)    7 a table from the pool again (1 byte: which), so tables can be shared
 *      or contain themselves             8 t[k] = v for t, k, v on top of the stack (pops k and v)
 *    9 t[#t+1] = v (pops v)             10 mark the table on top as a JSON array (as decode does for [])
 *   11 destek.json.null                 12 a value JSON cannot hold (1 byte: function, userdata, coroutine)
 *   13 pop                              14 push a copy of a value lower on the stack (1 byte: how far down)
 *   15 give the table on top a metatable with __index/__pairs/__len (the conversion must look at raw contents)
 * The first value pushed is converted.
 * An input that starts with '{' or '[' is JSON text instead (a request body a Lua route reads): it goes into Lua
 * through lh_push_json and back.
 * Checked: lh_to_json never raises; it returns JSON or an error text; the JSON prints and parses back; and, when no
 * object in it has two members of the same name (a table with both 1 and "1" as keys), converting it to Lua and
 * back gives the same JSON (for JSON text: the same as parsed, unless it holds 1e999 and the like). */
#include <math.h>

#include "fuzz.h"
#include "lua_host_internal.h"

struct prog {
  const uint8_t *p, *end;
};

static unsigned byte_at(struct prog *g) { return g->p < g->end ? *g->p++ : 0; }

static uint64_t bytes8(struct prog *g)
{
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | byte_at(g);
  return v;
}

static int pairs_mm(lua_State *L) { return luaL_error(L, "__pairs must not be called"); }

/* Runs the program. Stack: 1 = the pool of tables, then the values. Returns the first value (or nil). */
static int build(lua_State *L)
{
  struct prog *g = lua_touserdata(L, 1);
  lua_settop(L, 0);
  lua_newtable(L);
  lua_Integer pool_n = 0;
  while (g->p < g->end) {
    unsigned op = byte_at(g) % 16;
    luaL_checkstack(L, 8, NULL);
    int top = lua_gettop(L);
    if (top > 64 && op != 8 && op != 9 && op != 10 && op != 15) op = 13;  /* a small stack is enough */
    switch (op) {
    case 0: lua_pushnil(L); break;
    case 1: lua_pushboolean(L, byte_at(g) & 1); break;
    case 2: lua_pushinteger(L, (int8_t)byte_at(g)); break;
    case 3: lua_pushinteger(L, (lua_Integer)bytes8(g)); break;
    case 4: {
      uint64_t bits = bytes8(g);
      double d;
      memcpy(&d, &bits, sizeof d);
      lua_pushnumber(L, d);
      break;
    }
    case 5: {
      size_t n = byte_at(g) % 64;
      if (n > (size_t)(g->end - g->p)) n = (size_t)(g->end - g->p);
      lua_pushlstring(L, (const char *)g->p, n);
      g->p += n;
      break;
    }
    case 6:
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_rawseti(L, 1, ++pool_n);
      break;
    case 7:
      if (pool_n) lua_rawgeti(L, 1, 1 + (lua_Integer)byte_at(g) % pool_n);
      else lua_pushnil(L);
      break;
    case 8:
      if (top >= 4 && lua_istable(L, top - 2) && !lua_isnil(L, top - 1) &&
          !(lua_type(L, top - 1) == LUA_TNUMBER && isnan(lua_tonumber(L, top - 1))))
        lua_rawset(L, top - 2);
      else if (top >= 2)
        lua_pop(L, 1);
      break;
    case 9:
      if (top >= 3 && lua_istable(L, top - 1)) lua_rawseti(L, top - 1, (lua_Integer)lua_rawlen(L, top - 1) + 1);
      else if (top >= 2) lua_pop(L, 1);
      break;
    case 10:
      if (top >= 2 && lua_istable(L, -1)) lh_mark_array(L, -1);
      break;
    case 11: lua_pushlightuserdata(L, NULL); break;
    case 12:
      switch (byte_at(g) % 3) {
      case 0: lua_pushcfunction(L, pairs_mm); break;
      case 1: lua_newuserdatauv(L, 8, 0); break;
      default: lua_newthread(L); break;
      }
      break;
    case 13:
      if (top >= 2) lua_pop(L, 1);
      break;
    case 14:
      if (top >= 2) lua_pushvalue(L, top - (int)(byte_at(g) % (unsigned)(top - 1)));
      break;
    case 15:
      if (top >= 2 && lua_istable(L, -1)) {
        lua_createtable(L, 0, 3);
        lua_pushcfunction(L, pairs_mm);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, pairs_mm);
        lua_setfield(L, -2, "__pairs");
        lua_pushcfunction(L, pairs_mm);
        lua_setfield(L, -2, "__len");
        lua_setmetatable(L, -2);
      }
      break;
    }
  }
  if (lua_gettop(L) < 2) lua_pushnil(L);
  lua_settop(L, 2);
  return 1;
}

static int push_back(lua_State *L)
{
  lh_push_json(L, lua_touserdata(L, 1));
  return 1;
}

/* Whether any object in j has two members of the same name. */
static int has_duplicate_names(const cJSON *j)
{
  for (const cJSON *c = j ? j->child : NULL; c; c = c->next) {
    if (cJSON_IsObject(j))
      for (const cJSON *d = j->child; d != c; d = d->next)
        if (!strcmp(c->string, d->string)) return 1;
    if (has_duplicate_names(c)) return 1;
  }
  return 0;
}

/* Whether j holds a number JSON cannot write (cJSON reads 1e999 as infinity; Lua gives it back as null). */
static int has_non_finite(const cJSON *j)
{
  if (cJSON_IsNumber(j) && !isfinite(j->valuedouble)) return 1;
  for (const cJSON *c = j ? j->child : NULL; c; c = c->next)
    if (has_non_finite(c)) return 1;
  return 0;
}

/* JSON text (a request body a Lua route reads, or destek.json.decode's argument) into Lua and back. */
static void json_round_trip(lua_State *L, const uint8_t *data, size_t size)
{
  char *text = fuzz_cstr_new(data, size);
  cJSON *in = cJSON_Parse(text);
  free(text);
  if (!in) return;
  lua_settop(L, 0);
  if (lh_protect(L, push_back, in, 1) == LUA_OK) {  /* nested past 200: an error, not a crash */
    char err[256] = "";
    cJSON *out = lh_to_json(L, -1, err, sizeof err);
    if (!out) FUZZ_CHECK(err[0]);  /* nested past 100 */
    else if (!has_duplicate_names(in) && !has_non_finite(in)) FUZZ_CHECK(cJSON_Compare(in, out, 1));
    cJSON_Delete(out);
  }
  cJSON_Delete(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct lh_state *s;
  if (!s) {
    char err[256];
    s = lh_state_new(NULL, 0, err, sizeof err);
    if (!s) { fprintf(stderr, "%s\n", err); abort(); }
  }
  lua_State *L = s->L;
  lua_settop(L, 0);
  if (size && (data[0] == '{' || data[0] == '[')) {
    json_round_trip(L, data, size);
    lua_settop(L, 0);
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
  }
  struct prog g = { data, data + size };
  if (lh_protect(L, build, &g, 1) != LUA_OK) {  /* out of memory: nothing to convert */
    lua_settop(L, 0);
    return 0;
  }

  char err[256] = "";
  cJSON *j = lh_to_json(L, -1, err, sizeof err);
  FUZZ_CHECK(lua_gettop(L) == 1);  /* the stack is as it was */
  if (!j) {
    FUZZ_CHECK(err[0]);
  } else {
    char *text = cJSON_PrintUnformatted(j);
    FUZZ_CHECK(text);
    cJSON *parsed = cJSON_Parse(text);
    FUZZ_CHECK(parsed);
    cJSON_Delete(parsed);
    cJSON_free(text);
    if (!has_duplicate_names(j)) {
      lua_settop(L, 0);
      FUZZ_CHECK(lh_protect(L, push_back, j, 1) == LUA_OK);
      char err2[256] = "";
      cJSON *back = lh_to_json(L, -1, err2, sizeof err2);
      FUZZ_CHECK(back);
      FUZZ_CHECK(cJSON_Compare(j, back, 1));
      cJSON_Delete(back);
    }
    cJSON_Delete(j);
  }
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT);
  return 0;
}
