/* Ticketing: what the files of plugins/ticketing share. A module like any plugin: it reaches the core only through
 * include/destek.h (host.h gives the host functions short tkt_ names) and the helper library, so the same sources
 * build into the binary and as ticketing.so. */
#ifndef TKT_H
#define TKT_H
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "destek_jbuf.h"
#include "destek_util.h"

#include "destek.h"
#include "host.h"

extern const char *const TKT_STATUSES[];    /* new open pending on_hold solved closed */
extern const char *const TKT_PRIORITIES[];  /* low normal high urgent */
extern const char *const TKT_CHANNELS[];    /* email web api chat whatsapp phone */

#define TKT_BODY_MAX 100000        /* bytes of a message's text */
#define TKT_HTML_MAX 500000        /* bytes of a message's HTML */
#define TKT_SUBJECT_MAX 250
#define TKT_TAG_MAX 50
#define TKT_TAGS_MAX 20
#define TKT_BULK_MAX 100
#define TKT_PUBLIC_BODY_MAX 20000  /* bytes of a message from the public side (form, signed link) */
#define TKT_PUBLIC_NAME_MAX 200    /* bytes of a customer's name */
#define TKT_ORDER_NUMBER_MAX 64
#define TKT_ATTACHMENTS_MAX 10     /* files per message */
#define TKT_UPLOAD_BODY_MAX (16 << 20) /* request body of a route that takes attachments (base64 in JSON) */

/* Whether v is a whole number within ±9e15 (JSON ids and counts), without libm: a module .so may need nothing the
 * binary does not give it (scripts/check-plugins.sh), and floor() would be an unversioned libm import. */
static inline int tkt_whole(double v) { return v >= -9e15 && v <= 9e15 && v == (double)(int64_t)v; }

/* Route tables of the files. */
extern const struct destek_route tkt_ticket_routes[], tkt_list_routes[], tkt_ops_routes[], tkt_customer_routes[], tkt_team_routes[],
  tkt_public_routes[], tkt_attachment_routes[], tkt_presence_routes[];

/* --- teams.c --- */
/* The directory's teams (from init). 0 or -1. */
int tkt_teams_init(const struct destek_host *host);
/* 1 when team_id hands its unassigned tickets round-robin. */
int tkt_team_round_robin(struct destek_db *w, int64_t team_id);
/* The next member of team_id to get a ticket (round-robin among its active, online members below its max_open),
 * with the team's pointer moved to them in the call's transaction: their user id, 0 when none may take it, -1 on
 * error. The caller assigns the ticket. */
int64_t tkt_team_pick(struct destek_req *r, struct destek_db *w, int64_t team_id);

/* --- ticketing.c: shared helpers --- */
void tkt_now(char out[21]);
/* The next value of tkt_tickets.seq (call inside the write transaction). */
int64_t tkt_next_seq(struct destek_db *w);
/* "user:3" for the signed-in caller, or "system". */
void tkt_actor(struct destek_req *r, char out[48]);
/* Appends one history row. 0 or -1. */
int tkt_history(struct destek_db *w, int64_t ticket_id, const char *actor, const char *field, const char *old_value,
                const char *new_value);
/* Runs one statement in a call of its own, committed at once: for what must stay whatever the running call does (a
 * delivery attempt, a public form hit, an IMAP message being fetched). Never while this thread's call holds the
 * writer (refused, logged). The number of rows it changed, or -1 (logged). */
int tkt_write_now(const char *sql, const char *types, ...);
/* The signature of a customer's link to a ticket: HMAC-SHA256 over "ticket:<id>" with the install's key. */
void tkt_link_sig(struct destek_db *db, int64_t ticket_id, char out[65]);
/* The customer's signed link to the ticket: its page in the customer portal, <mail.public_url (else the server's
 * URL)>/t/<number>?sig=... (the page reads GET /api/v1/public/tickets/<number>?sig=). reference is "#1042" or
 * "1042". Caller frees. */
char *tkt_ticket_link_new(struct destek_db *db, int64_t ticket_id, const char *reference);
/* Emits event about ticket_id with the standard payload (see EVENTS.md) plus the members of extra (taken, may be
 * NULL). 0 or the error status (a veto). */
