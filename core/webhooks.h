/* Webhooks: signed HTTP POSTs of events to URLs that admins register, delivered by the bus (a sink "webhook:<id>")
 * at least once, with retries, a dead-letter state and an admin retry. */
#ifndef DESTEK_WEBHOOKS_H
#define DESTEK_WEBHOOKS_H

/* Registers the admin routes under /api/v1/webhooks and the bus sink "webhook:". Call once at start-up, before
 * the bus starts and HTTP serves. 0, or -1 (logged). */
int webhooks_init(void);

#endif
