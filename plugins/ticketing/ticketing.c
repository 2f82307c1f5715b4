/* Ticketing — the built-in plugin: one inbox for every channel. This file holds the plugin declaration, its
 * settings and the helpers the other files share (time, history, events, link signatures). */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assets.h"
#include "bus.h"
#include "mail_tkt.h"
#include "sla.h"
#include "triggers.h"
#include "util.h"

const struct destek_host *tkt_host;

const char *const TKT_STATUSES[] = { "new", "open", "pending", "on_hold", "solved", "closed", NULL };
const char *const TKT_PRIORITIES[] = { "low", "normal", "high", "urgent", NULL };
const char *const TKT_CHANNELS[] = { "email", "web", "api", "chat", "whatsapp", "phone", NULL };

extern const struct destek_migration ticketing_migrations[];

static const struct destek_setting settings[] = {
  { "ticketing.attachment_max_bytes", DESTEK_SETTING_INT, "10485760", 0,
    "Largest attachment accepted, in bytes" },
  { "ticketing.public_form_limit", DESTEK_SETTING_INT, "5", 0,
    "Tickets one address may open through the public form per window" },
  { "ticketing.public_reply_limit", DESTEK_SETTING_INT, "30", 0,
    "Replies one address may send through customers' ticket links per window" },
  { "ticketing.public_window_seconds", DESTEK_SETTING_INT, "600", 0,
    "The window of the public rate limits, in seconds" },
  { 0 }
};

void tkt_now(char out[21]) { util_iso_time(time(NULL), out); }

int64_t tkt_next_seq(struct db *w)
{
  return db_int(w, 0, "SELECT coalesce(max(seq), 0) + 1 FROM tkt_tickets", "");
}

void tkt_actor(struct destek_req *r, char out[48])
{
  if (r->who.user_id > 0) snprintf(out, 48, "user:%lld", (long long)r->who.user_id);
  else snprintf(out, 48, "system");
}

int tkt_history(struct db *w, int64_t ticket_id, const char *actor, const char *field, const char *old_value,
                const char *new_value)
{
  char now[21];
  tkt_now(now);
  return db_exec(w, "INSERT INTO tkt_history(ticket_id, actor, field, old_value, new_value, created_at)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "itttt" "t", ticket_id, actor, field, old_value, new_value,
                 now) == SQLITE_OK ? 0 : -1;
}

void tkt_link_sig(struct db *db, int64_t ticket_id, char out[65])
{
  char *key = db_text_new(db, "SELECT value FROM tkt_secrets WHERE name = 'link_key'", "");
  if (!key) abort();  /* created at start-up: its absence is a broken invariant */
  char msg[40];
  int n = snprintf(msg, sizeof msg, "ticket:%lld", (long long)ticket_id);
  util_hmac_sha256_hex(key, strlen(key), msg, (size_t)n, out);
  free(key);
}

cJSON *tkt_tags_json(struct db *db, int64_t ticket_id)
{
  cJSON *a = cJSON_CreateArray();
  sqlite3_stmt *st = db_prepare(db, "SELECT tag FROM tkt_ticket_tags WHERE ticket_id = ?1 ORDER BY tag");
  if (!st) return a;
  db_bind(st, "i", ticket_id);
  while (sqlite3_step(st) == SQLITE_ROW)
    cJSON_AddItemToArray(a, cJSON_CreateString((const char *)sqlite3_column_text(st, 0)));
  db_done(st);
  return a;
}

