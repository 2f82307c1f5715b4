-- The customer's choice of channel for an order's notices (notify.c): a fact recorded where it was made (the shop's
-- checkout, an agent told by the customer), never inferred. And where each notice went: channel 'email' (the core's
-- message message_id) or 'whatsapp' (the chat module's message wa_message_id; mailed instead when WhatsApp refused it).
CREATE TABLE orders_notify_choices (
  order_id     INTEGER PRIMARY KEY REFERENCES orders_orders(id) ON DELETE CASCADE,
  channel      TEXT NOT NULL CHECK (channel IN ('email', 'whatsapp')),
  phone        TEXT,                 -- E.164, the WhatsApp number the customer gave
  source       TEXT NOT NULL,        -- checkout, agent
  chosen_at    TEXT NOT NULL,
  recorded_at  TEXT NOT NULL
);
ALTER TABLE orders_notices ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';
ALTER TABLE orders_notices ADD COLUMN wa_message_id INTEGER;
