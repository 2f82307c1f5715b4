/* destek orders demo: orders and shipments in every state for the demo shop (Anadolu Tekstil, towels and
 * bathrobes), for the customers `destek demo` made (the core's contacts with an e-mail address), so that the order
 * panel beside their tickets and the tracking page have something to show. Written through the module's own upsert
 * and shipment functions, so events and contacts are what the receivers make. Deterministic: the same desk gets the
 * same orders. */
#include "orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "destek_util.h"

static const struct { const char *sku, *name, *variant; int price; } CATALOGUE[] = {
  { "HV-50-BYZ", "Pamuklu el havlusu", "50x90 / Beyaz", 14990 },
  { "HV-70-LCV", "Banyo havlusu", "70x140 / Lacivert", 27990 },
  { "BRN-L-GRI", "Waffle bornoz", "L / Gri", 64990 },
  { "BRN-M-BYZ", "Kadife bornoz", "M / Beyaz", 74990 },
  { "PST-PLJ", "Peştemal", "Çizgili / Turuncu", 19990 },
  { "SET-4", "Havlu seti (4 parça)", "Bej", 89990 },
};
static const char *const CARRIERS[] = { "Yurtiçi Kargo", "Aras Kargo", "MNG Kargo", "PTT Kargo", "Sürat Kargo",
                                        "HepsiJet", "Trendyol Express", "Kolay Gelsin", "UPS" };
static const char *const PROVINCES[][2] = { { "İstanbul", "Kadıköy" }, { "Ankara", "Çankaya" }, { "İzmir", "Bornova" },
                                            { "Bursa", "Nilüfer" }, { "Antalya", "Muratpaşa" }, { "Eskişehir", "Tepebaşı" } };
/* The life of a shipment, step by step (the last is where it stands). */
static const char *const PATHS[][5] = {
  { NULL }, { "InfoReceived", NULL }, { "InfoReceived", "InTransit", NULL },
  { "InfoReceived", "InTransit", "OutForDelivery", NULL }, { "InfoReceived", "InTransit", "OutForDelivery", "Delivered", NULL },
  { "InfoReceived", "InTransit", "OutForDelivery", "AttemptFail", NULL },
  { "InfoReceived", "InTransit", "AvailableForPickup", NULL }, { "InfoReceived", "InTransit", "Exception", NULL },
  { "InfoReceived", "Expired", NULL },
};
static const char *const WHERE[] = { "Tuzla Aktarma", "Ankara Transfer", "İzmir Aktarma", "Dağıtım şubesi", "Şube", "" };

static unsigned long rnd_state = 12345;
static unsigned rnd(unsigned n) { rnd_state = rnd_state * 6364136223846793005UL + 1442695040888963407UL; return (unsigned)((rnd_state >> 33) % n); }

static void iso_at(time_t t, char out[21]) { util_iso_time(t, out); }