/* The standard payload of a ticket's events (EVENTS.md). */
static cJSON *event_payload_new(struct db *db, int64_t ticket_id)
{
  sqlite3_stmt *st = db_prepare(db,
    "SELECT t.reference, t.subject, t.status, t.priority, t.channel, t.assignee_id, t.team_id, c.id, c.email,"
    " c.name, c.lang FROM tkt_tickets t JOIN tkt_customers c ON c.id = t.customer_id WHERE t.id = ?1");
  if (!st) return NULL;
  db_bind(st, "i", ticket_id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    char ref[24];
    snprintf(ref, sizeof ref, "#%lld", (long long)sqlite3_column_int64(st, 0));
    cJSON_AddNumberToObject(o, "id", (double)ticket_id);
    cJSON_AddStringToObject(o, "reference", ref);
    cJSON_AddStringToObject(o, "subject", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddStringToObject(o, "priority", (const char *)sqlite3_column_text(st, 3));
    cJSON_AddStringToObject(o, "channel", (const char *)sqlite3_column_text(st, 4));
    cJSON *c = cJSON_AddObjectToObject(o, "customer");
    cJSON_AddNumberToObject(c, "id", (double)sqlite3_column_int64(st, 7));
    if (sqlite3_column_type(st, 8) == SQLITE_NULL) cJSON_AddNullToObject(c, "email");
    else cJSON_AddStringToObject(c, "email", (const char *)sqlite3_column_text(st, 8));
    cJSON_AddStringToObject(c, "name", (const char *)sqlite3_column_text(st, 9));
    cJSON_AddStringToObject(c, "lang", (const char *)sqlite3_column_text(st, 10));
    if (sqlite3_column_type(st, 5) == SQLITE_NULL) cJSON_AddNullToObject(o, "assignee_id");
    else cJSON_AddNumberToObject(o, "assignee_id", (double)sqlite3_column_int64(st, 5));
    if (sqlite3_column_type(st, 6) == SQLITE_NULL) cJSON_AddNullToObject(o, "team_id");
    else cJSON_AddNumberToObject(o, "team_id", (double)sqlite3_column_int64(st, 6));
  }
  db_done(st);
  if (o) cJSON_AddItemToObject(o, "tags", tkt_tags_json(db, ticket_id));
  return o;
}

int tkt_emit(struct destek_req *r, const char *event, int64_t ticket_id, cJSON *extra)
{
  cJSON *p = event_payload_new(http_db(r), ticket_id);
  if (!p) {
    cJSON_Delete(extra);
    return http_error(r, 500, "internal", "the ticket's event could not be built");
  }
  if (extra) {
    cJSON *item;
    while ((item = extra->child)) {
      cJSON_DetachItemViaPointer(extra, item);
      cJSON_DeleteItemFromObjectCaseSensitive(p, item->string);
      cJSON_AddItemToObject(p, item->string, item);
    }
    cJSON_Delete(extra);
  }
  char subject[40];
  snprintf(subject, sizeof subject, "ticket:%lld", (long long)ticket_id);
  return bus_emit(r, event, subject, p);
}

/* Creates the key that signs customers' ticket links on first start. */
static int ensure_link_key(void)
{
  struct db *w = db_writer_acquire();
  int rc = 0;
  if (!db_int(w, 0, "SELECT count(*) FROM tkt_secrets WHERE name = 'link_key'", "")) {
    unsigned char raw[32];
    char hex[65];
    util_random(raw, sizeof raw);
    util_hex(raw, sizeof raw, hex);
    rc = db_exec(w, "INSERT INTO tkt_secrets(name, value) VALUES ('link_key', ?1)", "t", hex) == SQLITE_OK ? 0 : -1;
  }
  db_writer_release(w);
  return rc;
}

static int ticketing_init(const struct destek_host *host)
{
  tkt_host = host;
  tkt_search_init();
  const struct destek_route *tables[] = { tkt_ticket_routes, tkt_list_routes, tkt_ops_routes, tkt_customer_routes, tkt_team_routes,
                                          tkt_public_routes, tkt_attachment_routes, tkt_presence_routes };
  if (host->settings(host, settings) != 0) return -1;
  for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
    if (host->routes(host, tables[i]) != 0) return -1;
  if (tkt_sla_init(host) != 0 || tkt_triggers_init(host) != 0 || host->routes(host, tkt_macro_routes) != 0) return -1;
  if (tkt_mail_init(host) != 0 || tkt_live_init() != 0) return -1;
  /* The customer portal's pages (plugins/ticketing/web/portal/index.js): the web form, and a ticket's page from the
   * link in our mails, which is one customer's conversation and kept out of search engines. */
  if (assets_portal_page("ticketing", "/contact", 0) != 0 || assets_portal_page("ticketing", "/t/{number}", ASSETS_NOINDEX) != 0)
    return -1;
  if (ensure_link_key() != 0) {
    host->log(host, DESTEK_LOG_ERROR, "the link signing key could not be created");
    return -1;
  }
  return 0;
}

extern const struct destek_command tkt_commands[];

const struct destek_plugin DESTEK_PLUGIN_SYMBOL = {
  DESTEK_PLUGIN_ABI, sizeof(struct destek_plugin), "ticketing", "0.1.0",
  NULL, ticketing_migrations, ticketing_init, NULL, tkt_commands
};
