/* orders.h — what the orders module's files share (never included by another module). */
#ifndef ORDERS_H
#define ORDERS_H
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "host.h"

extern const char *const ORD_STATUSES[];          /* pending, processing, on_hold, shipped, ... */
extern const char *const ORD_PAYMENT_STATUSES[];  /* pending, authorized, paid, ... */
extern const char *const ORD_SHIPMENT_STATUSES[]; /* AfterShip's tags: Pending, InfoReceived, ... */

/* The outcome of storing one version of an order (ord_upsert). */
enum ord_outcome { ORD_CREATED = 1, ORD_UPDATED, ORD_UNCHANGED, ORD_STALE };

/* "now" as ISO-8601 UTC ("2026-12-04T17:01:36Z"). */
void ord_now(char out[21]);
/* An ISO-8601 time from a source ("2025-03-01T14:05:11", "...+03:00", "...Z", "2025-03-01 14:05:11", a bare date)
 * to UTC in out; a time without an offset is taken as UTC. 0, or -1 when it is not such a time. */
int ord_time_utc(const char *in, char out[21]);
/* A decimal amount ("549.90", 549.9, "1.234,50" is refused) in minor units (2 decimals). 0, or -1. */
int ord_money_minor(const char *text, int64_t *out);
/* Digits of a phone number, with a Turkish mobile written as 905XXXXXXXXX ("0532 123 45 67", "+90 532...",
 * "532..."). Empty when it has no digits. */
void ord_phone_norm(const char *in, char out[32]);

/* Stores one version of an order given in the canonical shape (README.md: PUT /api/v1/orders/{number}) for
 * (source, source_id): validates it (the 422 set up on call, naming the member), refuses a version older than the
 * stored one (*outcome ORD_STALE, nothing written), matches the contact, writes the order and its items, emits
 * order.created / order.updated. 0 with *outcome and *order_id, or the error status set up on call. */
int ord_upsert(struct destek_req *call, const char *source, int64_t source_id, const cJSON *order,
               enum ord_outcome *outcome, int64_t *order_id);
/* ord_upsert in two parts, so that a receiver checks, hashes and folds the order before it takes the writer:
 * ord_upsert_prepare (no writer; the 422 set up on call when the order is not valid; the prepared order borrows from
 * order, which must outlive it), then ord_upsert_prepared on the writer. */
struct ord_prepared;
int ord_upsert_prepare(struct destek_req *call, const cJSON *order, struct ord_prepared **out);
int ord_upsert_prepared(struct destek_req *call, const char *source, int64_t source_id, const struct ord_prepared *p,
                        enum ord_outcome *outcome, int64_t *order_id);
void ord_prepared_free(struct ord_prepared *p);
/* An order as the API shows it (with items and shipments when full), or NULL. */
cJSON *ord_order_json(struct destek_db *db, int64_t order_id, int full);
/* The id of the order with that number, or 0. */
int64_t ord_order_by_number(struct destek_db *db, const char *number);

/* Creates or updates the shipment `ref` of an order from a canonical shipment object {ref, carrier,
 * tracking_number, tracking_url, status, at, message, location, updated_at}; a status change adds a checkpoint and
 * emits shipment.created / shipment.updated. 0, or the error status set up on call. */
int ord_shipment_put(struct destek_req *call, int64_t order_id, const char *source, const cJSON *shipment,
                     int64_t *shipment_id);
/* The carrier code a shop's name for it folds to ("Yurtiçi Kargo" -> "yurtici"), or NULL; caller frees. */
char *ord_carrier_match(struct destek_db *db, const char *name);
/* The shipments of an order with their checkpoints, as an array (new). */
cJSON *ord_shipments_json(struct destek_db *db, int64_t order_id);
/* A shipment's tracking URL from its carrier's url_template (NULL: none), its number and the URL its source sent. */
char *ord_tracking_url_new(const char *tpl, const char *number, const char *source_url);

