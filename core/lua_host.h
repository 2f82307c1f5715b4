/* Lua plugins: built-in ones embedded in the binary and merchants' ones from <data>/plugins/NAME.lua. One Lua state
 * per thread, each with every plugin loaded; nothing Lua crosses threads. Sandboxed: no io, os.execute, os.exit,
 * bytecode, package.loadlib or C require; an instruction budget per call and a memory cap per state. */
#ifndef DESTEK_LUA_HOST_H
#define DESTEK_LUA_HOST_H

#include <cjson/cJSON.h>

struct destek_req;

/* Loads every Lua plugin: applies its migrations, registers its routes, subscriptions, jobs, policies and settings.
 * A plugin that fails to load is logged with its name and skipped. Returns the number loaded, or -1. */
int lua_host_init(const char *data_dir);
/* Reloads the Lua plugins from disk without a restart (SIGHUP, `destek plugins reload`). Returns the number
 * loaded, or -1 (the previous set stays). */
int lua_host_reload(void);
void lua_host_shutdown(void);
/* An offline CLI command (destek demo, run with the server stopped) is all the process does: its Lua calls get
 * LH_BUILD_TIME_LIMIT instead of a request's limit (the instruction budget still ends a loop). */
void lua_host_offline(int on);
/* Closes this thread's Lua state, if any (threads call it before they exit). */
void lua_host_thread_release(void);

/* Runs the policy named policy with args (a JSON array, borrowed) in this thread's state. Returns the policy's
 * return values as a JSON array (caller frees), or NULL when no plugin defines it or it failed (logged). */
cJSON *lua_host_decide_new(struct destek_req *call, const char *policy, const cJSON *args);

/* 1 when a loaded Lua plugin defines policy (this thread's state, loaded on first use), so that a caller can skip
 * building arguments nobody would read. */
int lua_host_has_policy(const char *policy);

/* Appends {name, version, kind, source} objects for the loaded Lua plugins to arr. */
void lua_host_list(cJSON *arr);

/* Markdown (CommonMark) as HTML a page may carry, as destek.markdown renders it: cmark's safe mode, every link and
 * image URL checked (lua_markdown.c). A new string (caller frees), or NULL when the text is over 1 MiB or memory ran
 * out. For C modules through host->markdown_new. */
char *markdown_html_new(const char *text, size_t len);

#endif
