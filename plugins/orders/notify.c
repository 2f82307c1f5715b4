/* The customer's choice of channel for an order's notices, and the notices sent on WhatsApp (issue 16).
 *
 * The choice is a fact recorded on the order, never inferred from a phone number: orders_notify_choices holds the
 * channel ("whatsapp" or "email"), the WhatsApp number, where it was made and when. It comes
 *   - from the shop's checkout, in the order's data: `notify: {channel: "whatsapp", phone?: "+90 532 ...",
 *     chosen_at?}` on PUT /api/v1/orders/{number} (the phone defaults to the order's own: the number the customer
 *     typed beside the checkbox); source "checkout". A later version of the order from the shop never overrides a
 *     choice the customer made since through an agent;
 *   - from an agent who records what the customer asked for: PUT /api/v1/orders/{number}/notify {channel, phone?};
 *     source "agent";
 *   - from the customer on the tracking page (track.c), once the order was looked up with its number and the phone on
 *     it: "send the notices on WhatsApp" to that number, or back to e-mail; source "tracking_page". The number is the
 *     one the customer typed and the order holds (no other number can be entered there); looked up with the e-mail,
 *     the page asks for the phone instead.
 * The notices of an order whose choice is WhatsApp go out as the approved template the admin mapped to the notice's
 * kind (orders.wa_template_<kind>: "name:language:parameters", several languages joined with ";"), through the chat
 * module's service chat.whatsapp_template_send, as service messages; without the chat module, without a template for
 * the kind, or when the service refuses, they are mailed as before and the notice says why. A template that WhatsApp
 * refuses for good (event whatsapp.message_failed) is mailed then, with the reason logged and kept on the notice. */
#include "orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destek_util.h"

static const struct destek_setting notify_settings[] = {
  { "orders.wa_template_shipped", DESTEK_SETTING_STRING, "", 0,
    "WhatsApp template for \"shipped\" when the customer chose WhatsApp: name:language:parameters, e.g."
    " \"kargoya_verildi:tr:number,carrier,tracking_url\" (parameters: number, carrier, tracking_number, tracking_url,"
    " date, name, shop); several languages joined with \";\"; empty: mail" },
  { "orders.wa_template_out_for_delivery", DESTEK_SETTING_STRING, "", 0,
    "WhatsApp template for \"out for delivery\" (as orders.wa_template_shipped); empty: mail" },
  { "orders.wa_template_delivered", DESTEK_SETTING_STRING, "", 0,
    "WhatsApp template for \"delivered\" (as orders.wa_template_shipped); empty: mail" },
  { "orders.wa_template_exception", DESTEK_SETTING_STRING, "", 0,
    "WhatsApp template for a carrier's problem (as orders.wa_template_shipped); empty: mail" },
  { "orders.wa_template_delay", DESTEK_SETTING_STRING, "", 0,
    "WhatsApp template for a delay (not shipped by the promised date, no scan, past the ETA; date is the promised"
    " date or the ETA); empty: mail" },
  { 0 }
};

static const char *const PARAMS[] = { "number", "carrier", "tracking_number", "tracking_url", "date", "name", "shop",
                                      NULL };

/* ------------------------------------------------------------------------------------------------ the choice */