int tkt_emit(struct destek_req *r, const char *event, int64_t ticket_id, cJSON *extra);
/* After a change to tkt_ticket_tags of ticket_id: rewrites tkt_tickets.tags_json, the copy lists read. 0 or -1. */
int tkt_tags_copy_refresh(struct destek_db *w, int64_t ticket_id);
/* Tags as a sorted JSON array. */
cJSON *tkt_tags_json(struct destek_db *db, int64_t ticket_id);

/* --- tickets.c --- */
/* The columns of a ticket summary (the list item, and the start of the detail view), for tkt_summary_write. */
#define TKT_SUMMARY_COLS \
  "t.id, t.reference, t.subject, t.status, t.priority, t.channel, t.customer_id, c.name, c.email, c.phone," \
  " t.assignee_id, t.team_id, t.custom_fields, t.order_number, t.merged_into, t.first_response_at, t.solved_at," \
  " t.closed_at, t.created_at, t.updated_at," \
  " t.tags_json," \
  " s.policy_id, s.calendar_id, s.first_response_minutes, s.frt_state, s.frt_clock, s.frt_warn_at, s.frt_due_at," \
  " s.frt_elapsed, s.resolution_minutes, s.res_state, s.res_clock, s.res_warn_at, s.res_due_at, s.res_elapsed," \
  " t.last_message"
#define TKT_SUMMARY_JOINS \
  " JOIN core_contacts c ON c.id = t.customer_id LEFT JOIN tkt_sla s ON s.ticket_id = t.id"
/* SELECT the summary columns of tickets t; _KEYS adds columns after them (", t.seq"), _FROM a FROM clause that
 * names t (the joins for the summary follow it). */
#define TKT_SUMMARY_SELECT "SELECT " TKT_SUMMARY_COLS " FROM tkt_tickets t" TKT_SUMMARY_JOINS
#define TKT_SUMMARY_SELECT_KEYS(keys) "SELECT " TKT_SUMMARY_COLS keys " FROM tkt_tickets t" TKT_SUMMARY_JOINS
#define TKT_SUMMARY_SELECT_FROM(keys, from) "SELECT " TKT_SUMMARY_COLS keys " FROM " from TKT_SUMMARY_JOINS
#define TKT_SUMMARY_NCOLS 36
/* Writes the summary of the ticket on st's current row (TKT_SUMMARY_SELECT's columns first), SLA states as of now. */
void tkt_summary_write(struct jbuf *b, sqlite3_stmt *st, int64_t now);
/* The ticket as the agents' API shows it; with detail, its messages and history too. NULL if absent. */
cJSON *tkt_ticket_json(struct destek_db *db, int64_t ticket_id, int detail);
/* The same as JSON text appended to b (no tree is built): 0, or -1 when there is no such ticket. */
int tkt_ticket_write(struct jbuf *b, struct destek_db *db, int64_t ticket_id, int detail);
/* Answers status with the ticket (tkt_ticket_write), or 404 not_found when there is none. */
int tkt_ticket_reply(struct destek_req *r, int status, struct destek_db *db, int64_t ticket_id, int detail);
cJSON *tkt_message_json(struct destek_db *db, int64_t message_id);
/* A ticket's messages in order; public_only leaves out internal notes. */
cJSON *tkt_messages_json(struct destek_db *db, int64_t ticket_id, int public_only);
/* What customer_id may see of thread_id's thread: the messages of that customer's part (parts.c), no notes. */
cJSON *tkt_customer_messages_json(struct destek_db *db, int64_t thread_id, int64_t customer_id);
/* Renames the field of the 422 just set up (members of nested objects: "customer.email"). */
void tkt_rename_field(struct destek_req *r, const char *field);
/* Checks a "tags" array (strings, 1..TKT_TAG_MAX bytes, at most TKT_TAGS_MAX). 0 or the 422 it set up. */
int tkt_tags_check(struct destek_req *r, const cJSON *tags, const char *field);
/* Reads an assignee field: absent (*set = 0), null or "none" (0), "me" (the caller) or an active user's id.
 * 0 or the 422 it set up. */
int tkt_assignee_field(struct destek_req *r, const cJSON *obj, const char *name, int *set, int64_t *assignee_id);

struct tkt_changes {
  const char *status, *priority, *subject;
  int set_assignee;
  int64_t assignee_id;        /* 0: nobody */
  int set_team;
  int64_t team_id;            /* 0: no team */
  const cJSON *tags;          /* replaces the tags */
  const cJSON *add_tags, *remove_tags;
  const cJSON *custom_fields; /* merged: null removes a key */
};
/* Applies changes to a ticket: transition rules, history, seq, and the events ticket.updated (+ ticket.assigned,
 * ticket.solved). 0, or the error status it set up (404, 409 invalid_transition, ...). */