/* Converts a platform's order to the canonical shape (new cJSON, the caller frees), or NULL with err set. */
cJSON *ord_from_woocommerce(const cJSON *wc, char *err, size_t errlen);
cJSON *ord_from_shopify(const cJSON *sh, char *err, size_t errlen);
cJSON *ord_shipment_from_shopify(const cJSON *fulfillment, char *err, size_t errlen);

/* Polls a WooCommerce source's REST API once (modified_after its cursor); stores what changed in calls of its own.
 * Never while the caller holds the writer. The number of orders kept, or -1 with err set. */
int ord_poll_source(int64_t source_id, char *err, size_t errlen);

extern const struct destek_route ord_order_routes[];
extern const struct destek_route ord_list_routes[];   /* list.c */
extern const struct destek_route ord_link_routes[];   /* links.c */
extern const struct destek_route ord_source_routes[];
extern const struct destek_route ord_shipment_routes[];
extern const struct destek_route ord_track_routes[];
extern const struct destek_command ord_commands[];
int ord_services_init(const struct destek_host *h);
/* buyers.c: the service orders.buyers (who bought in a window). 0 or -1. */
int ord_buyers_init(const struct destek_host *h);
int ord_services_returns_init(const struct destek_host *h);   /* services_returns.c: orders.ship */
int ord_poll_init(const struct destek_host *h);
int ord_contacts_init(const struct destek_host *h);
int ord_demo_init(const struct destek_host *h);
int ord_list_init(const struct destek_host *h);       /* list.c: the search text */
char *ord_search_text_new(const char *number, const char *email, const char *phone, const char *customer_name,
                          const char *ship_name);
int ord_search_words_write(struct destek_db *w, int64_t order_id, const char *folded, int fresh);
int ord_links_init(const struct destek_host *h);      /* links.c: tickets and orders, the ticket context */
int ord_demo_fill(int force, FILE *out);

extern const char *const ORD_TR_PROVINCES[81];   /* the 81 provinces by plate code (platforms.c) */
/* --- issue 12, second part: clock.c, eta.c, tracking.c, notices.c, platform_ikas.c, platform_ideasoft.c --- */
/* Now in unix seconds: the real clock, or the test clock (DESTEK_TEST_CLOCK=1, POST /api/v1/test/orders-clock). */
int64_t ord_clock_now(void);
/* orders.report_facts, the orders' figures for the reports module (report.c). 0 or -1. */
int ord_report_init(const struct destek_host *h);
/* Today's date in Istanbul (UTC+3, no DST since 2016) for the unix time t: "YYYY-MM-DD". */
void ord_local_date(int64_t t, char out[11]);
/* The expected delivery date of a shipment (YYYY-MM-DD), from its shipped_at, carrier and the order's province
 * through the ETA table and the holidays; 0, or -1 when it has not shipped. */
int ord_eta_date(struct destek_db *db, const char *carrier, const char *province, const char *shipped_at, char out[11]);
/* Adds n business days (Mon-Fri, not in orders_holidays) to the date day. */
void ord_add_business_days(struct destek_db *db, const char *day, int n, char out[11]);
/* The tracking state of a shipment as JSON (new), or NULL when it is not tracked. */
cJSON *ord_tracking_json(struct destek_db *db, int64_t shipment_id);
/* Polls every due shipment once (at most budget_s seconds); the delay scan too. The number polled. */
int ord_tracking_pass(int budget_s, int *delays);
int ord_delay_scan(void);
/* Adds "eta" (YYYY-MM-DD or null) and "tracking" (the polling state or null) to a shipment's JSON. */
void ord_shipment_extras(struct destek_db *db, int64_t order_id, int64_t shipment_id, cJSON *s);
/* The order ord_upsert is creating on this thread while it stores the shipments that came with it (0: none). */
extern _Thread_local int64_t ord_importing_order;
/* ikas and IdeaSoft (platform_ikas.c, platform_ideasoft.c): a platform's order to the canonical shape, and the
 * receivers sources.c's webhook route hands their deliveries to (secret: the source's webhook secret). */
