/* Automation: the ticket.triage Lua policy, run on every new ticket, and triggers — on an event, when conditions
 * hold (channel, priority, tag, text contains, business hours), do actions (tags, assignee, priority, a reply in the
 * customer's language). Both run as sync subscribers inside the emitting transaction; what they change emits the
 * usual events, but does not fire triggers again (a per-thread guard: one call runs on one thread). */
#include "triggers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "fold.h"
#include "sla.h"
#include "tkt.h"
#include "destek_util.h"

static _Thread_local int running;   /* inside a trigger or the triage: their own changes fire nothing */

/* ------------------------------------------------------------------------------------------------ templates */

/* The variables a customer types (name, subject, order number): TYPED_FIRST and after in the lists below. */
#define TYPED_FIRST 3

/* tkt_template_expand_new; with withhold_typed, the variables the customer typed expand to nothing, and a space left
 * before punctuation or another space goes with them ("Merhaba {{customer.name}}," -> "Merhaba,"). Variables other
 * modules answer (context.c: {{order.number}}, ...) are asked for only when the text holds a name not ticketing's
 * own; they are withheld with the typed ones (an acknowledgement carries only what ticketing itself knows). */
static char *expand_new(struct destek_req *call, struct destek_db *db, const char *tpl, int64_t ticket_id,
                        int64_t agent_id, int withhold_typed)
{
  char *cust = tkt_db_text_new(db, "SELECT c.name FROM tkt_tickets t JOIN core_contacts c ON c.id = t.customer_id"
                               " WHERE t.id = ?1", "i", ticket_id);
  char *ref = tkt_db_text_new(db, "SELECT '#' || reference FROM tkt_tickets WHERE id = ?1", "i", ticket_id);
  char *subject = tkt_db_text_new(db, "SELECT subject FROM tkt_tickets WHERE id = ?1", "i", ticket_id);
  char *order = tkt_db_text_new(db, "SELECT coalesce(order_number, '') FROM tkt_tickets WHERE id = ?1", "i", ticket_id);
  char *agent = agent_id ? tkt_db_text_new(db, "SELECT name FROM core_users WHERE id = ?1", "i", agent_id) : NULL;
  /* {{customer.first_name}}: the first word of the name ("Ayşe" of "Ayşe Yılmaz"), for Turkish greetings
   * ("Merhaba Ayşe Hanım"). {{customer.honorific}} (Bey/Hanım) is the agent's choice in the composer (the macro's
   * rendering keeps it, macros.c); an automatic reply, which nobody chooses for, says nothing there. */
  char first[128] = "";
  if (cust) {
    size_t n = strcspn(cust, " \t");
    if (n >= sizeof first) n = sizeof first - 1;
    memcpy(first, cust, n);
    first[n] = 0;
  }
  enum { OWN = 7, MAX_VARS = 64 };
  const char *names[MAX_VARS] = { "ticket.reference", "agent.name", "customer.honorific", "customer.name",
                                  "customer.first_name", "ticket.subject", "order_number" };
  const char *vals[MAX_VARS] = { ref ? ref : "", agent ? agent : "", "", cust ? cust : "", first,
                                 subject ? subject : "", order ? order : "" };
  int n_vars = OWN;
  cJSON *ctx = call && tkt_context_wanted(tpl, names, OWN) ? tkt_context_new(call, db, ticket_id, "template", NULL) : NULL;
  const cJSON *v, *ctx_vars = cJSON_GetObjectItemCaseSensitive(ctx, "variables");
  cJSON_ArrayForEach(v, ctx_vars) {
    if (n_vars == MAX_VARS) break;
    names[n_vars] = v->string;
    vals[n_vars++] = withhold_typed ? "" : v->valuestring;
  }
  if (withhold_typed)
    for (int i = TYPED_FIRST; i < OWN; i++) vals[i] = "";
  size_t cap = strlen(tpl) + 1, len = 0;
  for (int i = 0; i < n_vars; i++) cap += 8 * strlen(vals[i]);
  char *out = malloc(cap + 1);
  if (!out) abort();
  for (const char *p = tpl; *p;) {
    int done = 0;
    if (p[0] == '{' && p[1] == '{') {
      for (int i = 0; i < n_vars && !done; i++) {
        size_t n = strlen(names[i]);
        if (!strncmp(p + 2, names[i], n) && p[2 + n] == '}' && p[3 + n] == '}') {
          size_t vl = strlen(vals[i]), skip = n + 4;
          char next = p[skip];
          if (!vl && len > 0 && out[len - 1] == ' ' && (!next || strchr(" ,.;:!?)\n", next)))
            len--;    /* "Merhaba {{customer.name}}," -> "Merhaba," */
          else if (!vl && (len == 0 || out[len - 1] == '\n') && next == ' ')
            skip++;   /* "{{order_number}} numaralı" at a line's start */
          if (len + vl + strlen(p) + 1 > cap && !(out = realloc(out, cap = (len + vl + strlen(p)) * 2 + 1))) abort();
          memcpy(out + len, vals[i], vl);
          len += vl;
          p += skip;
          done = 1;
        }
      }
    }
    if (!done) {
      if (len + 2 > cap && !(out = realloc(out, cap *= 2))) abort();
      out[len++] = *p++;
    }
  }
  out[len] = 0;
  cJSON_Delete(ctx);
  free(cust); free(ref); free(subject); free(order); free(agent);
  return out;
}

