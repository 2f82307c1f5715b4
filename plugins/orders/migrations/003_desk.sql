-- The agents' side of orders: tickets linked to orders (by the form's order number, a number found in a new ticket's
-- text, or an agent), the search text of the orders screen, and the indexes its filters use on 100k orders.

-- A ticket's orders. Ticketing's tickets are named by id only (its tables are its own): the link holds no copy of
-- the ticket. how: form (the order number the customer gave), text (a number found in the subject or the first
-- message), agent (linked by hand).
CREATE TABLE orders_ticket_links (
  ticket_id INTEGER NOT NULL,
  order_id INTEGER NOT NULL REFERENCES orders_orders(id) ON DELETE CASCADE,
  how TEXT NOT NULL CHECK (how IN ('form', 'text', 'agent')),
  user_id INTEGER,                              -- the agent who linked it (how = agent)
  created_at TEXT NOT NULL,
  PRIMARY KEY (ticket_id, order_id)
) WITHOUT ROWID;
CREATE INDEX orders_ticket_links_order ON orders_ticket_links(order_id, ticket_id);

-- The orders screen's search: number, e-mail, phone and names folded the Turkish way (destek_fold_new), kept by the
-- module on every change of an order; NULL until the background job fills an order stored before this step.
ALTER TABLE orders_orders ADD COLUMN search_text TEXT;
CREATE INDEX orders_orders_search_missing ON orders_orders(id) WHERE search_text IS NULL;
-- Each word of an order's search text, for a search that starts from an index (a word's prefix) rather than reading
-- every order; kept with search_text.
CREATE TABLE orders_search_words (
  word TEXT NOT NULL,
  order_id INTEGER NOT NULL REFERENCES orders_orders(id) ON DELETE CASCADE,
  PRIMARY KEY (word, order_id)
) WITHOUT ROWID;
CREATE INDEX orders_search_words_order ON orders_search_words(order_id);

CREATE INDEX orders_orders_payment ON orders_orders(payment_status, id);
CREATE INDEX orders_orders_source ON orders_orders(source, id);
CREATE INDEX orders_orders_placed ON orders_orders(placed_at);
CREATE INDEX orders_shipments_status ON orders_shipments(status, order_id);
CREATE INDEX orders_shipments_carrier ON orders_shipments(carrier, order_id);
