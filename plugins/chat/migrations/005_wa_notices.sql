-- Templates another module asks chat to send (service chat.whatsapp_template_send, wa_notices.c): an order's shipping
-- notice, for instance. ref is that module's key for the message ("orders.notice:12"): a request delivered twice adds
-- nothing. origin names who asked ('orders'; NULL: an agent). commercial is the core's consent term: 0 a service
-- message (an order or shipping update, no promotion in it), 1 a commercial one (sent only with a current ONAY for
-- "whatsapp"). A message that no ticket was open for has ticket_id NULL until the customer's reply opens one.
ALTER TABLE chat_wa_messages ADD COLUMN ref TEXT;
ALTER TABLE chat_wa_messages ADD COLUMN origin TEXT;
ALTER TABLE chat_wa_messages ADD COLUMN commercial INTEGER NOT NULL DEFAULT 0;
-- Tries of such a message while the Graph API did not answer (it fails after chat.wa_notice_attempts).
ALTER TABLE chat_wa_messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX chat_wa_messages_ref ON chat_wa_messages(ref) WHERE ref IS NOT NULL;
CREATE INDEX chat_wa_messages_unticketed ON chat_wa_messages(thread_id) WHERE ticket_id IS NULL;