int ord_notify_read(struct destek_req *call, const cJSON *order, struct ord_notify *out)
{
  memset(out, 0, sizeof *out);
  const cJSON *n = cJSON_GetObjectItemCaseSensitive(order, "notify");
  if (!n || cJSON_IsNull(n)) return 0;
  if (!cJSON_IsObject(n)) return ord_field_error(call, "invalid_field", "notify", "notify is {channel, phone?, chosen_at?}");
  const char *channel = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(n, "channel"));
  const char *phone = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(n, "phone"));
  const char *at = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(n, "chosen_at"));
  if (!channel || (strcmp(channel, "whatsapp") && strcmp(channel, "email")))
    return ord_field_error(call, "invalid_field", "notify.channel", "notify.channel is whatsapp or email");
  snprintf(out->channel, sizeof out->channel, "%s", channel);
  if (phone && *phone) {
    if (ord_host->contact_normalise("whatsapp", phone, out->phone, sizeof out->phone) != 0)
      return ord_field_error(call, "invalid_field", "notify.phone", "not a WhatsApp number");
  } else if (!strcmp(channel, "whatsapp")) {
    /* The order's own number: the one the customer typed beside the choice. */
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(order, "customer");
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "phone"));
    if (!p) p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(order, "phone"));
    if (!p || ord_host->contact_normalise("whatsapp", p, out->phone, sizeof out->phone) != 0)
      return ord_field_error(call, "missing_field", "notify.phone", "WhatsApp needs the customer's number");
  }
  if (at && *at && ord_time_utc(at, out->chosen_at) != 0)
    return ord_field_error(call, "invalid_field", "notify.chosen_at", "notify.chosen_at must be an ISO-8601 time");
  return 0;
}

int ord_notify_store(struct destek_req *call, struct destek_db *w, int64_t order_id, const struct ord_notify *n,
                     const char *source)
{
  if (!n->channel[0]) return 0;
  char now[21];
  ord_now(now);
  /* The shop's data never overrides what the customer chose since, through an agent or on the tracking page. */
  if (ord_db_exec(w, "INSERT INTO orders_notify_choices(order_id, channel, phone, source, chosen_at, recorded_at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(order_id) DO UPDATE SET channel = excluded.channel,"
                     " phone = excluded.phone, source = excluded.source, chosen_at = excluded.chosen_at,"
                     " recorded_at = excluded.recorded_at WHERE excluded.source <> 'checkout' OR source = 'checkout'",
                  "itttt" "t", order_id, n->channel, n->phone[0] ? n->phone : NULL, source,
                  n->chosen_at[0] ? n->chosen_at : now, now) != SQLITE_OK)
    return ord_error(call, 500, "internal", "the customer's choice of channel could not be saved");
  return 0;
}

cJSON *ord_notify_json(struct destek_db *db, int64_t order_id)
{
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT channel, phone, source, chosen_at FROM orders_notify_choices"
                                        " WHERE order_id = ?1");
  if (!st) return cJSON_CreateNull();
  ord_db_bind(st, "i", order_id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    const char *names[] = { "channel", "phone", "source", "chosen_at" };
    for (int i = 0; i < 4; i++) {
      const char *v = (const char *)sqlite3_column_text(st, i);
      if (v) cJSON_AddStringToObject(o, names[i], v); else cJSON_AddNullToObject(o, names[i]);
    }
  }
  ord_db_done(st);
  return o ? o : cJSON_CreateNull();
}

/* PUT /api/v1/orders/{number}/notify {channel, phone?} (agent): the customer's choice as they told an agent. */
static int notify_put(struct destek_req *r)
{
  cJSON *body;
  int rc = ord_body(r, &body);
  if (rc) return rc;
  struct destek_db *db = ord_db_read(r);
  int64_t oid = ord_order_by_number(db, ord_param(r, "number"));
  if (!oid) return ord_error(r, 404, "not_found", "no such order");
  cJSON *shape = cJSON_CreateObject();
  cJSON_AddItemToObject(shape, "notify", cJSON_Duplicate(body, 1));
  char *phone = ord_db_text_new(db, "SELECT phone FROM orders_orders WHERE id = ?1", "i", oid);
  if (phone) {
    char plus[40];
    snprintf(plus, sizeof plus, "+%s", phone);
    cJSON_AddStringToObject(shape, "phone", plus);
  }
  free(phone);
  struct ord_notify n;
  rc = ord_notify_read(r, shape, &n);
  cJSON_Delete(shape);
  if (rc) return rc;
  if ((rc = ord_field_error_if_unset(r, &n))) return rc;
  struct destek_db *w = ord_db_write(r);
  if (!w) return ord_status(r);
  if ((rc = ord_notify_store(r, w, oid, &n, "agent"))) return rc;
  char target[40];
  snprintf(target, sizeof target, "order:%lld", (long long)oid);
  cJSON *detail = cJSON_CreateObject();
  cJSON_AddStringToObject(detail, "channel", n.channel);
  ord_audit(r, "order.notify_channel", target, detail);
  return ord_reply_json(r, 200, ord_notify_json(w, oid));
}

