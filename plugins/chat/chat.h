/* chat.h — the live-chat module's shared names (plugins/chat/README.md). */
#ifndef CHAT_H
#define CHAT_H
#include <stdint.h>

#include "destek.h"

extern const struct destek_host *chat_host;
#define H chat_host

#define CHAT_BODY_MAX 4000        /* bytes of one chat message */
#define CHAT_CLIENT_ID_MAX 64

/* The visitor a request's X-Chat-Token names, with its shop. */
struct chat_visitor {
  int64_t id, shop_id, contact_id;
  char email[256], name[201], lang[3], origins[2048];
  int identified;
};

/* chat.c */
void chat_now(char out[21]);
/* 1 when origin is one of the lines of origins (exact, ASCII case-insensitive). */
int chat_origin_listed(const char *origins, const char *origin);
/* The request's Origin against origins: 0 (CORS headers added when there is an Origin), or the 403 set up. */
int chat_origin_check(struct destek_req *r, const char *origins);
/* Takes a slot of the visitor's and the address's limits (settings chat.*_limit): 0, or the 429 set up. */
int chat_rate(struct destek_req *r, const char *kind, const char *key, const char *setting, long dflt, long window);
/* {open, agents_online, in_hours, hours}: whether a person can answer now (new). */
cJSON *chat_availability_new(struct destek_req *call);

/* visitor.c */
extern const struct destek_route chat_visitor_routes[];
int chat_visitor_init(const struct destek_host *h);
/* The visitor of a token's SHA-256: 1 (v filled), 0 when none, -1 on error. */
int chat_visitor_load(struct destek_db *db, const char *token_hash, struct chat_visitor *v);
/* The visitor's latest conversation (open first), 0 when none; *open (may be NULL) whether it is open. */
int64_t chat_latest_conversation(struct destek_db *db, int64_t visitor_id, int *open);
/* A visitor's message in r's transaction (HTTP and websocket alike): 0, *out and *status (201 new, 200 a retry), or
 * the error set up. */
int chat_message_post(struct destek_req *r, const struct chat_visitor *v, const cJSON *body, cJSON **out, int *status);
cJSON *chat_messages_json_new(struct destek_req *r, struct destek_db *db, int64_t conv, int64_t after, int64_t ticket_id,
                              int open);
void chat_typing_set(int64_t conversation_id, int on);
int chat_typing_get(int64_t conversation_id);
int chat_agent_typing(struct destek_req *r, int64_t ticket_id);

/* The visitor of the request's X-Chat-Token, its origin checked and its limits counted: 0, or the error set up. */
int chat_visitor_auth(struct destek_req *r, struct chat_visitor *v, int counted);
int chat_preflight(struct destek_req *r);

/* offers.c: help-centre suggestions and CSAT in the widget, when those modules are there */
extern const struct destek_route chat_offer_routes[];
/* {suggest, csat}: whether the help centre's suggestions and the feedback module's CSAT are offered now (new). */
cJSON *chat_features_new(void);

/* files.c: agents' files in the chat */
extern const struct destek_route chat_file_routes[];
/* Records an agent reply's attachments (ticketing's {id, filename, content_type, size}) for conversation conv's
 * visitor, and lists them in the chat message seq's files. 0 or -1. */
int chat_files_record(struct destek_req *call, struct destek_db *w, int64_t conv, int64_t seq, int64_t ticket_message_id,
                      const cJSON *attachments);

/* socket.c: the visitors' websocket, GET /api/v1/chat/socket?token=&after= */
int chat_socket_init(const struct destek_host *h);
void chat_socket_fini(void);
/* Something of conversation conv (or of visitor visitor_id's conversations) changed in the writer's open transaction:
 * its sockets hear of it after the commit. Call with the writer held. */
void chat_socket_dirty(int64_t conv, int64_t visitor_id);

/* whatsapp.c */
int chat_wa_init(const struct destek_host *h);
/* chat.channel_send for a ticket of the channel whatsapp: "send" queues the reply for the Graph API; "check" refuses
 * free text outside the 24-hour window (422 whatsapp_window_closed). 0 or the error status set up. */
int chat_wa_channel_send(struct destek_req *call, const cJSON *args, cJSON **result);
int chat_wa_check(struct destek_req *call, int64_t ticket_id);
/* The WhatsApp thread of wa_id: *thread_id and *ticket_id (0 when there is none), or the error status set up. */
int chat_wa_thread_find(struct destek_req *r, struct destek_db *w, const char *wa_id, int64_t *thread_id,
                        int64_t *ticket_id);
/* A new thread of wa_id for contact_id in the open transaction: *thread_id, or the error status set up. */
int chat_wa_thread_add(struct destek_req *r, struct destek_db *w, const char *wa_id, int64_t contact_id,
                       int64_t *thread_id);
/* Schedules the Graph API send of chat_wa_messages row id at due_unix (timer chat.wa_send keyed by the id, in the
 * open transaction): 0, or -1 (nothing is set up: the caller answers its own error). */
int chat_wa_send_queue(struct destek_req *call, int64_t id, int64_t due_unix);
/* The approved templates of chat.wa_templates: [{name, language}] (new). */
cJSON *chat_wa_templates_new(void);
/* Whether name (language) is one of chat.wa_templates. */
int chat_wa_template_approved(const char *name, const char *language);

/* wa_notices.c: chat.whatsapp_template_send, templates other modules send (an order's shipping notice) */
int chat_wa_notices_init(const struct destek_host *h);
/* Emits whatsapp.message_failed for message id when it was sent for another module (it has a ref) and has failed:
 * 0, or the emit's error status. */
int chat_wa_failed_emit(struct destek_req *call, struct destek_db *w, int64_t id);

/* contacts.c */
int chat_contacts_init(const struct destek_host *h);

/* shops.c */
extern const struct destek_route chat_shop_routes[];

#endif
