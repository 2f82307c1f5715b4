/* The consent ledger (law 6563 / KVKK): every ONAY and RET a contact gave per channel, append-only
 * (migrations/009_consent.sql), the state derived from it, and the core's send path for modules' messages to contacts
 * (core_messages), which refuses a commercial message without a current ONAY and gives commercial mail an RFC 8058
 * one-click unsubscribe (/u/{token}). */
#ifndef DESTEK_CONSENT_H
#define DESTEK_CONSENT_H
#include <stdint.h>

#include <cjson/cJSON.h>

#include "destek.h"

struct db;

/* 1 when (contact, channel) has a current ONAY, else 0 (none, a later RET, an erased contact, an unknown channel). */
int consent_state(struct destek_req *call, int64_t contact_id, const char *channel);
/* Records ONAY/RET in the call's transaction (see destek.h, consent_record). The record's id, or 0 with the error
 * status set up on the call. */
int64_t consent_record(struct destek_req *call, int64_t contact_id, const char *channel, const char *status,
                       const char *source, const char *text_shown, const char *address, const char *ip,
                       const char *at);
/* Queues an e-mail to a contact (see destek.h, message_send): the message id (> 0), or a DESTEK_SEND_* code (< 0). */
/* A message the calling module queued, as host->message_json_new (destek.h). */
cJSON *consent_message_json_new(struct destek_req *call, int64_t message_id);
int64_t consent_message_send(struct destek_req *call, int64_t contact_id, const char *subject, const char *body,
                             int commercial);
/* As consent_message_send, with an HTML alternative (html, sanitised here; NULL: text only; body NULL or "": the
 * HTML's text rendering). */
int64_t consent_message_send_html(struct destek_req *call, int64_t contact_id, const char *subject, const char *body,
                                  const char *html, int commercial);
/* Queues an SMS to a contact (see destek.h, message_send_sms). */
int64_t consent_message_send_sms(struct destek_req *call, int64_t contact_id, const char *text, int commercial);
/* The contact's records (and those of contacts merged into it) for its KVKK export: a new array. */
cJSON *consent_export_new(struct db *db, int64_t contact_id);
/* KVKK erasure, after the contact was anonymised: blanks address and ip of its records (kept as proof) and the
 * texts of its queued messages. 0 or -1. */
int consent_erase(struct db *w, int64_t contact_id, const char *now);

int consent_init(void);
/* The sender thread (serve only): delivers queued messages over SMTP after their commit. start: 0 or -1 (logged). */
int consent_sender_start(void);
void consent_sender_stop(void);

#endif
