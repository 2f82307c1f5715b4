-- Per-agent seen marks (seen.c): a ticket's newest message when an agent last opened it, so the inbox can mark "the
-- customer wrote since you last looked" for that agent alone.
CREATE TABLE tkt_seen (
  user_id    INTEGER NOT NULL,                     -- core_users.id
  ticket_id  INTEGER NOT NULL REFERENCES tkt_tickets(id),
  message_id INTEGER NOT NULL,                     -- the ticket's newest message id when seen (0: none)
  seen_at    TEXT NOT NULL,
  PRIMARY KEY (user_id, ticket_id)
) WITHOUT ROWID;

-- The inbox's search by order number (order_refs.c): the tickets whose form named the order, without a scan.
CREATE INDEX tkt_tickets_order_number ON tkt_tickets(order_number COLLATE NOCASE) WHERE order_number IS NOT NULL;
