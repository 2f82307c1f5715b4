/* The colleague directory: every signed-in user may see who their colleagues are (GET /api/v1/directory), so the
 * agents' app names people instead of showing "#3". Only what the app shows of a person: id, name, role, whether the
 * account is active, whether they are online now, and what plugins add (ticketing: their teams). Never an e-mail
 * address, language or anything else of core_users. */
#ifndef DESTEK_DIRECTORY_H
#define DESTEK_DIRECTORY_H
#include <stdint.h>

#include "destek.h"

struct db;

/* Seconds since a session was last used within which its user counts as online (sessions record use at most once a
 * minute), besides an open live socket. */
#define DIRECTORY_ONLINE_SECONDS 300

/* 1 when user_id is online now: an open live socket or short-poll presence report, or a session of theirs used in
 * the last DIRECTORY_ONLINE_SECONDS. db: a connection to read sessions with. */
int directory_user_online(struct db *db, int64_t user_id);

/* From a plugin's init: fn adds the plugin's facts to each page of the directory (owner: the plugin). 0, or -1
 * (logged: too many). */
int directory_extend(const char *owner, destek_directory_fn fn, void *ud);

/* GET /api/v1/directory. 0 or -1. */
int directory_routes_init(void);

#endif