cJSON *ord_from_ikas(const cJSON *order, char *err, size_t errlen);
cJSON *ord_from_ideasoft(const cJSON *order, char *err, size_t errlen);
int ord_webhook_ikas(struct destek_req *r, int64_t source_id, const char *secret, const char *body, size_t len);
int ord_webhook_ideasoft(struct destek_req *r, int64_t source_id, const char *secret, const char *body, size_t len);
/* sources.c's delivery log and storing, for those receivers. */
int ord_src_log(struct destek_req *r, int64_t source_id, const char *topic, const char *key, const char *outcome,
                const char *detail, const char *number);
void ord_src_refused(struct destek_req *r, int64_t source_id, const char *topic, const char *detail);
int ord_src_answer(struct destek_req *r, const char *outcome, const char *number, const char *detail);
int ord_src_signature_ok(const char *b64, const char *secret, const char *body, size_t len);
int ord_src_deliver(struct destek_req *r, int64_t source_id, const char *kind, const char *topic, const char *key,
                    const cJSON *order);
int ord_clock_init(const struct destek_host *h);
int ord_eta_init(const struct destek_host *h);
int ord_tracking_init(const struct destek_host *h);
int ord_notices_init(const struct destek_host *h);
/* 1 for the delay kinds (not_shipped, no_scan, past_eta). */
int ord_notice_is_delay(const char *kind);

/* notify.c: the customer's choice of channel for notices, and notices on WhatsApp (issue 16) */
struct ord_notify { char channel[12], phone[40], chosen_at[21]; };
/* What a notice's text and template are made of (borrowed; any may be NULL). */
struct ord_notice_fields { const char *number, *carrier, *tracking_number, *tracking_url, *date, *name, *shop; };
int ord_notify_init(const struct destek_host *h);
/* The member notify of an order in the canonical shape into *out (channel empty when absent): 0, or the 422 set up. */
int ord_notify_read(struct destek_req *call, const cJSON *order, struct ord_notify *out);
/* Records the choice read by ord_notify_read for order_id (nothing when none), source "checkout" or "agent": 0 or 500. */
int ord_notify_store(struct destek_req *call, struct destek_db *w, int64_t order_id, const struct ord_notify *n,
                     const char *source);
int ord_field_error_if_unset(struct destek_req *r, const struct ord_notify *n);
/* 1 when the tracking page offers WhatsApp: the chat module sends templates and one is mapped to a notice. */
int ord_notify_offered(void);
/* The customer's choice made on the tracking page for order_id ("whatsapp" to phone_digits, the order's own, or
 * "email"), in r's transaction: 0 or -1. */
int ord_notify_from_page(struct destek_req *r, int64_t order_id, const char *channel, const char *phone_digits);
/* {channel, phone, source, chosen_at} of the order's choice, or JSON null (new). */
cJSON *ord_notify_json(struct destek_db *db, int64_t order_id);
/* Sends notice notice_id as the WhatsApp template mapped to kind when the order's customer chose WhatsApp: 1 when
 * queued with the chat module (*wa_message_id), 0 when the customer did not choose WhatsApp, -1 when they did but it
 * cannot go (why says why; the caller mails). */
int ord_notice_whatsapp(struct destek_req *call, int64_t notice_id, int64_t order_id, int64_t contact_id,
                        const char *kind, const char *lang, const struct ord_notice_fields *f, int64_t *wa_message_id,
                        char *why, size_t whylen);
/* The chat module's {id, status, error_code, error_title} of a notice's WhatsApp message (new), or NULL. */
cJSON *ord_notice_whatsapp_status_new(struct destek_req *call, int64_t wa_message_id);
int ord_platforms2_init(const struct destek_host *h);

#endif
