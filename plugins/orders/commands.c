/* destek orders import FILE.csv [--dry-run]: orders from any other platform (T-Soft, Ticimax, a spreadsheet) as
 * CSV, one line item per row (README.md, "CSV import"). Rows of the same number are one order. Every bad line is
 * reported with its number; the good orders are stored (each in its own transaction, through the same upsert as
 * the API), or, with --dry-run, checked the same way and rolled back. */
#include "orders.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CSV_MAX_BYTES (32 * 1024 * 1024)
#define CSV_MAX_FIELDS 64

static const char *const COLUMNS[] = {
  "number", "status", "payment_status", "currency", "total", "shipping_total", "discount_total", "placed_at",
  "paid_at", "cancelled_at", "updated_at", "email", "phone", "customer_name", "province", "district", "address",
  "country", "shipping_method", "promised_dispatch_date", "sku", "item_name", "variant", "quantity", "price",
  "carrier", "tracking_number", "shipment_status", NULL };
enum { C_NUMBER, C_STATUS, C_PAYMENT, C_CURRENCY, C_TOTAL, C_SHIPPING, C_DISCOUNT, C_PLACED, C_PAID, C_CANCELLED,
       C_UPDATED, C_EMAIL, C_PHONE, C_NAME, C_PROVINCE, C_DISTRICT, C_ADDRESS, C_COUNTRY, C_METHOD, C_PROMISED,
       C_SKU, C_ITEM, C_VARIANT, C_QTY, C_PRICE, C_CARRIER, C_TRACKING, C_SHIP_STATUS, C_COUNT };

struct csv { char *p, *end; char delim; long line; };

/* Reads one record into fields (pointers into the buffer, which it rewrites in place). The number of fields, 0 at
 * the end, -1 for a broken quote. *line gets the record's first line number. */
static int csv_record(struct csv *c, char **fields, int max, long *line)
{
  if (c->p >= c->end) return 0;
  *line = c->line;
  int n = 0;
  for (;;) {
    char *out = c->p, *start = c->p;
    if (*c->p == '"') {
      c->p++;
      for (;;) {
        if (c->p >= c->end) return -1;
        if (*c->p == '"') {
          if (c->p + 1 < c->end && c->p[1] == '"') { *out++ = '"'; c->p += 2; continue; }
          c->p++;
          break;
        }
        if (*c->p == '\n') c->line++;
        *out++ = *c->p++;
      }
      while (c->p < c->end && *c->p != c->delim && *c->p != '\n' && *c->p != '\r') c->p++;
    } else {
      while (c->p < c->end && *c->p != c->delim && *c->p != '\n' && *c->p != '\r') c->p++;
      out = c->p;
    }
    char term = c->p < c->end ? *c->p : '\n';
    *out = 0;
    if (n < max) fields[n++] = start;
    if (c->p < c->end) c->p++;
    if (term == c->delim) continue;
    if (term == '\r' && c->p < c->end && *c->p == '\n') c->p++;
    c->line++;
    return n;
  }
}

static int say(char **message, int code, const char *text)
{
  *message = strdup(text);
  if (!*message) abort();
  return code;
}

