/* Routes: /api/v1/setup, /api/v1/auth/login|logout, /api/v1/me. */
#ifndef DESTEK_AUTH_API_H
#define DESTEK_AUTH_API_H
int auth_api_init(void);
#endif
