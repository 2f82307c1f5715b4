/* destek.cache and destek.counter: the Lua side of core/page_cache.c.
 *
 *   destek.cache.get(key)         the value kept under key (a string, or an HTML value when one was kept), or nil
 *                                 and a token for put
 *   destek.cache.put(key, v, token) keeps v (a string or an HTML value) under key, unless the plugin's data changed
 *                                 since get gave token (the value may be stale then)
 *   destek.cache.clear()          drops the plugin's cached pages now, and again once the running call's writes
 *                                 commit (or roll back): call it in every call that changes what the pages show
 *   destek.counter.add(name[, n]) adds n (default 1) to the plugin's counter name in memory, shared by every thread:
 *                                 true, or false when the table is full (then write the count yourself)
 *   destek.counter.take()         {name = n, ...}: the plugin's counters, taken out of memory (a job writes them)
 *
 * Values share the pages' cache and its bound (page_cache.c); a value is dropped with the pages.
 *
 * A page route declared with `cache` (lua_route.c) counts each page it serves from the cache with
 * destek.counter under the page's path when it also says `count = true`. */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "lua_host_internal.h"
#include "page_cache.h"
#include "util.h"

static const char *plugin_of(lua_State *L)
{
  int slot = (int)lua_tointeger(L, lua_upvalueindex(1));
  return lh_state_of(L)->slots[slot].name;
}

/* page_cache_clear(P) drops P's private_cache answers ("@P") too, so a call that must drop both keeps P. */
static int l_cache_clear(lua_State *L)
{
  struct lh_state *s = lh_state_of(L);
  int slot = (int)lua_tointeger(L, lua_upvalueindex(1));
  const char *plugin = util_intern(plugin_of(L)), *twin = s->slots[slot].private_owner;
  page_cache_clear(plugin);
  struct destek_req *c = s->call;
  if (c) c->cache_clear = !c->cache_clear || c->cache_clear == plugin || (twin && c->cache_clear == twin) ? plugin : "*";
  return 0;
}

void lh_cache_written(struct lh_state *s, int slot)
{
  const char *owner = s->slots[slot].private_owner, *plugin = util_intern(s->slots[slot].name);
  if (!owner) return;
  page_cache_clear(owner);
  struct destek_req *c = s->call;
  if (!c || c->cache_clear == owner || c->cache_clear == plugin) return;
  c->cache_clear = c->cache_clear ? "*" : owner;
}

/* destek.cache.valid_until(t): the answer the running route gives is kept (private_cache) only until the Unix time t,
 * when something it shows changes by itself (a deadline passing); the earliest of several calls wins. */
static int l_cache_until(lua_State *L)
{
  struct lh_state *s = lh_state_of(L);
  lua_Integer t = luaL_checkinteger(L, 1);
  if (t < 1) t = 1;
  if (!s->cache_until || t < s->cache_until) s->cache_until = (long long)t;
  return 0;
}

#define VALUE_KEY_MAX 600

/* A value's key in the page cache: "\002" and the plugin's key (a page's key starts with its path, "/..."). */
static size_t value_key(lua_State *L, char *out)
{
  size_t len;
  const char *k = luaL_checklstring(L, 1, &len);
  luaL_argcheck(L, len > 0 && len < VALUE_KEY_MAX - 1, 1, "a key of 1 to 598 bytes");
  out[0] = 2;
  memcpy(out + 1, k, len);
  return len + 1;
}

static int l_cache_get(lua_State *L)
{
  char key[VALUE_KEY_MAX], *body, etag[PAGE_CACHE_ETAG_MAX];
  size_t key_len = value_key(L, key), len;
  const char *plugin = plugin_of(L);
  if (!page_cache_get(plugin, key, key_len, &body, &len, etag)) {
    lua_pushnil(L);
    lua_pushinteger(L, (lua_Integer)page_cache_gen(plugin));
    return 2;
  }
  lua_pushlstring(L, body, len);   /* a state out of memory raises here and leaks this one copy */
  free(body);
  if (etag[0]) lh_html_from_string(L, etag);
  return 1;
}

static int l_cache_put(lua_State *L)
{
  char key[VALUE_KEY_MAX], etag[PAGE_CACHE_ETAG_MAX] = "";
  size_t key_len = value_key(L, key), len;
  const char *v = lh_html_text(L, 2, &len);
  if (v) page_cache_etag(v, len, etag);
  else v = luaL_checklstring(L, 2, &len);
  lua_Integer token = luaL_checkinteger(L, 3);
  page_cache_put(plugin_of(L), (uint64_t)token, key, key_len, v, len, etag);
  return 0;
}

static int l_counter_add(lua_State *L)
{
  const char *name = luaL_checkstring(L, 1);
  lua_Integer n = luaL_optinteger(L, 2, 1);
  lua_pushboolean(L, counter_add(plugin_of(L), name, (long long)n) == 0);
  return 1;
}

static int l_counter_take(lua_State *L)
{
  lua_newtable(L);
  struct counter_taken *list = counter_take(plugin_of(L));
  /* Pushed after the list left the table: a memory error here loses these counts, never the lock. */
  for (struct counter_taken *t = list, *next; t; t = next) {
    next = t->next;
    if (lua_checkstack(L, 2)) {
      lua_pushinteger(L, (lua_Integer)t->n);
      lua_setfield(L, -2, t->name);
    }
    free(t);
  }
  return 1;
}

void lh_cache_push(lua_State *L, int slot)
{
  static const luaL_Reg cache_fns[] = { { "get", l_cache_get }, { "put", l_cache_put }, { "clear", l_cache_clear },
                                        { "valid_until", l_cache_until }, { NULL, NULL } };
  static const luaL_Reg counter_fns[] = { { "add", l_counter_add }, { "take", l_counter_take }, { NULL, NULL } };
  lua_newtable(L);
  lua_pushinteger(L, slot);
  luaL_setfuncs(L, cache_fns, 1);
  lua_setfield(L, -2, "cache");
  lua_newtable(L);
  lua_pushinteger(L, slot);
  luaL_setfuncs(L, counter_fns, 1);
  lua_setfield(L, -2, "counter");
}
