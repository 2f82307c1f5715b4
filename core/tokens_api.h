/* API tokens: routes /api/v1/tokens (admin), and the registry of scope names tokens may carry. */
#ifndef DESTEK_TOKENS_API_H
#define DESTEK_TOKENS_API_H
int tokens_api_init(void);
/* Adds a scope name (e.g. "tickets:read") that tokens may carry. 0, or -1 if the name is malformed or the
 * registry is full. */
int tokens_scope_register(const char *scope);
#endif
