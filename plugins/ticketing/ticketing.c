/* Ticketing — the built-in plugin: one inbox for every channel. This file holds the plugin declaration, its
 * settings and the helpers the other files share (time, history, events, link signatures). */
#include "tkt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail_tkt.h"
#include "sla.h"
#include "triggers.h"
#include "destek_util.h"

const struct destek_host *tkt_host;

const char *const TKT_STATUSES[] = { "new", "open", "pending", "on_hold", "solved", "closed", NULL };
const char *const TKT_PRIORITIES[] = { "low", "normal", "high", "urgent", NULL };
const char *const TKT_CHANNELS[] = { "email", "web", "api", "chat", "whatsapp", "phone", NULL };

extern const struct destek_migration ticketing_migrations[];

static const struct destek_setting settings[] = {
  { "ticketing.draft_cleanup_seconds", DESTEK_SETTING_INT, "3600", 0,
    "How often drafts' files older than 30 days (and stored files nothing refers to) are cleaned up, in seconds;"
    " 0 disables" },
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

/* The SLA clock's now: the real time, unless a test set the fake clock (DESTEK_TEST_CLOCK=1), so that a test's
 * tickets, replies and solves carry the instants it chose (the reports tests). */
void tkt_now(char out[21]) { util_iso_time((time_t)tkt_sla_now(), out); }

int64_t tkt_next_seq(struct destek_db *w)
{
  return tkt_db_int(w, 0, "SELECT coalesce(max(seq), 0) + 1 FROM tkt_tickets", "");
}

void tkt_actor(struct destek_req *r, char out[48])
{
  if (tkt_user_id(r) > 0) snprintf(out, 48, "user:%lld", (long long)tkt_user_id(r));
  else snprintf(out, 48, "system");
}

int tkt_history(struct destek_db *w, int64_t ticket_id, const char *actor, const char *field, const char *old_value,
                const char *new_value)
{
  char now[21];
  tkt_now(now);
  return tkt_db_exec(w, "INSERT INTO tkt_history(ticket_id, actor, field, old_value, new_value, created_at)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "itttt" "t", ticket_id, actor, field, old_value, new_value,
                 now) == SQLITE_OK ? 0 : -1;
}

int tkt_write_now(const char *sql, const char *types, ...)
{
  struct destek_req *c = tkt_call_new();
  struct destek_db *w = tkt_db_write(c);
  sqlite3_stmt *st = w ? tkt_db_prepare(w, sql) : NULL;
  int rc = -1;
  if (st) {
    va_list ap;
    va_start(ap, types);
    if (tkt_db_bindv(st, types, ap) == SQLITE_OK) rc = sqlite3_step(st) == SQLITE_DONE ? tkt_db_changes(w) : -1;
    va_end(ap);
    tkt_db_done(st);
  }
  if (rc < 0) tkt_log(DESTEK_LOG_ERROR, "cannot write at once: %s: %s", w ? tkt_db_errmsg(w) : "no writer", sql);
  if (tkt_call_end(c, rc >= 0) != 0 && rc >= 0) {
    tkt_log(DESTEK_LOG_ERROR, "cannot commit at once: %s", sql);
    rc = -1;
  }
  return rc;
}

/* The key that signs customers' links (tkt_secrets.link_key): read once at start-up (ensure_link_key), never
 * changed afterwards, so no request reads it again. */
static char link_key[65];

void tkt_link_sig(struct destek_db *db, int64_t ticket_id, char out[65])
{
  (void)db;
  if (!link_key[0]) abort();  /* read at start-up: its absence is a broken invariant */
  char msg[40];
  int n = snprintf(msg, sizeof msg, "ticket:%lld", (long long)ticket_id);
  tkt_hmac_sha256_hex(link_key, strlen(link_key), msg, (size_t)n, out);
}

char *tkt_ticket_link_new(struct destek_db *db, int64_t ticket_id, const char *reference)
{
  char *base = tkt_setting_new("mail.public_url");
  if (!base || !*base) {
    free(base);
    base = strdup(tkt_base_url());
    if (!base) abort();
  }
  size_t bl = strlen(base);
  while (bl && base[bl - 1] == '/') base[--bl] = 0;
  char sig[65];
  tkt_link_sig(db, ticket_id, sig);
  const char *num = reference[0] == '#' ? reference + 1 : reference;
  size_t n = bl + strlen(num) + 120;
  char *link = malloc(n);
  if (!link) abort();
  snprintf(link, n, "%s/t/%s?sig=%s", base, num, sig);
  free(base);
  return link;
}

cJSON *tkt_tags_json(struct destek_db *db, int64_t ticket_id)
{
  cJSON *a = cJSON_CreateArray();
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT tag FROM tkt_ticket_tags WHERE ticket_id = ?1 ORDER BY tag");
  if (!st) return a;
  tkt_db_bind(st, "i", ticket_id);
  while (sqlite3_step(st) == SQLITE_ROW)
    cJSON_AddItemToArray(a, cJSON_CreateString((const char *)sqlite3_column_text(st, 0)));
  tkt_db_done(st);
  return a;
}

/* The standard payload of a ticket's events (EVENTS.md). */
static cJSON *event_payload_new(struct destek_db *db, int64_t ticket_id)
{
  sqlite3_stmt *st = tkt_db_prepare(db,
    "SELECT t.reference, t.subject, t.status, t.priority, t.channel, t.assignee_id, t.team_id, c.id, c.email,"
    " c.name, c.lang, t.tags_json FROM tkt_tickets t JOIN core_contacts c ON c.id = t.customer_id WHERE t.id = ?1");
  if (!st) return NULL;
  tkt_db_bind(st, "i", ticket_id);
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
    /* tags_json: the copy of the tags kept with them (tickets.c), in tag order as tkt_tags_json gives them */
    cJSON *tags = cJSON_Parse((const char *)sqlite3_column_text(st, 11));
    cJSON_AddItemToObject(o, "tags", cJSON_IsArray(tags) ? tags : (cJSON_Delete(tags), cJSON_CreateArray()));
  }
  tkt_db_done(st);
  return o;
}

