/* host.h — the orders module's names for the plugin API (include/destek.h), as ticketing/host.h does: each
 * ord_X(...) calls ord_host->X(...), the host table orders_init received. Only what this module uses is here. */
#ifndef ORD_HOST_H
#define ORD_HOST_H
#include "destek.h"

extern const struct destek_host *ord_host;

#define ord_log(level, ...)                   ord_host->log(ord_host, level, __VA_ARGS__)
#define ord_call_new()                        ord_host->call_new(ord_host)
#define ord_call_end(call, commit)            ord_host->call_end(call, commit)
#define ord_call_service(call, name, a, res)  ord_host->call_service(call, name, a, res)

#define ord_db_read(call)                     ord_host->db_read(call)
#define ord_db_write(call)                    ord_host->db_write(call)
#define ord_db_prepare(db, sql)               ord_host->db_prepare(db, sql)
#define ord_db_done(st)                       ord_host->db_done(st)
#define ord_db_bind(...)                      ord_host->db_bind(__VA_ARGS__)
#define ord_db_exec(...)                      ord_host->db_exec(__VA_ARGS__)
#define ord_db_int(...)                       ord_host->db_int(__VA_ARGS__)
#define ord_db_text_new(...)                  ord_host->db_text_new(__VA_ARGS__)
#define ord_db_last_id(db)                    ord_host->db_last_id(db)
#define ord_db_changes(db)                    ord_host->db_changes(db)

#define ord_param(r, name)                    ord_host->param(r, name)
#define ord_param_int(r, name)                ord_host->param_int(r, name)
#define ord_query_get(r, name, buf, len)      ord_host->query_get(r, name, buf, len)
#define ord_header(r, name)                   ord_host->header(r, name)
#define ord_body(r, out)                      ord_host->body(r, out)
#define ord_body_raw(r, data, len)            ord_host->body_raw(r, data, len)
#define ord_user_id(r)                        ord_host->user_id(r)
#define ord_lang(r)                           ord_host->lang(r)
#define ord_client_ip(r)                      ord_host->client_ip(r)
#define ord_base_url()                        ord_host->base_url()
#define ord_status(r)                         ord_host->status(r)
#define ord_error_object(r)                   ord_host->error_object(r)
#define ord_reply_json(r, status, body)       ord_host->reply_json(r, status, body)
#define ord_reply_body(r, status, type, b, n) ord_host->reply_body(r, status, type, b, n)
#define ord_reply_take(r, status, type, b, n) ord_host->reply_take(r, status, type, b, n)
#define ord_reply_empty(r, status)            ord_host->reply_empty(r, status)
#define ord_error(...)                        ord_host->error(__VA_ARGS__)
#define ord_field_error(...)                  ord_host->field_error(__VA_ARGS__)
#define ord_add_header(r, name, value)        ord_host->add_header(r, name, value)
#define ord_field_str(r, o, name, req, max, out) ord_host->field_str(r, o, name, req, max, out)
#define ord_field_enum(r, o, name, req, ch, out) ord_host->field_enum(r, o, name, req, ch, out)
#define ord_field_bool(r, o, name, req, out)  ord_host->field_bool(r, o, name, req, out)
#define ord_field_email(r, o, name, req, out) ord_host->field_email(r, o, name, req, out)
#define ord_page(r, limit, after)             ord_host->page(r, limit, after)
#define ord_list_new(items, next_after)       ord_host->list_new(items, next_after)

#define ord_setting_int(name, dflt)           ord_host->setting_int(name, dflt)
#define ord_emit(call, event, subject, p)     ord_host->emit(call, event, subject, p)
#define ord_audit(call, action, target, detail) ord_host->audit(call, action, target, detail)
#define ord_hmac_sha256_hex(k, kl, d, dl, out) ord_host->hmac_sha256_hex(k, kl, d, dl, out)
#define ord_http_request(req, resp, err, n)   ord_host->http_request(req, resp, err, n)
#define ord_http_response_free(resp)          ord_host->http_response_free(resp)
#define ord_rate_take(call, kind, key, limit, window, wait) ord_host->rate_take(call, kind, key, limit, window, wait)

#endif
