/* Automation of the ticketing plugin: the ticket.triage Lua policy on new tickets and admins' triggers (triggers.c). */
#ifndef TKT_TRIGGERS_H
#define TKT_TRIGGERS_H

#include <stdint.h>

#include "destek.h"

extern const struct destek_route tkt_trigger_routes[];
extern const struct destek_route tkt_macro_routes[];  /* macros.c */

/* Expands {{customer.name}}, {{ticket.reference}}, {{ticket.subject}}, {{order_number}}, {{agent.name}} and the
 * variables other modules answer for the ticket (context.c; call may be NULL: none of those) in tpl
 * for ticket_id and its customer (agent_id 0: none); unknown variables stay as written. The text for one customer's
 * part of a merged thread is expanded for that part's ticket (parts.c). Returns a new string (caller frees). A
 * trigger's reply folded into an acknowledgement is expanded without the three the customer typed (triggers.c). */
char *tkt_template_expand_new(struct destek_req *call, struct destek_db *db, const char *tpl, int64_t ticket_id,
                              int64_t agent_id);

/* Registers the trigger routes and the sync subscribers of ticket.created, message.added and ticket.updated. */
int tkt_triggers_init(const struct destek_host *host);

#endif