int tkt_emit(struct destek_req *r, const char *event, int64_t ticket_id, cJSON *extra)
{
  cJSON *p = event_payload_new(tkt_db_read(r), ticket_id);
  if (!p) {
    cJSON_Delete(extra);
    return tkt_error(r, 500, "internal", "the ticket's event could not be built");
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
  return tkt_host->emit(r, event, subject, p);
}

/* Creates the key that signs customers' ticket links on first start. */
static int ensure_link_key(void)
{
  struct destek_req *c = tkt_call_new();
  struct destek_db *w = tkt_db_write(c);
  int ok = w != NULL;
  if (ok && !tkt_db_int(w, 0, "SELECT count(*) FROM tkt_secrets WHERE name = 'link_key'", "")) {
    unsigned char raw[32];
    char hex[65];
    tkt_random(raw, sizeof raw);
    util_hex(raw, sizeof raw, hex);
    ok = tkt_db_exec(w, "INSERT INTO tkt_secrets(name, value) VALUES ('link_key', ?1)", "t", hex) == SQLITE_OK;
  }
  char *key = ok ? tkt_db_text_new(w, "SELECT value FROM tkt_secrets WHERE name = 'link_key'", "") : NULL;
  if (key) snprintf(link_key, sizeof link_key, "%s", key);
  free(key);
  return tkt_call_end(c, ok && link_key[0]) == 0 ? 0 : -1;
}

static int ticketing_init(const struct destek_host *host)
{
  tkt_host = host;
  const struct destek_route *tables[] = { tkt_ticket_routes, tkt_list_routes, tkt_ops_routes, tkt_customer_routes, tkt_team_routes,
                                          tkt_public_routes, tkt_attachment_routes, tkt_presence_routes };
  /* The nouns of its events (EVENTS.md): no Lua plugin may emit ticket.created, message.added, sla.breached, ... */
  static const char *const event_nouns[] = { "ticket", "message", "customer", "sla", NULL };
  if (host->events(host, event_nouns) != 0) return -1;
  if (host->settings(host, settings) != 0 || tkt_search_init() != 0) return -1;
  for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
    if (host->routes(host, tables[i]) != 0) return -1;
  if (tkt_sla_init(host) != 0 || tkt_triggers_init(host) != 0 || host->routes(host, tkt_macro_routes) != 0) return -1;
  if (tkt_mail_init(host) != 0 || tkt_live_init() != 0 || tkt_services_init(host) != 0 || tkt_mail_send_init(host) != 0 || tkt_rating_init(host) != 0 || tkt_teams_init(host) != 0 ||
      tkt_contacts_init() != 0)
    return -1;
  if (tkt_drafts_init(host) != 0 || tkt_sending_init(host) != 0 || tkt_snooze_init(host) != 0 ||
      tkt_notify_init(host) != 0 || tkt_report_init(host) != 0 || tkt_views_init(host) != 0)
    return -1;
  /* The customer portal's pages (plugins/ticketing/web/portal/index.js): the web form, and a ticket's page from the
   * link in our mails, which is one customer's conversation and kept out of search engines. */
  if (host->portal_page(host, "/contact", 0) != 0 || host->portal_page(host, "/t/{number}", DESTEK_PORTAL_NOINDEX) != 0)
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
