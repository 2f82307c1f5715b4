-- The last public message's summary kept on the ticket row (the list's "who spoke last, what, when"): was a
-- correlated subquery per list row reading the message's body. JSON text as the list shows it:
-- {"from":"customer|agent|system","at":...,"excerpt":<first 160 characters>}, NULL while there is no public message.
-- Kept by the triggers below on every way a message changes: added, its text or author changed (KVKK erasure,
-- contact merge, a redaction), moved to another ticket (merge, split) or deleted. A later migration that rebuilds
-- tkt_messages or tkt_tickets (CREATE ..._new / DROP / RENAME) drops these triggers and must create them again.
ALTER TABLE tkt_tickets ADD COLUMN last_message TEXT;

UPDATE tkt_tickets SET last_message = (
  SELECT json_object('from', CASE WHEN m.author_customer_id IS NOT NULL THEN 'customer'
                                  WHEN m.author_user_id IS NOT NULL THEN 'agent' ELSE 'system' END,
                     'at', m.created_at, 'excerpt', substr(m.body, 1, 160))
    FROM tkt_messages m WHERE m.ticket_id = tkt_tickets.id AND m.kind <> 'note' ORDER BY m.id DESC LIMIT 1);

-- A new public message is the last one unless a later one exists (ids only grow; the check keeps it right if not).
CREATE TRIGGER tkt_messages_last_insert AFTER INSERT ON tkt_messages WHEN NEW.kind <> 'note'
BEGIN
  UPDATE tkt_tickets SET last_message = json_object(
      'from', CASE WHEN NEW.author_customer_id IS NOT NULL THEN 'customer'
                   WHEN NEW.author_user_id IS NOT NULL THEN 'agent' ELSE 'system' END,
      'at', NEW.created_at, 'excerpt', substr(NEW.body, 1, 160))
    WHERE id = NEW.ticket_id
      AND NOT EXISTS (SELECT 1 FROM tkt_messages m WHERE m.ticket_id = NEW.ticket_id AND m.id > NEW.id
                                                      AND m.kind <> 'note');
END;

-- Any change to what the summary shows: recomputed for the ticket the message is on now and the one it left.
CREATE TRIGGER tkt_messages_last_update
  AFTER UPDATE OF ticket_id, kind, author_user_id, author_customer_id, body, created_at ON tkt_messages
  WHEN OLD.kind <> 'note' OR NEW.kind <> 'note'
BEGIN
  UPDATE tkt_tickets SET last_message = (
    SELECT json_object('from', CASE WHEN m.author_customer_id IS NOT NULL THEN 'customer'
                                    WHEN m.author_user_id IS NOT NULL THEN 'agent' ELSE 'system' END,
                       'at', m.created_at, 'excerpt', substr(m.body, 1, 160))
      FROM tkt_messages m WHERE m.ticket_id = tkt_tickets.id AND m.kind <> 'note' ORDER BY m.id DESC LIMIT 1)
    WHERE id IN (NEW.ticket_id, OLD.ticket_id);
END;

CREATE TRIGGER tkt_messages_last_delete AFTER DELETE ON tkt_messages WHEN OLD.kind <> 'note'
BEGIN
  UPDATE tkt_tickets SET last_message = (
    SELECT json_object('from', CASE WHEN m.author_customer_id IS NOT NULL THEN 'customer'
                                    WHEN m.author_user_id IS NOT NULL THEN 'agent' ELSE 'system' END,
                       'at', m.created_at, 'excerpt', substr(m.body, 1, 160))
      FROM tkt_messages m WHERE m.ticket_id = tkt_tickets.id AND m.kind <> 'note' ORDER BY m.id DESC LIMIT 1)
    WHERE id = OLD.ticket_id;
END;