int tkt_apply_changes(struct destek_req *r, struct destek_db *w, int64_t ticket_id, const struct tkt_changes *c,
                      const char *actor);
/* Adds a message (kind reply/customer/note) with its attachments (validated JSON array or NULL), applies the
 * status rules (a reply on a new ticket opens it; a customer message reopens solved, closed and pending tickets),
 * records history and emits message.added. part_ticket_id is the part of the thread it belongs to (parts.c): the
 * ticket of the customer who wrote it or whom the reply answers, a ticket of ticket_id's thread; 0 means ticket_id
 * itself. Returns the message id (> 0), or minus the error status. */
int64_t tkt_message_add(struct destek_req *r, struct destek_db *w, int64_t ticket_id, int64_t part_ticket_id,
                        const char *kind, int64_t user_id, int64_t customer_id, const char *body,
                        const char *body_html, const cJSON *attachments, const char *actor);
/* tkt_message_add that also makes the n_drafts draft files draft_ids (tkt_draft_files_field) its attachments. */
int64_t tkt_message_add_drafts(struct destek_req *r, struct destek_db *w, int64_t ticket_id, int64_t part_ticket_id,
                               const char *kind, int64_t user_id, int64_t customer_id, const char *body,
                               const char *body_html, const cJSON *attachments, const int64_t *draft_ids,
                               int n_drafts, const char *actor);
/* A message as POST /api/v1/tickets/{id}/messages asks for it (body: {body, kind, body_html, attachments,
 * draft_files, to_customer_id, via, changes}) added in r's transaction as r's user, its changes applied after it; with
 * dry, only checked (nothing written: a held reply, sending.c). 0 with *message_id (0 when dry), or the error status. */
int tkt_message_request(struct destek_req *r, int64_t id, const cJSON *body, int dry, int64_t *message_id);
/* --- macros.c: a "changes" object {status, priority, add_tags, remove_tags, assignee_id, team_id} --- */
int tkt_changes_check(struct destek_req *r, const cJSON *c);
int tkt_changes_apply_json(struct destek_req *r, struct destek_db *w, int64_t ticket_id, const cJSON *ch,
                           const char *actor);
/* --- sending.c: the undo window and the reply's channel --- */
long tkt_undo_seconds(void);
/* Holds the reply of POST …/messages for the undo window: 202 {scheduled}. */
int tkt_message_hold(struct destek_req *r, int64_t ticket_id, const cJSON *body);
/* The channel a reply on ticket_id goes out on (obj's "via", else the ticket's channel; e-mail for email, web, api and
 * phone tickets): via gets "email" or the channel. 0, or the error set up (409 channel_unavailable, 422). */
int tkt_reply_via(struct destek_req *r, struct destek_db *db, int64_t ticket_id, const cJSON *obj, char via[24]);
int tkt_sending_init(const struct destek_host *h);
/* obj's member name as a list of at most 10 e-mail addresses: 0 with *out a new JSON array text (NULL when absent
 * or empty; caller frees), or the 422 set up naming the member. */
int tkt_address_list_field(struct destek_req *r, const cJSON *obj, const char *name, char **out);
/* text with the agent's signature and the ticket's mailbox's under it (a new string), or NULL when there is none. */
char *tkt_signed_text_new(struct destek_req *r, struct destek_db *db, int64_t ticket_id, const char *text);
/* --- snooze.c, notify.c --- */
int tkt_snoozed_until(struct destek_db *db, int64_t ticket_id, char out[21]);
int tkt_snooze_init(const struct destek_host *h);
int tkt_notify_init(const struct destek_host *h);
int tkt_views_init(const struct destek_host *h);   /* views.c: saved inbox views */
int tkt_seen_init(const struct destek_host *h);    /* seen.c: per-agent seen marks */
int tkt_order_refs_init(const struct destek_host *h);   /* order_refs.c: an order number's tickets */
/* mail_send.c: queues a mail as the service ticketing.mail_send does, with ticket files (tkt_attachments ids). */
int tkt_mail_queue(struct destek_req *call, const cJSON *args, const cJSON *attachment_ids, cJSON **result);
/* Creates a ticket and its first (customer) message; emits ticket.created (extra taken, may be NULL).
 * Returns the ticket id, or minus the error status. */