/* One order for contact (email, name), its number n, placed `days` ago, in the life `path`. 0 or -1. */
static int one_order(const char *email, const char *name, int n, int days, int path, FILE *out)
{
  time_t placed = time(NULL) - (time_t)days * 86400 - rnd(36000);
  char placed_at[21], number[24], promised[11];
  iso_at(placed, placed_at);
  snprintf(number, sizeof number, "AT-%d", 10400 + n);
  time_t promise = placed + 2 * 86400;
  struct tm tm;
  gmtime_r(&promise, &tm);
  strftime(promised, sizeof promised, "%Y-%m-%d", &tm);
  int final = PATHS[path][0] != NULL;
  const char *status = path == 0 ? (days > 3 ? "processing" : n % 5 == 0 ? "pending" : "processing")
                     : path == 4 ? "completed" : path == 7 && n % 2 ? "on_hold" : "shipped";
  if (path == 0 && n % 11 == 0) status = "cancelled";
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "number", number);
  cJSON_AddStringToObject(o, "status", status);
  cJSON_AddStringToObject(o, "payment_status", !strcmp(status, "pending") ? "pending" : !strcmp(status, "cancelled") ? "voided" : "paid");
  cJSON_AddStringToObject(o, "placed_at", placed_at);
  if (strcmp(status, "pending")) cJSON_AddStringToObject(o, "paid_at", placed_at);
  if (!strcmp(status, "cancelled")) cJSON_AddStringToObject(o, "cancelled_at", placed_at);
  cJSON_AddStringToObject(o, "promised_dispatch_date", promised);
  cJSON *c = cJSON_AddObjectToObject(o, "customer");
  cJSON_AddStringToObject(c, "email", email);
  if (name) cJSON_AddStringToObject(c, "name", name);
  cJSON *a = cJSON_AddObjectToObject(o, "shipping_address");
  int p = (int)rnd(sizeof PROVINCES / sizeof *PROVINCES);
  if (name) cJSON_AddStringToObject(a, "name", name);
  cJSON_AddStringToObject(a, "province", PROVINCES[p][0]);
  cJSON_AddStringToObject(a, "district", PROVINCES[p][1]);
  cJSON_AddStringToObject(a, "country", "TR");
  cJSON_AddStringToObject(o, "shipping_method", "Standart kargo");
  cJSON *items = cJSON_AddArrayToObject(o, "items");
  int64_t total = 0;
  for (unsigned i = 0, k = 1 + rnd(3); i < k; i++) {
    int pick = (int)rnd(sizeof CATALOGUE / sizeof *CATALOGUE), q = 1 + (int)rnd(2);
    cJSON *it = cJSON_CreateObject();
    cJSON_AddStringToObject(it, "sku", CATALOGUE[pick].sku);
    cJSON_AddStringToObject(it, "name", CATALOGUE[pick].name);
    cJSON_AddStringToObject(it, "variant", CATALOGUE[pick].variant);
    cJSON_AddNumberToObject(it, "quantity", q);
    cJSON_AddNumberToObject(it, "price_minor", CATALOGUE[pick].price);
    cJSON_AddItemToArray(items, it);
    total += (int64_t)CATALOGUE[pick].price * q;
  }
  cJSON_AddNumberToObject(o, "total_minor", (double)total);
  cJSON_AddStringToObject(o, "updated_at", placed_at);
  struct destek_req *call = ord_call_new();
  enum ord_outcome outcome;
  int64_t id;
  int rc = ord_upsert(call, "api", 0, o, &outcome, &id);
  cJSON_Delete(o);
  if (!rc && final) {
    char tracking[24];
    snprintf(tracking, sizeof tracking, "%012u", 100000000u + (unsigned)n * 7919u);
    const char *carrier = CARRIERS[n % (int)(sizeof CARRIERS / sizeof *CARRIERS)];
    time_t at = placed + 20 * 3600;
    for (int step = 0; !rc && PATHS[path][step]; step++, at += 14 * 3600 + rnd(20000)) {
      cJSON *s = cJSON_CreateObject();
      char when[21];
      iso_at(at, when);
      cJSON_AddStringToObject(s, "carrier", carrier);
      cJSON_AddStringToObject(s, "tracking_number", tracking);
      cJSON_AddStringToObject(s, "status", PATHS[path][step]);
      cJSON_AddStringToObject(s, "at", when);
      cJSON_AddStringToObject(s, "updated_at", when);
      const char *loc = WHERE[rnd(sizeof WHERE / sizeof *WHERE)];
      if (*loc) cJSON_AddStringToObject(s, "location", loc);
      if (!strcmp(PATHS[path][step], "AttemptFail")) cJSON_AddStringToObject(s, "message", "Alıcı adreste bulunamadı");
      if (!strcmp(PATHS[path][step], "Exception")) cJSON_AddStringToObject(s, "message", "Paket hasarlı, göndericiye bilgi verildi");
      rc = ord_shipment_put(call, id, "api", s, NULL);
      cJSON_Delete(s);
    }
  }
  if (rc) {
    cJSON *e = ord_error_object(call);
    fprintf(out, "order %s: %s\n", number, e ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message")) : "failed");
    ord_call_end(call, 0);
    return -1;
  }
  return ord_call_end(call, 1);
}

