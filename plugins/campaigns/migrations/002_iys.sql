-- İYS (iys.lua): what became of each ledger record pushed to İYS (done: accepted, with its transaction id; failed: to
-- be tried again; refused: İYS answered 4xx, not retried), and where the pull of İYS's changes stands.
CREATE TABLE campaigns_iys_push (
  consent_id INTEGER PRIMARY KEY,        -- core_consent.id
  status TEXT NOT NULL CHECK (status IN ('done', 'failed', 'refused')),
  transaction_id TEXT,
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 1,
  at INTEGER NOT NULL
);

CREATE TABLE campaigns_iys_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  after TEXT NOT NULL DEFAULT '',
  pulled_at INTEGER
);