char *tkt_template_expand_new(struct destek_req *call, struct destek_db *db, const char *tpl, int64_t ticket_id,
                              int64_t agent_id)
{
  return expand_new(call, db, tpl, ticket_id, agent_id, 0);
}

/* ------------------------------------------------------------------------------------------------ triage */

/* Runs the ticket.triage policy on a new ticket: its first returned table may set priority, tags (added),
 * assignee_id and team_id. Values that are not valid are ignored (logged): a policy cannot break a ticket. */
static int triage(struct destek_req *r, struct destek_db *w, int64_t ticket_id)
{
  cJSON *args = cJSON_CreateArray();
  cJSON *t = tkt_ticket_json(w, ticket_id, 0);
  if (!t) { cJSON_Delete(args); return 0; }
  char *body = tkt_db_text_new(w, "SELECT body FROM tkt_messages WHERE ticket_id = ?1 ORDER BY id LIMIT 1", "i", ticket_id);
  cJSON_AddStringToObject(t, "body", body ? body : "");
  /* What other modules know (context.c): the order and its shipment, say; never in place of ticketing's members. */
  cJSON *ctx = tkt_context_new(r, w, ticket_id, "triage", body);
  free(body);
  const cJSON *fact;
  cJSON_ArrayForEach(fact, cJSON_GetObjectItemCaseSensitive(ctx, "facts"))
    if (!cJSON_GetObjectItemCaseSensitive(t, fact->string))
      cJSON_AddItemToObject(t, fact->string, cJSON_Duplicate(fact, 1));
  cJSON_Delete(ctx);
  cJSON_AddItemToArray(args, t);
  cJSON *out = tkt_decide_new(r, "ticket.triage", args);
  cJSON_Delete(args);
  const cJSON *o = out ? cJSON_GetArrayItem(out, 0) : NULL;
  int rc = 0;
  if (cJSON_IsObject(o)) {
    struct tkt_changes c = { 0 };
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "priority");
    for (int i = 0; cJSON_IsString(v) && TKT_PRIORITIES[i]; i++)
      if (!strcmp(v->valuestring, TKT_PRIORITIES[i])) c.priority = TKT_PRIORITIES[i];
    cJSON *tags = cJSON_CreateArray();
    const cJSON *tg;
    cJSON_ArrayForEach(tg, cJSON_GetObjectItemCaseSensitive(o, "tags"))
      if (cJSON_IsString(tg) && *tg->valuestring && strlen(tg->valuestring) <= TKT_TAG_MAX && !strchr(tg->valuestring, ','))
        cJSON_AddItemToArray(tags, cJSON_CreateString(tg->valuestring));
    if (cJSON_GetArraySize(tags)) c.add_tags = tags;
    v = cJSON_GetObjectItemCaseSensitive(o, "assignee_id");
    if (cJSON_IsNumber(v) && tkt_db_int(w, 0, "SELECT count(*) FROM core_users WHERE id = ?1 AND active = 1", "i",
                                    (int64_t)v->valuedouble)) {
      c.set_assignee = 1;
      c.assignee_id = (int64_t)v->valuedouble;
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "team_id");
    if (cJSON_IsNumber(v) && tkt_db_int(w, 0, "SELECT count(*) FROM tkt_teams WHERE id = ?1", "i", (int64_t)v->valuedouble)) {
      c.set_team = 1;
      c.team_id = (int64_t)v->valuedouble;
    }
    if (c.priority || c.add_tags || c.set_assignee || c.set_team) rc = tkt_apply_changes(r, w, ticket_id, &c, "system");
    cJSON_Delete(tags);
  }
  cJSON_Delete(out);
  return rc;
}