int ord_field_error_if_unset(struct destek_req *r, const struct ord_notify *n)
{
  if (n->channel[0]) return 0;
  return ord_field_error(r, "missing_field", "channel", "channel is whatsapp or email");
}

/* ------------------------------------------------------------------------------------------------ tracking page */

int ord_notify_offered(void)
{
  if (!DESTEK_HOST_HAS(ord_host, services_new)) return 0;
  cJSON *list = ord_host->services_new("chat.whatsapp_template_send");
  int chat = cJSON_GetArraySize(list) > 0;
  cJSON_Delete(list);
  if (!chat) return 0;
  for (const struct destek_setting *s = notify_settings; s->name; s++) {
    char *v = ord_host->setting_new(s->name);
    int set = v && *v;
    free(v);
    if (set) return 1;
  }
  return 0;
}

int ord_notify_from_page(struct destek_req *r, int64_t order_id, const char *channel, const char *phone_digits)
{
  struct ord_notify n = { 0 };
  snprintf(n.channel, sizeof n.channel, "%s", channel);
  if (!strcmp(channel, "whatsapp")) {
    char plus[40];
    snprintf(plus, sizeof plus, "+%s", phone_digits ? phone_digits : "");
    if (!phone_digits || ord_host->contact_normalise("whatsapp", plus, n.phone, sizeof n.phone) != 0) return -1;
  }
  struct destek_db *w = ord_db_write(r);
  if (!w || ord_notify_store(r, w, order_id, &n, "tracking_page") != 0) return -1;
  return 0;
}

/* ------------------------------------------------------------------------------------------------ sending */

/* The mapping of setting for lang: the entry of that language, else the first. 0 and name, language and the list of
 * parameter names (comma-separated) filled, 1 when the setting is empty, -1 when it is malformed. */
static int mapping_of(const char *setting, const char *lang, char name[200], char language[16], char params[400])
{
  char *v = ord_host->setting_new(setting);
  int rc = 1;
  name[0] = language[0] = params[0] = 0;
  if (v && *v) {
    rc = -1;
    char *save = NULL;
    for (char *e = strtok_r(v, ";", &save); e; e = strtok_r(NULL, ";", &save)) {
      while (*e == ' ') e++;
      char n[200] = "", l[16] = "", p[400] = "";
      if (sscanf(e, "%199[^:]:%15[^:]:%399[^\n]", n, l, p) < 2 || !n[0]) continue;
      for (char *q = l + strlen(l); q > l && q[-1] == ' '; q--) q[-1] = 0;
      if (rc != 0 || !strcmp(l, lang)) {
        int first = rc != 0;
        snprintf(name, 200, "%s", n);
        snprintf(language, 16, "%s", l);
        snprintf(params, 400, "%s", p);
        rc = 0;
        if (!first || !strcmp(l, lang)) break;
      }
    }
  }
  free(v);
  return rc;
}