/* The canonical order of one CSV row (the order's fields), or NULL with err set. */
static cJSON *row_order(char **f, const int *col, char *err, size_t errlen)
{
#define V(c) (col[c] >= 0 && f[col[c]] && f[col[c]][0] ? f[col[c]] : NULL)
  cJSON *o = cJSON_CreateObject();
  if (V(C_NUMBER)) cJSON_AddStringToObject(o, "number", V(C_NUMBER));
  cJSON_AddStringToObject(o, "status", V(C_STATUS) ? V(C_STATUS) : "processing");
  if (V(C_PAYMENT)) cJSON_AddStringToObject(o, "payment_status", V(C_PAYMENT));
  if (V(C_CURRENCY)) cJSON_AddStringToObject(o, "currency", V(C_CURRENCY));
  const int money[] = { C_TOTAL, C_SHIPPING, C_DISCOUNT };
  const char *money_names[] = { "total_minor", "shipping_minor", "discount_minor" };
  for (int i = 0; i < 3; i++) {
    int64_t m;
    if (!V(money[i])) continue;
    if (ord_money_minor(V(money[i]), &m) != 0 || m < 0) {
      snprintf(err, errlen, "%s: '%.40s' is not an amount (549.90)", COLUMNS[money[i]], V(money[i]));
      cJSON_Delete(o);
      return NULL;
    }
    cJSON_AddNumberToObject(o, money_names[i], (double)m);
  }
  const int times[] = { C_PLACED, C_PAID, C_CANCELLED, C_UPDATED, C_PROMISED };
  for (int i = 0; i < 5; i++)
    if (V(times[i])) cJSON_AddStringToObject(o, COLUMNS[times[i]], V(times[i]));
  if (V(C_EMAIL) || V(C_PHONE) || V(C_NAME)) {
    cJSON *c = cJSON_AddObjectToObject(o, "customer");
    if (V(C_EMAIL)) cJSON_AddStringToObject(c, "email", V(C_EMAIL));
    if (V(C_PHONE)) cJSON_AddStringToObject(c, "phone", V(C_PHONE));
    if (V(C_NAME)) cJSON_AddStringToObject(c, "name", V(C_NAME));
  }
  if (V(C_PROVINCE) || V(C_DISTRICT) || V(C_ADDRESS) || V(C_COUNTRY)) {
    cJSON *a = cJSON_AddObjectToObject(o, "shipping_address");
    if (V(C_NAME)) cJSON_AddStringToObject(a, "name", V(C_NAME));
    if (V(C_PROVINCE)) cJSON_AddStringToObject(a, "province", V(C_PROVINCE));
    if (V(C_DISTRICT)) cJSON_AddStringToObject(a, "district", V(C_DISTRICT));
    if (V(C_ADDRESS)) cJSON_AddStringToObject(a, "address", V(C_ADDRESS));
    if (V(C_COUNTRY)) cJSON_AddStringToObject(a, "country", V(C_COUNTRY));
  }
  if (V(C_METHOD)) cJSON_AddStringToObject(o, "shipping_method", V(C_METHOD));
  cJSON_AddArrayToObject(o, "items");
  return o;
}

/* The row's parcel (carrier, tracking_number, shipment_status) joins the order's shipments unless an earlier line of
 * the order named the same tracking number: an order sent in two parcels has two lines with two numbers. */
static void row_shipment(cJSON *order, char **f, const int *col)
{
  const char *number = V(C_TRACKING);
  if (!number) return;
  cJSON *list = cJSON_GetObjectItemCaseSensitive(order, "shipments");
  if (!list) list = cJSON_AddArrayToObject(order, "shipments");
  const cJSON *s;
  cJSON_ArrayForEach(s, list)
  {
    const char *have = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "tracking_number"));
    if (have && !strcmp(have, number)) return;
  }
  cJSON *n = cJSON_CreateObject();
  cJSON_AddStringToObject(n, "tracking_number", number);
  if (V(C_CARRIER)) cJSON_AddStringToObject(n, "carrier", V(C_CARRIER));
  if (V(C_SHIP_STATUS)) cJSON_AddStringToObject(n, "status", V(C_SHIP_STATUS));
  cJSON_AddItemToArray(list, n);
}

/* Adds the row's line item to order; 0, or -1 with err set. */
static int row_item(cJSON *order, char **f, const int *col, char *err, size_t errlen)
{
  const char *name = V(C_ITEM) ? V(C_ITEM) : V(C_SKU);
  if (!name) return 0;
  cJSON *it = cJSON_CreateObject();
  cJSON_AddStringToObject(it, "name", name);
  if (V(C_SKU)) cJSON_AddStringToObject(it, "sku", V(C_SKU));
  if (V(C_VARIANT)) cJSON_AddStringToObject(it, "variant", V(C_VARIANT));
  const char *qty = V(C_QTY);
  if (qty) {
    char *end = NULL;
    long q = strtol(qty, &end, 10);
    if (*end || q < 1 || q > 1000000) {
      snprintf(err, errlen, "quantity: '%.40s' is not a whole number of at least 1", qty);
      cJSON_Delete(it);
      return -1;
    }
    cJSON_AddNumberToObject(it, "quantity", (double)q);
  }
  if (V(C_PRICE)) {
    int64_t m;
    if (ord_money_minor(V(C_PRICE), &m) != 0 || m < 0) {
      snprintf(err, errlen, "price: '%.40s' is not an amount (549.90)", V(C_PRICE));
      cJSON_Delete(it);
      return -1;
    }
    cJSON_AddNumberToObject(it, "price_minor", (double)m);
  }
  cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(order, "items"), it);
  return 0;
#undef V
}

