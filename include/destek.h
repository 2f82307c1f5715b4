/* destek.h — the one header a Destek plugin needs.
 *
 * Routes are declared in tables beside their handlers; every route states who may call it, and the router refuses
 * to register one that does not. A handler returns the HTTP status, after setting the response with the host's
 * reply functions; the core sends it, so one place writes responses. */
#ifndef DESTEK_H
#define DESTEK_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Who may call a route (struct destek_route.access). Any other string names an API-token scope: a token holding
 * that scope (or "admin") may call it, and so may an admin's session. */
#define DESTEK_PUBLIC "public"   /* anyone, no authentication */
#define DESTEK_AGENT  "agent"    /* a signed-in agent or admin, or a token with scope "agent" */
#define DESTEK_ADMIN  "admin"    /* a signed-in admin, or a token with scope "admin" */

struct destek_req;  /* one HTTP request; opaque, valid only while its handler runs */

/* Returns the HTTP status of the response it set up (see the reply functions). */
typedef int (*destek_handler)(struct destek_req *req);

struct destek_route {
  const char *method;       /* "GET", "POST", "PATCH", "PUT", "DELETE" */
  const char *pattern;      /* "/api/v1/users/{id}": a {name} matches one path segment */
  destek_handler handler;
  const char *access;       /* required: DESTEK_PUBLIC, DESTEK_AGENT, DESTEK_ADMIN or a scope name */
  const char *params;       /* validators for path parameters, e.g. "id:int"; NULL when there are none */
};

#ifdef __cplusplus
}
#endif
#endif