int ord_notice_whatsapp(struct destek_req *call, int64_t notice_id, int64_t order_id, int64_t contact_id,
                        const char *kind, const char *lang, const struct ord_notice_fields *f, int64_t *wa_message_id,
                        char *why, size_t whylen)
{
  *wa_message_id = 0;
  struct destek_db *db = ord_db_read(call);
  char *channel = ord_db_text_new(db, "SELECT channel FROM orders_notify_choices WHERE order_id = ?1", "i", order_id);
  char *phone = ord_db_text_new(db, "SELECT phone FROM orders_notify_choices WHERE order_id = ?1", "i", order_id);
  int chose = channel && !strcmp(channel, "whatsapp") && phone;
  free(channel);
  if (!chose) { free(phone); return 0; }
  char setting[64], name[200], language[16], params[400];
  snprintf(setting, sizeof setting, "orders.wa_template_%s", ord_notice_is_delay(kind) ? "delay" : kind);
  int m = mapping_of(setting, lang, name, language, params);
  if (m != 0) {
    snprintf(why, whylen, m > 0 ? "the customer chose WhatsApp, but %s is empty"
                                : "the customer chose WhatsApp, but %s is malformed", setting);
    free(phone);
    return -1;
  }
  cJSON *values = cJSON_CreateArray();
  char list[400];
  snprintf(list, sizeof list, "%s", params);
  char *save = NULL;
  for (char *p = strtok_r(list, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
    const char *v = NULL;
    int known = 0;
    for (int i = 0; PARAMS[i]; i++) if (!strcmp(PARAMS[i], p)) known = 1;
    if (!known) {
      snprintf(why, whylen, "the customer chose WhatsApp, but %s names an unknown parameter %.40s", setting, p);
      cJSON_Delete(values);
      free(phone);
      return -1;
    }
    v = !strcmp(p, "number") ? f->number : !strcmp(p, "carrier") ? f->carrier : !strcmp(p, "tracking_number")
      ? f->tracking_number : !strcmp(p, "tracking_url") ? f->tracking_url : !strcmp(p, "date") ? f->date
      : !strcmp(p, "name") ? f->name : f->shop;
    cJSON_AddItemToArray(values, cJSON_CreateString(v && *v ? v : "-"));   /* WhatsApp refuses an empty parameter */
  }
  char ref[48], summary[600];
  snprintf(ref, sizeof ref, "orders.notice:%lld", (long long)notice_id);
  snprintf(summary, sizeof summary, "Sipariş #%s bildirimi WhatsApp ile (%s, şablon %s/%s) / Order #%s notice on"
           " WhatsApp (%s, template %s/%s)", f->number ? f->number : "", kind, name, language,
           f->number ? f->number : "", kind, name, language);
  cJSON *args = cJSON_CreateObject(), *res = NULL;
  cJSON_AddNumberToObject(args, "contact_id", (double)contact_id);
  cJSON_AddStringToObject(args, "phone", phone);
  cJSON *t = cJSON_AddObjectToObject(args, "template");
  cJSON_AddStringToObject(t, "name", name);
  cJSON_AddStringToObject(t, "language", language);
  cJSON_AddItemToObject(t, "parameters", values);
  cJSON_AddStringToObject(args, "ref", ref);
  cJSON_AddStringToObject(args, "summary", summary);
  cJSON_AddFalseToObject(args, "commercial");   /* an order's notice: a service message, nothing promotional */
  free(phone);
  int rc = ord_call_service(call, "chat.whatsapp_template_send", args, &res);
  cJSON_Delete(args);
  if (rc == 0) {
    *wa_message_id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(res, "id"));
    cJSON_Delete(res);
    return 1;
  }
  cJSON *e = ord_error_object(call);
  const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
  snprintf(why, whylen, rc == 501 ? "the customer chose WhatsApp, but the chat module is not there"
                                  : "the customer chose WhatsApp, but it refused (%.200s)", msg ? msg : "?");
  ord_log(DESTEK_LOG_WARN, "orders: notice %lld: %s", (long long)notice_id, why);
  return -1;
}

/* The WhatsApp message's delivery for the notices list: {id, status, error_code, error_title} (new) or NULL. */
cJSON *ord_notice_whatsapp_status_new(struct destek_req *call, int64_t wa_message_id)
{
  cJSON *args = cJSON_CreateObject(), *res = NULL;
  cJSON_AddStringToObject(args, "op", "status");
  cJSON_AddNumberToObject(args, "id", (double)wa_message_id);
  int rc = ord_call_service(call, "chat.whatsapp_template_send", args, &res);
  cJSON_Delete(args);
  if (rc) return NULL;
  return res;
}

static const struct destek_route notify_routes[] = {
  { "PUT", "/api/v1/orders/{number}/notify", notify_put, DESTEK_AGENT, "number:text", 0 },
  { 0 }
};

int ord_notify_init(const struct destek_host *h)
{
  return h->settings(h, notify_settings) || h->routes(h, notify_routes);
}