/* Stores (or, dry, checks and rolls back) one order gathered from lines first..last. */
static void flush(cJSON **order, long first, int dry, FILE *report, int *good, int *bad, int *created, int *updated)
{
  if (!*order) return;
  struct destek_req *c = ord_call_new();
  enum ord_outcome outcome;
  int64_t id;
  int rc = ord_upsert(c, "csv", 0, *order, &outcome, &id);
  if (rc) {
    cJSON *e = ord_error_object(c);
    const char *field = e ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "field")) : NULL;
    const char *msg = e ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message")) : NULL;
    fprintf(report, "line %ld: %s%s%s\n", first, field ? field : "", field ? ": " : "", msg ? msg : "not stored");
    (*bad)++;
    ord_call_end(c, 0);
  } else if (outcome == ORD_STALE) {
    fprintf(report, "line %ld: order %s: the stored order is newer (updated_at); skipped\n", first,
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*order, "number")));
    ord_call_end(c, 0);
  } else if (ord_call_end(c, !dry) != 0 && !dry) {
    fprintf(report, "line %ld: the order could not be saved\n", first);
    (*bad)++;
  } else {
    (*good)++;
    if (outcome == ORD_CREATED) (*created)++;
    else if (outcome == ORD_UPDATED) (*updated)++;
  }
  cJSON_Delete(*order);
  *order = NULL;
}

static int import_run(int argc, const char *const *argv, const char *input, size_t input_len, char **message)
{
  (void)input; (void)input_len;
  const char *file = NULL;
  int dry = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--dry-run")) dry = 1;
    else if (argv[i][0] == '-' && argv[i][1]) {
      char text[300];
      snprintf(text, sizeof text, "unknown option '%.200s' (see: destek orders import --help)", argv[i]);
      return say(message, 2, text);
    } else if (file) return say(message, 2, "give one CSV file");
    else file = argv[i];
  }
  if (!file) return say(message, 2, "give the CSV file: destek orders import FILE.csv [--dry-run]");
  /* A running server reads the file itself, from its own working directory: only an absolute path means the same
   * file there. */
  if (ord_base_url()[0] && file[0] != '/')
    return say(message, 2, "the running server reads the file: give its absolute path (e.g. \"$PWD/orders.csv\")");
  FILE *in = fopen(file, "rb");
  if (!in) {
    char text[400];
    snprintf(text, sizeof text, "cannot read %.300s: %s", file, strerror(errno));
    return say(message, 1, text);
  }
  struct stat sb;
  if (fstat(fileno(in), &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > CSV_MAX_BYTES) {
    fclose(in);
    return say(message, 1, "the CSV must be a file of at most 32 MiB");
  }
  char *buf = malloc((size_t)sb.st_size + 1);
  if (!buf) abort();
  size_t len = fread(buf, 1, (size_t)sb.st_size, in);
  fclose(in);
  buf[len] = 0;
  struct csv c = { buf, buf + len, ',', 1 };
  if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) c.p += 3;   /* Excel's BOM */
  size_t head = strcspn(c.p, "\n");
  if (memchr(c.p, ';', head) && !memchr(c.p, ',', head)) c.delim = ';';   /* Turkish Excel */

  char *fields[CSV_MAX_FIELDS];
  long line;
  int n = csv_record(&c, fields, CSV_MAX_FIELDS, &line);
  int col[C_COUNT];
  for (int i = 0; i < C_COUNT; i++) col[i] = -1;
  for (int i = 0; i < n; i++) {
    char *name = fields[i];
    while (*name == ' ') name++;
    size_t nl = strlen(name);
    while (nl && name[nl - 1] == ' ') name[--nl] = 0;
    for (int k = 0; COLUMNS[k]; k++)
      if (!strcasecmp(name, COLUMNS[k])) col[k] = i;
  }
  if (n <= 0 || col[C_NUMBER] < 0) {
    free(buf);
    return say(message, 2, "line 1 must be the header, with at least the column \"number\" (see --help)");
  }
  char *text = NULL;
  size_t tlen = 0;
  FILE *report = open_memstream(&text, &tlen);
  if (!report) abort();
  cJSON *order = NULL;
  char current[72] = "", poisoned[72] = "";
  long first = 0, poisoned_line = 0;
  int good = 0, bad = 0, created = 0, updated = 0, bad_lines = 0;
  while ((n = csv_record(&c, fields, CSV_MAX_FIELDS, &line)) != 0) {
    if (n < 0) {
      fprintf(report, "line %ld: a quoted field is not closed\n", line);
      bad_lines++;
      break;
    }
    if (n == 1 && !fields[0][0]) continue;   /* an empty line */
    for (int i = n; i < CSV_MAX_FIELDS; i++) fields[i] = NULL;
    const char *number = col[C_NUMBER] < n ? fields[col[C_NUMBER]] : NULL;
    if (!number || !number[0]) {
      fprintf(report, "line %ld: number: the order number is empty\n", line);
      bad_lines++;
      continue;
    }
    if (strlen(number) > 64) {
      fprintf(report, "line %ld: number: at most 64 characters\n", line);
      bad_lines++;
      continue;
    }
    /* columns a short row lacks read as empty */
    char *row[CSV_MAX_FIELDS];
    for (int i = 0; i < CSV_MAX_FIELDS; i++) row[i] = i < n ? fields[i] : NULL;
    char err[200] = "";
    if (poisoned[0] && !strcmp(poisoned, number)) {
      fprintf(report, "line %ld: order %s is not stored: its line %ld is bad\n", line, number, poisoned_line);
      bad_lines++;
      continue;
    }
    poisoned[0] = 0;
    if (!order || strcmp(current, number) != 0) {
      flush(&order, first, dry, report, &good, &bad, &created, &updated);
      order = row_order(row, col, err, sizeof err);
      if (!order) {
        fprintf(report, "line %ld: %s\n", line, err);
        bad_lines++;
        snprintf(poisoned, sizeof poisoned, "%s", number);
        poisoned_line = line;
        current[0] = 0;
        continue;
      }
      snprintf(current, sizeof current, "%s", number);
      first = line;
    }
    row_shipment(order, row, col);
    if (row_item(order, row, col, err, sizeof err) != 0) {
      fprintf(report, "line %ld: %s\n", line, err);
      bad_lines++;
      cJSON_Delete(order);   /* an order with a bad line is not stored in part */
      order = NULL;
      snprintf(poisoned, sizeof poisoned, "%s", number);
      poisoned_line = line;
      current[0] = 0;
      continue;
    }
  }
  flush(&order, first, dry, report, &good, &bad, &created, &updated);
  fprintf(report, "%s%d orders %s (%d new, %d updated), %d bad lines\n", dry ? "dry run: " : "", good,
          dry ? "would be stored" : "stored", created, updated, bad + bad_lines);
  fclose(report);
  free(buf);
  while (tlen && text[tlen - 1] == '\n') text[--tlen] = 0;
  *message = text;
  return bad + bad_lines ? 1 : 0;
}

