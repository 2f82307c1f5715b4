/* orders.ship: a shipment another module sends for an order (the returns module's exchange: the replacement goes out
 * as a new shipment of the same order). Runs in the caller's call and transaction, as the orders module.
 *
 *   orders.ship {number, tracking_number, carrier, status, message} -> {shipment_id}: adds the shipment (or moves it
 *   on, for a tracking number the order already has), with a checkpoint and shipment.created / shipment.updated,
 *   as POST /api/v1/orders/{number}/shipments does. 404 not_found for an unknown order, 422 naming a bad member. */
#include "orders.h"

static int svc_ship(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const char *number = NULL, *s;
  int rc;
  if ((rc = ord_field_str(call, args, "number", DESTEK_REQUIRED, 64, &number)) ||
      (rc = ord_field_str(call, args, "tracking_number", DESTEK_REQUIRED, 100, &s)) ||
      (rc = ord_field_str(call, args, "carrier", DESTEK_OPTIONAL, 100, &s)) ||
      (rc = ord_field_enum(call, args, "status", DESTEK_OPTIONAL, ORD_SHIPMENT_STATUSES, &s)) ||
      (rc = ord_field_str(call, args, "message", DESTEK_OPTIONAL, 1000, &s)))
    return rc;
  int64_t order_id = ord_order_by_number(ord_db_read(call), number);
  if (!order_id) return ord_error(call, 404, "not_found", "no such order");
  cJSON *in = cJSON_Duplicate(args, 1);
  cJSON_DeleteItemFromObjectCaseSensitive(in, "number");
  cJSON_DeleteItemFromObjectCaseSensitive(in, "ref");
  cJSON_DeleteItemFromObjectCaseSensitive(in, "updated_at");
  int64_t sid = 0;
  rc = ord_shipment_put(call, order_id, "returns", in, &sid);
  cJSON_Delete(in);
  if (rc) return rc;
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "shipment_id", (double)sid);
  return 0;
}

int ord_services_returns_init(const struct destek_host *h)
{
  return h->service(h, "orders.ship", svc_ship, NULL);
}
