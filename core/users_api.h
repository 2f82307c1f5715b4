/* Routes: /api/v1/users (admin). */
#ifndef DESTEK_USERS_API_H
#define DESTEK_USERS_API_H
#include <stdint.h>
struct destek_req;
int users_api_init(void);
/* Emits event (user.created / user.updated) for user_id in the call, with {id,email,name,role,active,lang}. */
int users_emit(struct destek_req *call, const char *event, int64_t user_id);
#endif