/* destek orders demo [--force] */
static int demo_run(int argc, const char *const *argv, const char *input, size_t input_len, char **message)
{
  (void)input; (void)input_len;
  int force = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--force")) force = 1;
    else {
      char text[300];
      snprintf(text, sizeof text, "unknown option '%.200s' (see: destek orders demo --help)", argv[i]);
      return say(message, 2, text);
    }
  }
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  if (!out) abort();
  int code = ord_demo_fill(force, out);
  fclose(out);
  while (len && text[len - 1] == '\n') text[--len] = 0;
  *message = text;
  return code;
}

const struct destek_command ord_commands[] = {
  { "orders demo", "[--force]", "add demo orders and shipments for the demo shop's customers",
    "Adds orders in every state, unshipped and shipped (InfoReceived to Expired, with checkpoint timelines, on every\n"
    "carrier), for "
    "the customers `destek demo` made (the first 60 contacts with an e-mail address), so that the order panel and\n"
    "the tracking page have something to show. `destek demo` adds them itself: this is for a demo desk made before\n"
    "the orders module, with the server stopped. A desk that has orders already is refused unless --force.\n",
    DESTEK_COMMAND_OFFLINE, 0, demo_run },
  { "orders import", "FILE.csv [--dry-run]", "import orders from a CSV file (T-Soft, Ticimax, a spreadsheet)",
    "Imports orders from FILE.csv: a header line naming the columns, then one line item per line; lines with the\n"
    "same number are one order (its fields are read from its first line). Columns (any order, only number\n"
    "required): number, status (pending, processing, on_hold, shipped, completed, cancelled, refunded, failed;\n"
    "default processing), payment_status, currency (TRY), total, shipping_total, discount_total (549.90),\n"
    "placed_at, paid_at, cancelled_at, updated_at (ISO-8601), email, phone, customer_name, province, district,\n"
    "address, country, shipping_method, promised_dispatch_date (YYYY-MM-DD), sku, item_name, variant, quantity,\n"
    "price, carrier, tracking_number, shipment_status (Pending, InfoReceived, InTransit, OutForDelivery, AttemptFail,\n"
    "Delivered, AvailableForPickup, Exception, Expired). A line with another tracking number adds a parcel.\n"
    "Commas or semicolons; quotes as Excel writes them.\n"
    "Every bad line is reported with its number and the good orders are stored (an order with a bad line is not);\n"
    "an order already stored is updated unless its stored updated_at is newer. --dry-run checks everything and\n"
    "stores nothing. Exits 1 when a line was bad. A running server does the work: give FILE as an absolute path.\n",
    DESTEK_COMMAND_SERVER, 0, import_run },
  { 0 }
};