int64_t tkt_ticket_create(struct destek_req *r, struct destek_db *w, const char *subject, int64_t customer_id,
                          const char *body, const char *channel, const char *priority, const cJSON *tags,
                          const char *order_number, const cJSON *attachments, const char *actor, cJSON *extra);
/* Reads a new ticket from obj (the body of POST /api/v1/tickets: subject, body, customer {email, phone, name, lang},
 * channel, priority, tags, order_number, attachments) and creates it in r's transaction, customer matched, as r's
 * user: 0 with *ticket_id, or the error status set up (422 naming the field). */
int tkt_ticket_open(struct destek_req *r, const cJSON *obj, int64_t *ticket_id);
/* The same, routed to team_id (0: no team) from the start, so that ticket.created already names the team. */
int64_t tkt_ticket_create_in_team(struct destek_req *r, struct destek_db *w, const char *subject, int64_t customer_id,
                                  const char *body, const char *channel, const char *priority, const cJSON *tags,
                                  const char *order_number, const cJSON *attachments, const char *actor,
                                  int64_t team_id, cJSON *extra);

/* --- parts.c: the customers of a thread after merges --- */
/* The ticket whose thread ticket_id's messages are in: itself, or the end of its chain of merges. */
int64_t tkt_thread_of(struct destek_db *db, int64_t ticket_id);
/* customer_id's part of thread_id's thread: thread_id when it is that customer's ticket, else the first of the
 * customer's tickets merged into it (directly or through others); 0 when the customer has no part in it. */
int64_t tkt_part_of(struct destek_db *db, int64_t thread_id, int64_t customer_id);
/* How many different customers have a part in thread_id's thread (1 unless other customers' tickets were merged
 * into it). */
int tkt_thread_customers(struct destek_db *db, int64_t thread_id);
/* The thread's tickets, thread_id first: [{ticket_id, reference, subject, order_number, customer: {id, name, email,
 * lang}}]. */
cJSON *tkt_parts_json(struct destek_db *db, int64_t thread_id);
/* Reads "to_customer_id" of obj (may be NULL): which customer's part a public reply on thread_id is for. Absent:
 * the thread's own customer, unless the thread has several (then it is required). Sets *part_ticket_id. 0 or the
 * 422 it set up. */
int tkt_reply_part_field(struct destek_req *r, struct destek_db *db, const cJSON *obj, int64_t thread_id,
                         int64_t *part_ticket_id);

/* --- customers.c --- */
/* A customer is a core contact (host->contact_*): ticketing keeps its id in tkt_tickets.customer_id and
 * tkt_messages.author_customer_id and reads core_contacts when it joins. */
/* The contact with this e-mail or phone, or a new one, in the call's transaction; fills in a missing name, e-mail or
 * phone. email and phone may be NULL (not both). Returns the id, or -1 (logged). */
int64_t tkt_customer_match(struct destek_req *call, const char *email, const char *name, const char *phone,
                           const char *lang);
/* Normalises a phone number to E.164 (Turkish defaults) into out[24]; 0, or -1 when it is not one. */
int tkt_phone_normalise(const char *in, char out[24]);
/* The customer as the API shows it: {id, name, email, phone, lang, merged_into, created_at, updated_at}. */
cJSON *tkt_customer_json(struct destek_db *db, int64_t customer_id);
/* --- contacts.c: ticketing's part when contacts are merged, exported or erased --- */
int tkt_contacts_init(void);

/* --- attachments.c --- */
/* The largest attachment accepted, in bytes (the setting ticketing.attachment_max_bytes). */
long tkt_attachment_max_bytes(void);
/* Checks an "attachments" array before anything is written. 0 or the error status it set up (422, 413). */
int tkt_attachments_check(struct destek_req *r, const cJSON *list);
/* Stores the files of a checked array under <data>/attachments/ and records them. 0 or the error status. */
int tkt_attachments_save(struct destek_req *r, struct destek_db *w, int64_t ticket_id, int64_t message_id,
                         const cJSON *list);
/* <data>/attachments, where message and draft files live. */
void tkt_attachments_dir(char *out, size_t outlen);
/* Decodes the data_base64 of checked attachment a (in place: the value becomes "") and writes it durably under a
 * new random name (storage) in tkt_attachments_dir. 0 with storage, sha and *size, or the error status set up. The
 * caller records the file in the same transaction; a file whose row never commits is swept (drafts.c). */
