/* Contacts: one person across e-mail addresses, phone numbers and WhatsApp ids, shared by every module (the plugin
 * API's contact_* functions are these). Merge of duplicates and the KVKK rights of a person: export everything held
 * about a contact (core data and each module's part, through its hooks) as one ZIP or JSON, and erase (anonymise the
 * person everywhere, keeping rows, counts and the audit trail). Tables: core_contacts, core_contact_identities
 * (migrations/007_contacts.sql). */
#ifndef DESTEK_CONTACTS_H
#define DESTEK_CONTACTS_H
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "destek.h"

int contacts_normalise(const char *kind, const char *value, char *out, size_t outlen);
int64_t contacts_resolve(struct destek_req *call, const char *email, const char *phone, const char *whatsapp,
                         const char *name, const char *lang);
int64_t contacts_find(struct destek_req *call, const char *kind, const char *value);
cJSON *contacts_json_new(struct destek_req *call, int64_t contact_id);
int contacts_identity_add(struct destek_req *call, int64_t contact_id, const char *kind, const char *value);
int contacts_merge(struct destek_req *call, int64_t target_id, int64_t source_id);
/* Registers owner's hooks (copied). 0, or -1 when owner has some already or the table is full (logged). */
int contacts_hooks_add(const char *owner, const struct destek_contact_hooks *hooks);
/* Forgets owner's hooks (a plugin whose init failed). */
void contacts_hooks_forget(const char *owner);
int contacts_export_file(struct destek_export *ex, const char *path, const void *data, size_t len);

/* Routes (/api/v1/contacts/...), the services contacts.resolve/get/find, the contact event noun. 0 or -1. */
int contacts_init(void);

#endif
