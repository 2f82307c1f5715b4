-- Tickets of different customers merged into one thread (README.md, "Merging"): each message records whose
-- conversation it is part of, so that a customer's link, downloads and mail show that customer's part only.
-- part_ticket_id is the ticket of that customer's conversation: the one the customer wrote to, the one an agent's
-- reply answers (its customer is who the reply is mailed to), the one a note was written on.
ALTER TABLE tkt_messages ADD COLUMN part_ticket_id INTEGER REFERENCES tkt_tickets(id);

-- A note the desk writes with a fixed meaning (mail about a ticket from an address that is not its customer's):
-- JSON {"code", ...} the agents' app shows in the agent's language; body keeps a plain-text copy.
ALTER TABLE tkt_messages ADD COLUMN notice TEXT;

-- The tickets merged into a thread, walked from the thread down.
CREATE INDEX tkt_tickets_merged_into ON tkt_tickets(merged_into) WHERE merged_into IS NOT NULL;

-- Before this migration a merge moved messages without saying where they came from. Every message is its own
-- ticket's; in a thread that tickets were merged into, the history line each message left where it was written
-- (field = its kind, new_value = its id) names the ticket it came from, and a customer's message belongs to that
-- customer's ticket in the thread (the first message of a ticket left no such line: it was written with the
-- ticket, at the same instant). Replies mailed after an earlier merge went to the thread's own customer: theirs.
UPDATE tkt_messages SET part_ticket_id = ticket_id;

CREATE TEMP TABLE tkt_merge_tree AS
  WITH RECURSIVE tree(id, thread) AS (
    SELECT id, id FROM tkt_tickets
     WHERE merged_into IS NULL AND id IN (SELECT merged_into FROM tkt_tickets WHERE merged_into IS NOT NULL)
    UNION
    SELECT t.id, tree.thread FROM tkt_tickets t JOIN tree ON t.merged_into = tree.id)
  SELECT tree.id AS id, tree.thread AS thread, t.customer_id AS customer_id, t.created_at AS created_at
    FROM tree JOIN tkt_tickets t ON t.id = tree.id;
CREATE INDEX temp.tkt_merge_tree_thread ON tkt_merge_tree(thread, id);

-- In order, each pass overriding the one before where it knows better. A customer's message: that customer's
-- ticket in the thread (the thread's own first), the one written at the same instant (its first message), the one
-- whose history holds the message. A reply or note: the ticket whose history holds it.
UPDATE tkt_messages SET part_ticket_id = coalesce(
  (SELECT tr.id FROM tkt_merge_tree tr WHERE tr.thread = tkt_messages.ticket_id
      AND tr.customer_id = tkt_messages.author_customer_id ORDER BY tr.id <> tr.thread, tr.id LIMIT 1), part_ticket_id)
WHERE kind = 'customer' AND ticket_id IN (SELECT thread FROM tkt_merge_tree);

UPDATE tkt_messages SET part_ticket_id = coalesce(
  (SELECT tr.id FROM tkt_merge_tree tr WHERE tr.thread = tkt_messages.ticket_id
      AND tr.customer_id = tkt_messages.author_customer_id AND tr.created_at = tkt_messages.created_at
    ORDER BY tr.id LIMIT 1), part_ticket_id)
WHERE kind = 'customer' AND ticket_id IN (SELECT thread FROM tkt_merge_tree);

UPDATE tkt_messages SET part_ticket_id = coalesce(
  (SELECT tr.id FROM tkt_merge_tree tr JOIN tkt_history h ON h.ticket_id = tr.id
    WHERE tr.thread = tkt_messages.ticket_id AND h.field = tkt_messages.kind
      AND h.new_value = CAST(tkt_messages.id AS TEXT)
      AND (tkt_messages.kind <> 'customer' OR tr.customer_id = tkt_messages.author_customer_id)
    ORDER BY h.id LIMIT 1), part_ticket_id)
WHERE ticket_id IN (SELECT thread FROM tkt_merge_tree);

DROP TABLE tkt_merge_tree;
