/* Routes: /api/v1/users (admin). */
#ifndef DESTEK_USERS_API_H
#define DESTEK_USERS_API_H
int users_api_init(void);
#endif