/* ------------------------------------------------------------------------------------------------ triggers */

static int contains_folded(const char *hay, const char *needle)
{
  char *h = tkt_fold_new(hay, strlen(hay)), *n = tkt_fold_new(needle, strlen(needle));
  int found = strstr(h, n) != NULL;
  free(h);
  free(n);
  return found;
}

/* 1 when every condition holds for the ticket (the event's payload) and the text (subject + the message). */
static int conditions_hold(struct destek_db *w, const cJSON *cond, const cJSON *p, int64_t ticket_id, const char *text)
{
  const cJSON *v;
  const char *fields[] = { "channel", "priority" };
  for (int i = 0; i < 2; i++) {
    v = cJSON_GetObjectItemCaseSensitive(cond, fields[i]);
    const cJSON *have = cJSON_GetObjectItemCaseSensitive(p, fields[i]);
    if (cJSON_IsString(v) && (!cJSON_IsString(have) || strcmp(v->valuestring, have->valuestring))) return 0;
  }
  if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(cond, "tag")) &&
      !tkt_db_int(w, 0, "SELECT count(*) FROM tkt_ticket_tags WHERE ticket_id = ?1 AND tag = ?2", "it", ticket_id,
              v->valuestring))
    return 0;
  if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(cond, "contains")) && !contains_folded(text, v->valuestring))
    return 0;
  if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(cond, "message_kind"))) {
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "message"), "kind");
    if (!cJSON_IsString(k) || strcmp(k->valuestring, v->valuestring)) return 0;
  }
  if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(cond, "actor"))) {
    /* who made the change: "customer" (public form, e-mail, signed link), "agent" (a user), "system" */
    const cJSON *actor = cJSON_GetObjectItemCaseSensitive(p, "actor");
    const char *who = !cJSON_IsString(actor) ? "system" : !strncmp(actor->valuestring, "customer:", 9) ? "customer"
                      : !strncmp(actor->valuestring, "user:", 5) ? "agent" : "system";
    if (strcmp(v->valuestring, who)) return 0;
  }
  /* score_max / score_min: the rating of a ticket.rated event at most / at least n (no rating: not met). */
  const cJSON *score = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "rating"), "score");
  if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(cond, "score_max")) &&
      !(cJSON_IsNumber(score) && score->valuedouble <= v->valuedouble))
    return 0;
  if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(cond, "score_min")) &&
      !(cJSON_IsNumber(score) && score->valuedouble >= v->valuedouble))
    return 0;
  if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(cond, "business_hours"))) {
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(cond, "calendar_id");
    int64_t cal_id = cJSON_IsNumber(cid) ? (int64_t)cid->valuedouble : tkt_calendar_default_id(w);
    char err[SLA_ERR_MAX] = "";
    struct sla_calendar *cal = cal_id ? tkt_calendar_load_new(w, cal_id, err) : NULL;
    if (!cal) {
      tkt_log(DESTEK_LOG_WARN, "trigger: calendar %lld unusable (%s)", (long long)cal_id, err);
      return 0;
    }
    int open = sla_is_open(cal, tkt_sla_now());
    sla_calendar_free(cal);
    if (open != !strcmp(v->valuestring, "open")) return 0;
  }
  return 1;
}

/* Whether a trigger's status action may move a ticket from -> to (to is "open" or "pending"): never a closed
 * ticket (final: only the customer's message reopens it, tickets.c), and a solved one only back to open. */
static int status_move_ok(const char *from, const char *to)
{
  if (!strcmp(from, "closed")) return 0;
  if (!strcmp(from, "solved")) return !strcmp(to, "open");
  return 1;
}

