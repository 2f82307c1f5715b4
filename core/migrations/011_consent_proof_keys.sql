-- The keys that sign consent proof documents (consent_proof.c): an ECDSA P-256 key pair the server makes the first
-- time a proof is asked for and keeps. key_id is "SHA256:" and the hex SHA-256 of the public key (DER), printed in every
-- document it signed, so that an older document is still checked against the key that signed it. Keys are never
-- changed or deleted (a document must stay verifiable).
CREATE TABLE core_proof_keys (
  id          INTEGER PRIMARY KEY,
  key_id      TEXT NOT NULL UNIQUE,
  algorithm   TEXT NOT NULL,             -- "ECDSA-P256-SHA256"
  public_pem  TEXT NOT NULL,
  private_pem TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE TRIGGER core_proof_keys_no_delete BEFORE DELETE ON core_proof_keys
BEGIN
  SELECT RAISE(ABORT, 'core_proof_keys: a signing key is kept so that the documents it signed stay verifiable');
END;
CREATE TRIGGER core_proof_keys_no_update BEFORE UPDATE ON core_proof_keys
BEGIN
  SELECT RAISE(ABORT, 'core_proof_keys: a signing key is never changed');
END;
