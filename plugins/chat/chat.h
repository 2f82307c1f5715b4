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

/* whatsapp.c */
int chat_wa_init(const struct destek_host *h);
/* chat.channel_send for a ticket of the channel whatsapp: "send" queues the reply for the Graph API; "check" refuses
 * free text outside the 24-hour window (422 whatsapp_window_closed). 0 or the error status set up. */
int chat_wa_channel_send(struct destek_req *call, const cJSON *args, cJSON **result);
int chat_wa_check(struct destek_req *call, int64_t ticket_id);

/* contacts.c */
int chat_contacts_init(const struct destek_host *h);

/* shops.c */
extern const struct destek_route chat_shop_routes[];

#endif