static int actions_run(struct destek_req *r, struct destek_db *w, const cJSON *act, const struct destek_event *ev,
                       int64_t ticket_id)
{
  const cJSON *p = ev->payload;
  struct tkt_changes c = { 0 };
  const cJSON *v;
  if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(act, "priority"))) c.priority = v->valuestring;
  /* status: "open" reopens a solved ticket (a bad score); a status the ticket cannot move to is left alone. */
  if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(act, "status"))) {
    char *now_status = tkt_db_text_new(w, "SELECT status FROM tkt_tickets WHERE id = ?1", "i", ticket_id);
    if (now_status && strcmp(now_status, v->valuestring) && status_move_ok(now_status, v->valuestring))
      c.status = v->valuestring;
    free(now_status);
  }
  if (cJSON_IsArray(v = cJSON_GetObjectItemCaseSensitive(act, "add_tags"))) c.add_tags = v;
  if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(act, "assignee_id"))) {
    c.set_assignee = 1;
    c.assignee_id = (int64_t)v->valuedouble;
  }
  /* assign_round_robin: the ticket goes to that team and to its next online member (round-robin, teams.c), or
   * stays in the team's queue when no member may take it. */
  if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(act, "assign_round_robin"))) {
    int64_t team_id = (int64_t)v->valuedouble;
    if (tkt_db_int(w, 0, "SELECT count(*) FROM tkt_teams WHERE id = ?1", "i", team_id)) {
      int64_t pick = tkt_team_pick(r, w, team_id);
      if (pick < 0) return tkt_error(r, 500, "internal", "internal error");
      c.set_team = 1;
      c.team_id = team_id;
      if (pick > 0) {
        c.set_assignee = 1;
        c.assignee_id = pick;
      }
    }
  }
  int rc = 0;
  if ((c.status || c.priority || c.add_tags || c.set_assignee || c.set_team) && (rc = tkt_apply_changes(r, w, ticket_id, &c, "system")))
    return rc;
  /* The reply answers the customer who acted, in that customer's part of the thread (after a merge of several
   * customers' tickets, not always the ticket's customer): their language, their ticket's reference and subject. */
  const cJSON *actor = cJSON_GetObjectItemCaseSensitive(p, "actor");
  int64_t part = 0;
  if (cJSON_IsString(actor) && !strncmp(actor->valuestring, "customer:", 9))
    part = tkt_part_of(w, ticket_id, strtoll(actor->valuestring + 9, NULL, 10));
  if (!part) part = ticket_id;
  char *lang = tkt_db_text_new(w, "SELECT c.lang FROM tkt_tickets t JOIN core_contacts c ON c.id = t.customer_id"
                              " WHERE t.id = ?1", "i", part);
  int en = lang && !strcmp(lang, "en");
  free(lang);
  const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(act, en ? "reply_en" : "reply_tr");
  if (!cJSON_IsString(tpl)) tpl = cJSON_GetObjectItemCaseSensitive(act, en ? "reply_tr" : "reply_en");
  if (cJSON_IsString(tpl) && *tpl->valuestring) {
    /* Said while the ticket is being opened, when the customer is about to get its acknowledgement: it goes in
     * that mail (mail_out.c), not in a second one. Like the rest of the acknowledgement it carries nothing the
     * sender typed (mail_templates.c): the customer's name, the subject and the order number are left out. The
     * message in the thread is the text that was mailed. The text is for the part (parts.c) of the customer who set
     * the trigger off. */
    int with_ack = !strcmp(ev->name, "ticket.created") && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "ack_needed"));
    char *body = expand_new(r, w, tpl->valuestring, part, 0, with_ack);
    int64_t mid = tkt_message_add(r, w, ticket_id, part, "reply", 0, 0, body, NULL, NULL, "system");
    free(body);
    if (mid < 0) return (int)-mid;
    if (with_ack && tkt_db_exec(w, "UPDATE tkt_messages SET mail_with_ack = 1 WHERE id = ?1", "i", mid) != SQLITE_OK)
      return tkt_error(r, 500, "internal", "the automatic reply could not be saved");
  }
  return 0;
}