int ord_demo_fill(int force, FILE *out)
{
  struct destek_db *db = ord_db_read(NULL);
  if (!db) { fprintf(out, "the store cannot be opened\n"); return 1; }
  if (!force && ord_db_int(db, 0, "SELECT count(*) FROM orders_orders", "")) {
    fprintf(out, "this desk has orders already; --force adds the demo orders beside them\n");
    return 1;
  }
  /* The demo's customers: the core's live contacts with an e-mail address, oldest first. */
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT email, name FROM core_contacts WHERE email IS NOT NULL AND"
                                        " merged_into IS NULL AND erased_at IS NULL ORDER BY id LIMIT 60");
  if (!st) { fprintf(out, "the contacts cannot be read\n"); return 1; }
  char *emails[60], *names[60];
  int people = 0;
  while (people < 60 && sqlite3_step(st) == SQLITE_ROW) {
    emails[people] = strdup((const char *)sqlite3_column_text(st, 0));
    names[people] = sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL : strdup((const char *)sqlite3_column_text(st, 1));
    people++;
  }
  ord_db_done(st);
  if (!people) {
    fprintf(out, "no customers yet: run `destek demo` first (the orders are theirs)\n");
    return 1;
  }
  int base = (int)ord_db_int(db, 0, "SELECT count(*) FROM orders_orders", "");
  int made = 0, failed = 0, n = base;
  rnd_state = 12345 + (unsigned long)base;
  const int paths = (int)(sizeof PATHS / sizeof *PATHS);
  for (int i = 0; i < people; i++) {
    for (unsigned k = 0, m = 1 + (i % 3); k < m; k++, n++) {
      int path = (n - base) % paths, days = path == 0 ? (int)rnd(5) : 2 + path + (int)rnd(10);
      if (one_order(emails[i], names[i], n, days, path, out) == 0) made++;
      else failed++;
    }
    free(emails[i]);
    free(names[i]);
  }
  fprintf(out, "%d demo orders for %d customers (unshipped ones, and shipments in every status from InfoReceived to Expired)%s\n", made, people,
          failed ? "; some failed (above)" : "");
  fprintf(out, "tracking page: /track (e.g. the order number AT-%d and its customer's e-mail)\n", 10400 + base);
  return failed ? 1 : 0;
}

/* orders.demo {force}: the orders module's part of `destek demo`, which runs every module's "<module>.demo" service
 * after ticketing's demo (core/commands.c). The orders are written in calls of their own (the host's call stays
 * empty). A desk that has orders already is left as it is, unless force. */
static int svc_demo(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  int force = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "force"));
  struct destek_db *db = ord_db_read(NULL);
  *result = cJSON_CreateObject();
  if (!force && db && ord_db_int(db, 0, "SELECT count(*) FROM orders_orders", "")) {
    cJSON_AddStringToObject(*result, "message", "orders: left as they are (the desk has orders)");
    return 0;
  }
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  if (!out) abort();
  int code = ord_demo_fill(force, out);
  fclose(out);
  while (len && text[len - 1] == '\n') text[--len] = 0;
  if (code != 0) {
    ord_log(DESTEK_LOG_ERROR, "demo orders: %s", text);
    free(text);
    cJSON_Delete(*result);
    *result = NULL;
    return ord_error(call, 500, "internal", "the demo orders could not be made");
  }
  char *message = NULL;
  if (asprintf(&message, "orders: %s", text) < 0) abort();
  cJSON_AddStringToObject(*result, "message", message);
  free(message);
  free(text);
  return 0;
}

int ord_demo_init(const struct destek_host *h)
{
  return h->service(h, "orders.demo", svc_demo, NULL);
}
