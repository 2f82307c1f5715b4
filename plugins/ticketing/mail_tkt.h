/* The e-mail channel of ticketing: outbound mail on ticket events (mail_out.c) and its templates
 * (mail_templates.c). Internal to plugins/ticketing. */
#ifndef TKT_MAIL_H
#define TKT_MAIL_H

#include "destek.h"

/* What a template is filled with. Strings are UTF-8; NULL reads as "". */
struct mail_tpl_vars {
  const char *lang;        /* "tr" or "en" (anything else: "tr") */
  const char *name;        /* the customer's name; "" greets without a name */
  const char *reference;   /* "#1042" */
  const char *subject;     /* the ticket's subject */
  const char *link;        /* the signed link that follows the ticket, or NULL */
  const char *body_text;   /* the agent's reply (kind "reply") */
  const char *body_html;   /* the agent's reply as HTML, or NULL (then body_text is escaped) */
  const char *source_reference; /* kind "merged": the reference of the ticket merged in */
  const char *notice;      /* kind "ack": automatic replies said as the ticket opened (out of hours), or NULL */
};

/* Renders kind ("ack", "reply", "solved", "merged") into a subject with "[#ref]", a text body and an HTML body,
 * each for the caller to free. 0, or -1 for an unknown kind. */
int mail_tpl_render(const char *kind, const struct mail_tpl_vars *v, char **subject, char **text, char **html);

/* Registers the mail settings, the outbound subscribers and the mail-status route. 0 or -1. */
int tkt_mail_init(const struct destek_host *host);

/* Files one raw message (len bytes) in call c's transaction (begun here; the caller commits with call_end): see
 * mail_in.c. source is "cli" or "imap". Returns {"result": "created"|"threaded"|"bounce"|"auto_reply"|"duplicate"|
 * "unparsed", "ticket_id", "reference", "unparsed_id"} for the caller to free, or NULL with err (nothing to
 * commit). A message that cannot be filed is kept raw (result "unparsed"): only a database failure returns NULL. */
cJSON *tkt_mail_ingest(struct destek_req *c, const char *raw, size_t len, const char *source, char *err,
                       size_t errlen);
/* mail_in.c: the control command "mail_import" and the admin's unparsed-mail routes. 0 or -1. */
int tkt_mail_in_init(const struct destek_host *host);
/* mail_imap.c: the IMAP polling job. 0 or -1. */
int tkt_mail_imap_init(const struct destek_host *host);

#endif
