-- Snoozed tickets (snooze.c): a pending ticket that comes back (open) by itself at until (the timer
-- ticketing.unsnooze, keyed by the ticket id).
CREATE TABLE tkt_snoozes (
  ticket_id  INTEGER PRIMARY KEY REFERENCES tkt_tickets(id),
  until_at   INTEGER NOT NULL,                      -- unix seconds
  user_id    INTEGER,                               -- core_users.id: who snoozed it
  created_at TEXT NOT NULL
);

-- Agents' notifications (notify.c): written in the transaction of what they tell (an assignment, an @mention in a
-- note, a customer's reply on the agent's ticket), read and marked read by their user only.
CREATE TABLE tkt_notifications (
  id         INTEGER PRIMARY KEY,
  user_id    INTEGER NOT NULL,                      -- core_users.id: whom it is for
  kind       TEXT NOT NULL CHECK (kind = 'assigned' OR kind = 'mention' OR kind = 'customer_reply'),
  ticket_id  INTEGER NOT NULL REFERENCES tkt_tickets(id),
  message_id INTEGER,
  actor_name TEXT,
  created_at TEXT NOT NULL,
  read_at    TEXT
);
CREATE INDEX tkt_notifications_user ON tkt_notifications(user_id, id);

-- Each user's choice per kind: in the app (a notification is written) and on the desktop (the browser shows it).
-- No row: both on.
CREATE TABLE tkt_notify_prefs (
  user_id INTEGER NOT NULL,
  kind    TEXT NOT NULL,
  in_app  INTEGER NOT NULL DEFAULT 1,
  desktop INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (user_id, kind)
);