static int run_triggers(struct destek_req *r, struct destek_db *w, const struct destek_event *ev, int64_t ticket_id)
{
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT id, conditions, actions FROM tkt_triggers WHERE active = 1 AND event = ?1"
                                   " ORDER BY position, id");
  if (!st) return -1;
  tkt_db_bind(st, "t", ev->name);
  struct { int64_t id; char *cond, *act; } list[64];
  int n = 0;
  while (n < 64 && sqlite3_step(st) == SQLITE_ROW) {
    list[n].id = sqlite3_column_int64(st, 0);
    list[n].cond = strdup((const char *)sqlite3_column_text(st, 1));
    list[n].act = strdup((const char *)sqlite3_column_text(st, 2));
    n++;
  }
  tkt_db_done(st);
  /* The text a "contains" condition looks in, read only when a trigger has one. */
  char *text = NULL;
  for (int i = 0; i < n && !text; i++)
    if (strstr(list[i].cond, "\"contains\""))
      text = tkt_db_text_new(w, "SELECT t.subject || char(10) || coalesce((SELECT body FROM tkt_messages m"
                                " WHERE m.ticket_id = t.id ORDER BY m.id DESC LIMIT 1), '') FROM tkt_tickets t"
                                " WHERE t.id = ?1", "i", ticket_id);
  int rc = 0;
  for (int i = 0; i < n; i++) {
    cJSON *cond = cJSON_Parse(list[i].cond), *act = cJSON_Parse(list[i].act);
    if (!rc && cond && act && conditions_hold(w, cond, ev->payload, ticket_id, text ? text : "")) {
      rc = actions_run(r, w, act, ev, ticket_id);
      if (!rc) {
        char name[32];
        snprintf(name, sizeof name, "trigger:%lld", (long long)list[i].id);
        tkt_history(w, ticket_id, "system", "trigger", NULL, name);
      }
    }
    cJSON_Delete(cond);
    cJSON_Delete(act);
    free(list[i].cond);
    free(list[i].act);
  }
  free(text);
  return rc;
}

static int on_event(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud;
  if (running) return 0;
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev->payload, "id");
  struct destek_db *w = tkt_db_write(call);
  if (!cJSON_IsNumber(id) || !w) return 0;
  int64_t ticket_id = (int64_t)id->valuedouble;
  running = 1;
  int rc = !strcmp(ev->name, "ticket.created") ? triage(call, w, ticket_id) : 0;
  if (!rc) rc = run_triggers(call, w, ev, ticket_id);
  running = 0;
  if (rc) snprintf(err, errlen, "automation failed on this ticket");
  return rc;
}

/* ------------------------------------------------------------------------------------------------ API */

/* ticket.rated: a module that asked the customer for a score told the ticket (rating.c, ticketing.rate). */
static const char *const EVENTS[] = { "ticket.created", "message.added", "ticket.updated", "ticket.rated", NULL };

static cJSON *trigger_json(struct destek_db *db, int64_t id)
{
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT name, position, active, event, conditions, actions, created_at, updated_at"
                                    " FROM tkt_triggers WHERE id = ?1");
  if (!st) return NULL;
  tkt_db_bind(st, "i", id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 0));
    cJSON_AddNumberToObject(o, "position", (double)sqlite3_column_int64(st, 1));
    cJSON_AddBoolToObject(o, "active", sqlite3_column_int(st, 2));
    cJSON_AddStringToObject(o, "event", (const char *)sqlite3_column_text(st, 3));
    cJSON *c = cJSON_Parse((const char *)sqlite3_column_text(st, 4)), *a = cJSON_Parse((const char *)sqlite3_column_text(st, 5));
    cJSON_AddItemToObject(o, "conditions", c ? c : cJSON_CreateObject());
    cJSON_AddItemToObject(o, "actions", a ? a : cJSON_CreateObject());
    cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 6));
    cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 7));
  }
  tkt_db_done(st);
  return o;
}

