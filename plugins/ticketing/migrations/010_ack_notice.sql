-- An automatic reply a trigger adds while a ticket is being opened (the out-of-hours notice) goes to the customer
-- inside the acknowledgement of that ticket, not as a second mail a moment later: mail_with_ack marks it.
ALTER TABLE tkt_messages ADD COLUMN mail_with_ack INTEGER NOT NULL DEFAULT 0;
