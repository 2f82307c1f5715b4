-- Replies held for the undo window (sending.c): a row is a reply an agent sent that has not gone yet. The reply is
-- written (and mailed) by the timer ticketing.send_reply at send_at, in the same transaction that deletes the row;
-- undoing deletes the row and the timer. A row whose reply could no longer be written (the ticket was closed
-- meanwhile, a file is gone) keeps the reason in error, for the agent to see and take the text back.
CREATE TABLE tkt_scheduled_replies (
  id         INTEGER PRIMARY KEY,
  ticket_id  INTEGER NOT NULL REFERENCES tkt_tickets(id),
  user_id    INTEGER NOT NULL,                      -- core_users.id: who sent it
  request    TEXT NOT NULL,                         -- the JSON body of POST /tickets/{id}/messages, as checked
  send_at    INTEGER NOT NULL,                      -- unix seconds
  error      TEXT,                                  -- JSON {code, message} when it could not be sent
  created_at TEXT NOT NULL
);
CREATE INDEX tkt_scheduled_replies_ticket ON tkt_scheduled_replies(ticket_id, user_id);

-- The channel a reply went out on (sending.c): NULL is e-mail; another is a module's sender (<module>.channel_send).
ALTER TABLE tkt_messages ADD COLUMN via TEXT;
