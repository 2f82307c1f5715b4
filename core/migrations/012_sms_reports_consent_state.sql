-- SMS delivery reports (sms_report.c): what the gateway's report API says became of an SMS it took (gateway_ref), polled
-- by the core's job sms.reports through the adapter's "report" action. delivery: NULL (no report asked: e-mail, or an
-- SMS not taken), 'pending' (asked, no final answer yet), 'delivered' (reached the handset), 'undelivered' (the
-- operator gave up: a wrong or closed number, blacklisted, İYS refused), 'unknown' (no final answer within 72 hours).
ALTER TABLE core_messages ADD COLUMN delivery TEXT CHECK (delivery IS NULL OR delivery IN ('pending', 'delivered',
                                                                                          'undelivered', 'unknown'));
ALTER TABLE core_messages ADD COLUMN delivery_at TEXT;       -- when the gateway says it was delivered (UTC), or learnt
ALTER TABLE core_messages ADD COLUMN delivery_error TEXT;    -- the gateway's reason for 'undelivered'
ALTER TABLE core_messages ADD COLUMN report_next_at INTEGER NOT NULL DEFAULT 0;   -- unix seconds: the next query
ALTER TABLE core_messages ADD COLUMN report_tries INTEGER NOT NULL DEFAULT 0;
CREATE INDEX core_messages_report ON core_messages(report_next_at) WHERE delivery = 'pending';

-- The current state of each (contact, channel), kept by triggers from the ledger: a derived cache for reading many
-- contacts at once (a campaign's segment over 100,000 contacts: one key lookup a contact instead of sorting its
-- records). The ledger stays the truth: the core's send path derives the state from core_consent itself. The rule is
-- the ledger's: the latest `at` wins, a RET winning a tie, then the later record; records of contacts merged into a
-- contact count as its own (the row is the survivor's).
CREATE TABLE core_consent_state (
  contact_id INTEGER NOT NULL,
  channel    TEXT NOT NULL,
  status     TEXT NOT NULL,
  at         TEXT NOT NULL,
  record_id  INTEGER NOT NULL,
  PRIMARY KEY (contact_id, channel)
) WITHOUT ROWID;

INSERT INTO core_consent_state(contact_id, channel, status, at, record_id)
  SELECT root, channel, status, at, id FROM (
    SELECT coalesce(c.merged_into, k.contact_id) AS root, k.channel, k.status, k.at, k.id,
           row_number() OVER (PARTITION BY coalesce(c.merged_into, k.contact_id), k.channel
                              ORDER BY k.at DESC, k.status = 'RET' DESC, k.id DESC) AS rn
      FROM core_consent k JOIN core_contacts c ON c.id = k.contact_id)
  WHERE rn = 1;

CREATE TRIGGER core_consent_state_record AFTER INSERT ON core_consent
BEGIN
  INSERT INTO core_consent_state(contact_id, channel, status, at, record_id)
    VALUES (coalesce((SELECT merged_into FROM core_contacts WHERE id = NEW.contact_id), NEW.contact_id), NEW.channel,
            NEW.status, NEW.at, NEW.id)
    ON CONFLICT(contact_id, channel) DO UPDATE SET status = excluded.status, at = excluded.at,
                                                   record_id = excluded.record_id
    WHERE excluded.at > core_consent_state.at
       OR (excluded.at = core_consent_state.at AND (excluded.status = 'RET' OR core_consent_state.status <> 'RET'));
END;

CREATE TRIGGER core_consent_state_merge AFTER UPDATE OF merged_into ON core_contacts WHEN NEW.merged_into IS NOT NULL
BEGIN
  INSERT OR REPLACE INTO core_consent_state(contact_id, channel, status, at, record_id)
    SELECT NEW.merged_into, channel, status, at, id FROM (
      SELECT k.channel, k.status, k.at, k.id,
             row_number() OVER (PARTITION BY k.channel ORDER BY k.at DESC, k.status = 'RET' DESC, k.id DESC) AS rn
        FROM core_consent k WHERE k.contact_id = NEW.merged_into
          OR k.contact_id IN (SELECT m.id FROM core_contacts m WHERE m.merged_into = NEW.merged_into))
    WHERE rn = 1;
END;

-- One-click unsubscribes (RFC 8058), few among the ledger's records: a campaign's "unsubscribed" figure starts from them
-- instead of probing the ledger for each of its recipients.
CREATE INDEX core_consent_unsubscribes ON core_consent(contact_id) WHERE source = 'unsubscribe_link';