int tkt_attachment_store(struct destek_req *r, const cJSON *a, char storage[48], char sha[65], size_t *size);
/* Answers with the file of st's row (filename, content_type, storage, size; bound, not yet stepped; finished here);
 * 404 when there is no row. Returns the status. */
int tkt_file_send(struct destek_req *r, sqlite3_stmt *st, int64_t id);
/* The attachments of a message as JSON. */
cJSON *tkt_attachments_json(struct destek_db *db, int64_t message_id);
/* Answers with the file of attachment id (a download, an inert Content-Type); 404 when there is none. The caller
 * has decided that the requester may have it. Returns the status. */
int tkt_attachment_send(struct destek_req *r, struct destek_db *db, int64_t id);

/* --- drafts.c: files of an agent's draft reply, kept on the server --- */
/* Reads "draft_files" of obj (absent or null: *n = 0): ids of user_id's draft files on ticket_id, at most
 * TKT_ATTACHMENTS_MAX - already. Fills ids (TKT_ATTACHMENTS_MAX long). 0 or the error status set up (422). */
int tkt_draft_files_field(struct destek_req *r, struct destek_db *db, const cJSON *obj, int64_t ticket_id,
                          int64_t user_id, int already, int64_t *ids, int *n);
/* Makes the n draft files ids the attachments of message_id (same files, no copy), in w's transaction. 0 or the
 * error status set up. */
int tkt_draft_files_take(struct destek_req *r, struct destek_db *w, int64_t ticket_id, int64_t message_id,
                         const int64_t *ids, int n);
/* Registers the draft routes and the cleanup job. 0 or -1. */
int tkt_drafts_init(const struct destek_host *h);

/* --- search.c --- */
/* Marks the ticket's row of the search index (subject, messages, customer) to be rewritten when the open write
 * transaction commits. Returns 0. */
int tkt_search_refresh(struct destek_db *w, int64_t ticket_id);
/* The same for a ticket created in the open transaction (its row is written without looking for an old one). */
int tkt_search_added(struct destek_db *w, int64_t ticket_id);
/* Registers the commit hook that writes the marked rows (once per process). 0 or -1. */
int tkt_search_init(void);

/* --- services.c: ticketing.open, ticketing.note, ticketing.get, ticketing.link --- */
int tkt_services_init(const struct destek_host *h);
/* ticketing.report_facts, the help desk's figures for the reports module (report.c). 0 or -1. */
int tkt_report_init(const struct destek_host *h);
/* mail_send.c: the service ticketing.mail_send (mail other modules queue for a customer). 0 or -1. */
int tkt_mail_send_init(const struct destek_host *h);
/* rating.c: the service ticketing.rate (a module tells a ticket its customer's score: ticket.rated). 0 or -1. */
int tkt_rating_init(const struct destek_host *h);
int tkt_services_messages_init(const struct destek_host *h);   /* services_messages.c */
int tkt_attachments_services_init(const struct destek_host *h);   /* attachments.c: ticketing.attachment_read */

/* --- admin_table.c: list, read, delete and the answer after a save, for tables admins edit row by row --- */
struct tkt_admin_table {
  const char *noun;                                     /* "macro": in "no such macro" */
  cJSON *(*json)(struct destek_db *db, int64_t id);     /* the row as the API shows it; NULL when there is none */
  const char *list_sql;                                 /* SELECT id ... in the list's order */
  const char *exists_sql;                               /* SELECT count(*) ... WHERE id = ?1 */
  const char *delete_sql;                               /* DELETE ... WHERE id = ?1 */
};
int tkt_admin_list(struct destek_req *r, const struct tkt_admin_table *t);
int tkt_admin_get(struct destek_req *r, const struct tkt_admin_table *t);     /* the path's {id} */
int tkt_admin_delete(struct destek_req *r, const struct tkt_admin_table *t);  /* the path's {id}; 204 */
/* After a save in the open transaction: 201 with the new row (id 0: the last inserted) or 200 with row id. */
int tkt_admin_saved(struct destek_req *r, const struct tkt_admin_table *t, int64_t id);

/* --- presence.c --- */
void tkt_presence_forget(int64_t ticket_id);
/* Declares the ticket events streamed to agents' sockets and the "ticket:<id>" presence subjects. 0 or -1. */
int tkt_live_init(void);

#endif