static int check_conditions(struct destek_req *r, struct destek_db *w, const cJSON *c)
{
  if (!cJSON_IsObject(c)) return tkt_field_error(r, "invalid_field", "conditions", "conditions must be an object");
  const cJSON *v;
  const char *rc_field = NULL;
  cJSON_ArrayForEach(v, c) {
    const char *k = v->string;
    int ok = 0;
    if (!strcmp(k, "channel")) for (int i = 0; cJSON_IsString(v) && TKT_CHANNELS[i]; i++) ok |= !strcmp(v->valuestring, TKT_CHANNELS[i]);
    else if (!strcmp(k, "priority")) for (int i = 0; cJSON_IsString(v) && TKT_PRIORITIES[i]; i++) ok |= !strcmp(v->valuestring, TKT_PRIORITIES[i]);
    else if (!strcmp(k, "tag") || !strcmp(k, "contains")) {
      ok = cJSON_IsString(v) && *v->valuestring && strlen(v->valuestring) <= 200;
      if (ok && !strcmp(k, "tag")) tkt_tag_lower(v->valuestring);   /* tickets' tags are kept lower-case */
    }
    else if (!strcmp(k, "message_kind")) ok = cJSON_IsString(v) && (!strcmp(v->valuestring, "reply") || !strcmp(v->valuestring, "customer") || !strcmp(v->valuestring, "note"));
    else if (!strcmp(k, "actor")) ok = cJSON_IsString(v) && (!strcmp(v->valuestring, "customer") || !strcmp(v->valuestring, "agent") || !strcmp(v->valuestring, "system"));
    else if (!strcmp(k, "business_hours")) ok = cJSON_IsString(v) && (!strcmp(v->valuestring, "open") || !strcmp(v->valuestring, "closed"));
    else if (!strcmp(k, "score_max") || !strcmp(k, "score_min")) ok = cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 10;
    else if (!strcmp(k, "calendar_id")) ok = cJSON_IsNumber(v) && tkt_db_int(w, 0, "SELECT count(*) FROM tkt_calendars WHERE id = ?1", "i", (int64_t)v->valuedouble);
    if (!ok) { rc_field = k; break; }
  }
  if (rc_field) return tkt_field_error(r, "invalid_field", "conditions", "conditions.%s is not valid", rc_field);
  return 0;
}

static int check_actions(struct destek_req *r, struct destek_db *w, const cJSON *a)
{
  if (!cJSON_IsObject(a) || !a->child) return tkt_field_error(r, "invalid_field", "actions", "actions must be a non-empty object");
  const cJSON *v;
  cJSON_ArrayForEach(v, a) {
    const char *k = v->string;
    int ok = 0;
    if (!strcmp(k, "priority")) for (int i = 0; cJSON_IsString(v) && TKT_PRIORITIES[i]; i++) ok |= !strcmp(v->valuestring, TKT_PRIORITIES[i]);
    else if (!strcmp(k, "status")) ok = cJSON_IsString(v) && (!strcmp(v->valuestring, "open") || !strcmp(v->valuestring, "pending"));
    else if (!strcmp(k, "add_tags")) { int rc = tkt_tags_check(r, v, "actions"); if (rc) return rc; ok = 1; }
    else if (!strcmp(k, "assignee_id")) ok = cJSON_IsNumber(v) && tkt_db_int(w, 0, "SELECT count(*) FROM core_users WHERE id = ?1 AND active = 1", "i", (int64_t)v->valuedouble);
    else if (!strcmp(k, "reply_tr") || !strcmp(k, "reply_en")) ok = cJSON_IsString(v) && strlen(v->valuestring) <= TKT_BODY_MAX;
    else if (!strcmp(k, "assign_round_robin")) {
      if (cJSON_GetObjectItemCaseSensitive(a, "assignee_id"))
        return tkt_field_error(r, "invalid_field", "actions", "actions.assign_round_robin and actions.assignee_id"
                               " cannot both be set");
      ok = cJSON_IsNumber(v) && tkt_db_int(w, 0, "SELECT count(*) FROM tkt_teams WHERE id = ?1", "i", (int64_t)v->valuedouble);
    }
    if (!ok) return tkt_field_error(r, "invalid_field", "actions", "actions.%s is not valid", k);
  }
  return 0;
}

