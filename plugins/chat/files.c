/* Agents' files in the chat: a file an agent attaches to a reply in the ticket view reaches the visitor.
 *
 * ticketing hands the reply to chat.channel_send with its attachments ({id, filename, content_type, size}); each within
 * the portal's limit (ticketing.attachment_max_bytes) is recorded for the conversation (chat_files) and listed in the
 * chat message's files as {id, name, size}; a larger one is listed by name only, {name, size, too_large: true}: it is
 * never served to the visitor (the widget says it is too large for the chat).
 *
 *   GET /api/v1/chat/files/{id} (X-Chat-Token) -> the file, as a download (Content-Disposition: attachment; the type
 *       only one browsers do not run, else application/octet-stream), for the visitor of its conversation alone (404
 *       for anyone else); the bytes come from ticketing.attachment_read. */
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destek_util.h"

int chat_files_record(struct destek_req *call, struct destek_db *w, int64_t conv, int64_t seq, int64_t ticket_message_id,
                      const cJSON *attachments)
{
  if (!cJSON_IsArray(attachments) || !cJSON_GetArraySize(attachments)) return 0;
  (void)call;
  long max = H->setting_int("ticketing.attachment_max_bytes", 10 << 20);
  cJSON *files = cJSON_CreateArray();
  const cJSON *a;
  cJSON_ArrayForEach(a, attachments) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id"), *size = cJSON_GetObjectItemCaseSensitive(a, "size");
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "filename"));
    if (!cJSON_IsNumber(id) || !cJSON_IsNumber(size) || !name) continue;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "name", name);
    cJSON_AddNumberToObject(f, "size", size->valuedouble);
    if (size->valuedouble <= (double)max &&
        H->db_exec(w, "INSERT OR IGNORE INTO chat_files(attachment_id, conversation_id, ticket_message_id, filename, size)"
                      " VALUES (?1, ?2, ?3, ?4, ?5)", "iiiti", (int64_t)id->valuedouble, conv, ticket_message_id, name,
                   (int64_t)size->valuedouble) == SQLITE_OK)
      cJSON_AddNumberToObject(f, "id", id->valuedouble);
    else if (size->valuedouble > (double)max)
      cJSON_AddTrueToObject(f, "too_large");   /* the widget says so: the visitor asks for it another way */
    cJSON_AddItemToArray(files, f);
  }
  char *json = cJSON_PrintUnformatted(files);
  cJSON_Delete(files);
  int rc = H->db_exec(w, "UPDATE chat_messages SET files = ?3 WHERE conversation_id = ?1 AND seq = ?2", "iit", conv, seq,
                      json) == SQLITE_OK ? 0 : -1;
  free(json);
  return rc;
}

static int file_get(struct destek_req *r)
{
  struct chat_visitor v;
  int rc = chat_visitor_auth(r, &v, 0);
  if (rc) return rc;
  int64_t id = H->param_int(r, "id");
  int64_t mid = H->db_int(H->db_read(r), 0, "SELECT f.ticket_message_id FROM chat_files f JOIN chat_conversations c"
                                            " ON c.id = f.conversation_id WHERE f.attachment_id = ?1 AND c.visitor_id = ?2",
                          "ii", id, v.id);
  if (!mid) return H->error(r, 404, "not_found", "no such file");
  cJSON *args = cJSON_CreateObject(), *res = NULL;
  cJSON_AddNumberToObject(args, "message_id", (double)mid);
  cJSON_AddNumberToObject(args, "attachment_id", (double)id);
  rc = H->call_service(r, "ticketing.attachment_read", args, &res);
  cJSON_Delete(args);
  if (rc) {
    cJSON_Delete(res);
    return rc == 501 ? H->error(r, 404, "not_found", "the file is not available") : rc;
  }
  const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "data_base64"));
  const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "content_type"));
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "filename"));
  size_t len = b64 ? strlen(b64) : 0;
  char *data = malloc(len / 4 * 3 + 4);
  long n = data && b64 ? util_b64_decode(b64, len, data, len / 4 * 3 + 4) : -1;
  if (n < 0) {
    free(data);
    cJSON_Delete(res);
    return H->error(r, 500, "internal", "the file could not be read");
  }
  /* Content-Disposition: attachment, an ASCII name (RFC 6266's plain form; the widget names the download itself). */
  char ascii[200], cd[260];
  size_t k = 0;
  for (const unsigned char *p = (const unsigned char *)(name ? name : "file"); *p && k < sizeof ascii - 1; p++)
    ascii[k++] = (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != ';') ? (char)*p : '_';
  ascii[k] = 0;
  snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", ascii);
  H->add_header(r, "Content-Disposition", cd);
  H->add_header(r, "Cache-Control", "private, no-store");
  H->add_header(r, "Access-Control-Expose-Headers", "Content-Disposition");
  char ctype[128];
  snprintf(ctype, sizeof ctype, "%s", type ? type : "application/octet-stream");
  int status = H->reply_take(r, 200, ctype, data, (size_t)n);
  cJSON_Delete(res);
  return status;
}

const struct destek_route chat_file_routes[] = {
  { "OPTIONS", "/api/v1/chat/files/{id}", chat_preflight, DESTEK_PUBLIC, "id:int", 0 },
  { "GET", "/api/v1/chat/files/{id}", file_get, DESTEK_PUBLIC, "id:int", 0 },
  { 0 }
};
