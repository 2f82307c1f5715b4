/* The consent proof document (issue 17): a contact's ledger (consent.c) as a text a lawyer can read and print, in
 * Turkish or English, signed by the server (ECDSA P-256 over SHA-256, mbedTLS) with a key it makes once and keeps
 * (core_proof_keys, migration 011), the signing time inside the signed part; and its verification. Routes: GET
 * /api/v1/contacts/{id}/consent/proof (admin), GET /api/v1/consent/proof-keys (public), POST
 * /api/v1/consent/proof-verify (admin). CLI: destek consent proof|key|verify. */
#ifndef DESTEK_CONSENT_PROOF_H
#define DESTEK_CONSENT_PROOF_H
#include <stddef.h>
#include <stdint.h>

#include "destek.h"

struct db;
struct config;

struct proof_check {
  int valid;
  char reason[200], key_id[80], signed_at[32], document_id[48];
  int64_t contact_id;
};

/* The signed document of a contact (new, NUL-terminated), or NULL with the error set up on call (404, 500). Writes
 * the signing key in the call's transaction the first time. */
char *consent_proof_new(struct destek_req *call, int64_t contact_id, int en);
/* Checks doc[0..len) against public_pem, or (NULL) the key of db its Key-Id names. 0 when valid, else -1 (out->reason). */
int consent_proof_check(const char *doc, size_t len, const char *public_pem, struct db *db, struct proof_check *out);
/* `destek consent ...` (argv after "consent"): an exit status. */
int consent_cli(struct config *cfg, int argc, char **argv);
int consent_proof_init(void);

#endif