static int trigger_save(struct destek_req *r, int64_t id)
{
  cJSON *body;
  int rc, active;
  const char *name, *event;
  if ((rc = tkt_body(r, &body)) ||
      (rc = tkt_field_str(r, body, "name", id ? DESTEK_OPTIONAL : DESTEK_REQUIRED, 100, &name)) ||
      (rc = tkt_field_enum(r, body, "event", id ? DESTEK_OPTIONAL : DESTEK_REQUIRED, EVENTS, &event)) ||
      (rc = tkt_field_bool(r, body, "active", DESTEK_OPTIONAL, &active)))
    return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (id && !tkt_db_int(w, 0, "SELECT count(*) FROM tkt_triggers WHERE id = ?1", "i", id))
    return tkt_error(r, 404, "not_found", "no such trigger");
  const cJSON *cond = cJSON_GetObjectItemCaseSensitive(body, "conditions"), *act = cJSON_GetObjectItemCaseSensitive(body, "actions");
  if (!id && !act) return tkt_field_error(r, "invalid_field", "actions", "actions is required");
  if ((cond && (rc = check_conditions(r, w, cond))) || (act && (rc = check_actions(r, w, act)))) return rc;
  const cJSON *pos = cJSON_GetObjectItemCaseSensitive(body, "position");
  if (pos && !(cJSON_IsNumber(pos) && pos->valuedouble >= 0 && pos->valuedouble <= 1e6))
    return tkt_field_error(r, "invalid_field", "position", "position must be a number from 0 to 1000000");
  int64_t position = pos ? (int64_t)pos->valuedouble : -1;
  char *c = cond ? cJSON_PrintUnformatted(cond) : NULL, *a = act ? cJSON_PrintUnformatted(act) : NULL;
  char now[21];
  tkt_now(now);
  if (!id) {
    rc = tkt_db_exec(w, "INSERT INTO tkt_triggers(name, position, active, event, conditions, actions, created_at, updated_at)"
                    " VALUES (?1, CASE WHEN ?2 < 0 THEN (SELECT coalesce(max(position), 0) + 1 FROM tkt_triggers)"
                    " ELSE ?2 END, ?3, ?4, coalesce(?5, '{}'), ?6, ?7, ?7)", "tiitttt", name, position,
                 (int64_t)(active != 0), event, c, a, now);
    id = tkt_db_last_id(w);
  } else {
    rc = tkt_db_exec(w, "UPDATE tkt_triggers SET name = coalesce(?2, name), position = CASE WHEN ?3 < 0 THEN position"
                    " ELSE ?3 END, active = CASE WHEN ?4 < 0 THEN active ELSE ?4 END, event = coalesce(?5, event),"
                    " conditions = coalesce(?6, conditions), actions = coalesce(?7, actions), updated_at = ?8"
                    " WHERE id = ?1", "itiitttt", id, name, position, (int64_t)active, event, c, a, now);
  }
  cJSON_free(c);
  cJSON_free(a);
  if (rc != SQLITE_OK) return tkt_error(r, 500, "internal", "the trigger could not be saved");
  return 0;
}

static const struct tkt_admin_table TRIGGER_TABLE = {
  "trigger", trigger_json,
  "SELECT id FROM tkt_triggers ORDER BY position, id LIMIT 1000",
  "SELECT count(*) FROM tkt_triggers WHERE id = ?1",
  "DELETE FROM tkt_triggers WHERE id = ?1",
};

static int trigger_list(struct destek_req *r) { return tkt_admin_list(r, &TRIGGER_TABLE); }

static int trigger_create(struct destek_req *r)
{
  int rc = trigger_save(r, 0);
  return rc ? rc : tkt_admin_saved(r, &TRIGGER_TABLE, 0);
}

static int trigger_get(struct destek_req *r) { return tkt_admin_get(r, &TRIGGER_TABLE); }

static int trigger_update(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  int rc = trigger_save(r, id);
  return rc ? rc : tkt_admin_saved(r, &TRIGGER_TABLE, id);
}

static int trigger_delete(struct destek_req *r) { return tkt_admin_delete(r, &TRIGGER_TABLE); }

const struct destek_route tkt_trigger_routes[] = {
  { "GET",    "/api/v1/triggers",      trigger_list,   DESTEK_ADMIN, NULL },
  { "POST",   "/api/v1/triggers",      trigger_create, DESTEK_ADMIN, NULL },
  { "GET",    "/api/v1/triggers/{id}", trigger_get,    DESTEK_ADMIN, "id:int" },
  { "PATCH",  "/api/v1/triggers/{id}", trigger_update, DESTEK_ADMIN, "id:int" },
  { "DELETE", "/api/v1/triggers/{id}", trigger_delete, DESTEK_ADMIN, "id:int" },
  { 0 }
};

int tkt_triggers_init(const struct destek_host *host)
{
  if (host->routes(host, tkt_trigger_routes) != 0) return -1;
  for (int i = 0; EVENTS[i]; i++)
    if (host->on(host, EVENTS[i], DESTEK_SYNC, on_event, NULL) != 0) return -1;
  return 0;
}
