-- Triggers (triggers.c): on an event, when the conditions hold, do the actions. Conditions and actions are JSON
-- objects checked by the API (see README.md). The first active triggers by position run; a trigger's own changes
-- do not fire triggers again.
CREATE TABLE tkt_triggers (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  position   INTEGER NOT NULL,
  active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  event      TEXT NOT NULL CHECK (event IN ('ticket.created', 'message.added', 'ticket.updated')),
  conditions TEXT NOT NULL DEFAULT '{}',
  actions    TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX tkt_triggers_event ON tkt_triggers(event, position, id);

-- The default set: tell customers who write out of business hours (the default calendar) when we will answer.
INSERT INTO tkt_triggers(name, position, active, event, conditions, actions, created_at, updated_at) VALUES (
  'Mesai dışı otomatik yanıt', 1, 1, 'ticket.created', '{"business_hours":"closed"}',
  '{"reply_tr":"Merhaba {{customer.name}}, {{ticket.reference}} numaralı talebinizi aldık. Şu an mesai saatleri dışındayız; ilk iş gününde size dönüş yapacağız.","reply_en":"Hello {{customer.name}}, we have received your request {{ticket.reference}}. We are outside business hours now and will get back to you on the next working day."}',
  strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
