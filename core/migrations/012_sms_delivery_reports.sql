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
