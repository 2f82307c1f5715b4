/* host.h — ticketing's names for the plugin API (include/destek.h), in the manner of SQLite's sqlite3ext.h: each
 * tkt_X(...) calls tkt_host->X(...), the host table ticketing_init received, so the code reads as plainly as when
 * it called the core directly, without pretending to be the core. Only the functions ticketing uses are here. */
#ifndef TKT_HOST_H
#define TKT_HOST_H
#include "destek.h"

extern const struct destek_host *tkt_host;

#define tkt_log(level, ...)                   tkt_host->log(tkt_host, level, __VA_ARGS__)

/* --- calls --- */
#define tkt_call_new()                        tkt_host->call_new(tkt_host)
#define tkt_call_end(call, commit)            tkt_host->call_end(call, commit)
#define tkt_act_as(call, user_id)             tkt_host->act_as(call, user_id)
#define tkt_call_service(call, name, a, res)  tkt_host->call_service(call, name, a, res)

/* --- storage --- */
#define tkt_db_read(call)                     tkt_host->db_read(call)
#define tkt_db_write(call)                    tkt_host->db_write(call)
#define tkt_db_commit(call)                   tkt_host->db_commit(call)
#define tkt_db_prepare(db, sql)               tkt_host->db_prepare(db, sql)
#define tkt_db_done(st)                       tkt_host->db_done(st)
#define tkt_db_bind(...)                      tkt_host->db_bind(__VA_ARGS__)
#define tkt_db_bindv(st, types, ap)           tkt_host->db_bindv(st, types, ap)
#define tkt_db_exec(...)                      tkt_host->db_exec(__VA_ARGS__)
#define tkt_db_int(...)                       tkt_host->db_int(__VA_ARGS__)
#define tkt_db_text_new(...)                  tkt_host->db_text_new(__VA_ARGS__)
#define tkt_db_last_id(db)                    tkt_host->db_last_id(db)
#define tkt_db_changes(db)                    tkt_host->db_changes(db)
#define tkt_db_errmsg(db)                     tkt_host->db_errmsg(db)

/* --- requests --- */
#define tkt_param(r, name)                    tkt_host->param(r, name)
#define tkt_param_int(r, name)                tkt_host->param_int(r, name)
#define tkt_query_get(r, name, buf, len)      tkt_host->query_get(r, name, buf, len)
#define tkt_header(r, name)                   tkt_host->header(r, name)
#define tkt_body(r, out)                      tkt_host->body(r, out)
#define tkt_body_drop(r)                      tkt_host->body_drop(r)
#define tkt_user_id(r)                        tkt_host->user_id(r)
#define tkt_lang(r)                           tkt_host->lang(r)
#define tkt_client_ip(r)                      tkt_host->client_ip(r)
#define tkt_base_url()                        tkt_host->base_url()
#define tkt_status(r)                         tkt_host->status(r)
#define tkt_error_object(r)                   tkt_host->error_object(r)
#define tkt_reply_json(r, status, body)       tkt_host->reply_json(r, status, body)
#define tkt_reply_take(r, status, type, body, len) tkt_host->reply_take(r, status, type, body, len)
#define tkt_reply_empty(r, status)            tkt_host->reply_empty(r, status)
#define tkt_error(...)                        tkt_host->error(__VA_ARGS__)
#define tkt_field_error(...)                  tkt_host->field_error(__VA_ARGS__)
#define tkt_add_header(r, name, value)        tkt_host->add_header(r, name, value)
#define tkt_field_str(r, o, name, req, max, out) tkt_host->field_str(r, o, name, req, max, out)
#define tkt_field_enum(r, o, name, req, ch, out) tkt_host->field_enum(r, o, name, req, ch, out)
#define tkt_field_bool(r, o, name, req, out)  tkt_host->field_bool(r, o, name, req, out)
#define tkt_field_email(r, o, name, req, out) tkt_host->field_email(r, o, name, req, out)
#define tkt_page(r, limit, after)             tkt_host->page(r, limit, after)
#define tkt_list_new(items, next_after)       tkt_host->list_new(items, next_after)

/* --- settings, events, timers, policies --- */
#define tkt_setting_new(name)                 tkt_host->setting_new(name)
#define tkt_setting_int(name, dflt)           tkt_host->setting_int(name, dflt)
#define tkt_setting_bool(name, dflt)          tkt_host->setting_bool(name, dflt)
#define tkt_timer_at(call, kind, key, due, payload) tkt_host->timer_at(call, kind, key, due, payload)
#define tkt_timer_cancel(call, kind, key)     tkt_host->timer_cancel(call, kind, key)
#define tkt_decide_new(call, policy, args)    tkt_host->decide_new(call, policy, args)

/* --- people, secrets, HTML, files, the network --- */
#define tkt_audit(call, action, target, detail) tkt_host->audit(call, action, target, detail)
#define tkt_user_create(call, email, name, role, lang, password) \
  tkt_host->user_create(call, email, name, role, lang, password)
#define tkt_random(buf, len)                  tkt_host->random_bytes(buf, len)
#define tkt_sha256_hex(data, len, out)        tkt_host->sha256_hex(data, len, out)
#define tkt_hmac_sha256_hex(k, kl, d, dl, out) tkt_host->hmac_sha256_hex(k, kl, d, dl, out)
#define tkt_token(out, nbytes)                tkt_host->token(out, nbytes)
#define tkt_html_sanitize_new(html)           tkt_host->html_sanitize_new(html)
#define tkt_data_dir()                        tkt_host->data_dir()
#define tkt_curl_ready()                      tkt_host->curl_ready()

/* --- rate limits, the portal --- */
#define tkt_rate_take(call, kind, key, limit, window, wait) tkt_host->rate_take(call, kind, key, limit, window, wait)
#define tkt_rate_full(call, kind, key, limit, window) tkt_host->rate_full(call, kind, key, limit, window)
#define tkt_rate_forget(call, hit_id)         tkt_host->rate_forget(call, hit_id)

/* --- colleagues (a host without user_online counts everyone as online) --- */
#define tkt_user_online(call, user_id) \
  (DESTEK_HOST_HAS(tkt_host, user_online) ? tkt_host->user_online(call, user_id) : 1)

/* --- live updates --- */
#define tkt_presence_touch(call, subject, typing) tkt_host->presence_touch(call, subject, typing)
#define tkt_presence_new(call, subject)       tkt_host->presence_new(call, subject)
#define tkt_presence_forget_subject(subject)  tkt_host->presence_forget(subject)

/* --- contacts (the core's people: customers are contacts) --- */
#define tkt_contact_normalise(kind, v, out, len) tkt_host->contact_normalise(kind, v, out, len)
#define tkt_contact_resolve(call, email, phone, wa, name, lang) \
  tkt_host->contact_resolve(call, email, phone, wa, name, lang)
#define tkt_contact_find(call, kind, value)   tkt_host->contact_find(call, kind, value)
#define tkt_contact_merge(call, target, source) tkt_host->contact_merge(call, target, source)
#define tkt_contact_hooks(hooks)              tkt_host->contact_hooks(tkt_host, hooks)
#define tkt_export_file(ex, path, data, len)  tkt_host->export_file(ex, path, data, len)

#endif
