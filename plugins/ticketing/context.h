/* Ticket context: what other modules know about a ticket (context.c). */
#ifndef TKT_CONTEXT_H
#define TKT_CONTEXT_H

#include <stdint.h>

#include "destek.h"

/* Asks every "<module>.ticket_context" service about ticket_id (purpose "template" or "triage"; body, the first
 * message, may be NULL) and merges the answers: {variables: {name: text}, facts: {name: value}} (new; never NULL;
 * empty when no module answers). Reads with db (the caller's connection). */
cJSON *tkt_context_new(struct destek_req *call, struct destek_db *db, int64_t ticket_id, const char *purpose,
                       const char *body);

/* 1 when tpl holds a {{name}} that is none of own (n_own names): only then is asking the modules worth it. */
int tkt_context_wanted(const char *tpl, const char *const *own, int n_own);

#endif
