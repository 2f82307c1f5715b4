-- Per-agent seen marks (seen.c): the newest customer message an agent had when they last opened a ticket, so the
-- inbox can mark "the customer replied since you last looked" for that agent alone.
CREATE TABLE tkt_seen (
  user_id    INTEGER NOT NULL,                     -- core_users.id
  ticket_id  INTEGER NOT NULL REFERENCES tkt_tickets(id),
  message_id INTEGER NOT NULL,                     -- the ticket's newest message id when seen (0: none)
  seen_at    TEXT NOT NULL,
  PRIMARY KEY (user_id, ticket_id)
) WITHOUT ROWID;
