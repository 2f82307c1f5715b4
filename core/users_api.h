/* Routes: /api/v1/users (admin). */
#ifndef DESTEK_USERS_API_H
#define DESTEK_USERS_API_H
#include <stdint.h>
struct destek_req;
int users_api_init(void);
/* Emits event (user.created / user.updated) for user_id in the call, with {id,email,name,role,active,lang}. */
int users_emit(struct destek_req *call, const char *event, int64_t user_id);
/* Creates an active user whose password is already hashed, in call's transaction (begun here): audited as
 * user.created (detail {role[, via]}), user.created emitted; a new admin retires the one-time setup link. The new id,
 * 0 when the e-mail is taken, -1 on another error (the call has an error set up when a veto or the writer said no). */
int64_t users_add(struct destek_req *call, const char *email, const char *name, const char *role, const char *lang,
                  const char *password_hash, const char *via);
#endif
