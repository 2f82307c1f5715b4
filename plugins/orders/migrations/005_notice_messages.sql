-- Notices are mailed through the core's queue (host->message_send, a service message): the row keeps the id of the
-- message it queued; its state 'queued' becomes 'mailed' or 'failed' as the core reports (notices.c).
ALTER TABLE orders_notices ADD COLUMN message_id INTEGER;
