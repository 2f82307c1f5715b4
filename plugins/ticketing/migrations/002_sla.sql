-- SLAs: business calendars (a team may have one), policies, and each ticket's SLA clock (sla.c).

-- A calendar is text as an admin writes it, parsed by sla_clock (sla_calendar_parse_hours/_holidays).
-- The one with is_default = 1 applies to tickets whose policy and team name none.
CREATE TABLE tkt_calendars (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  time_zone  TEXT NOT NULL,
  hours      TEXT NOT NULL,
  holidays   TEXT NOT NULL DEFAULT '',
  is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX tkt_calendars_default ON tkt_calendars(is_default) WHERE is_default = 1;

-- The business calendar of a team (teams without a row use the default calendar).
CREATE TABLE tkt_team_calendars (
  team_id     INTEGER PRIMARY KEY REFERENCES tkt_teams(id),
  calendar_id INTEGER NOT NULL REFERENCES tkt_calendars(id)
);

-- The first active policy by position whose conditions (NULL: any) all match a ticket applies to it.
-- Targets are business minutes (NULL: no such target); calendar_id NULL: the ticket team's calendar.
CREATE TABLE tkt_sla_policies (
  id                      INTEGER PRIMARY KEY,
  name                    TEXT NOT NULL,
  position                INTEGER NOT NULL,
  active                  INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  priority                TEXT CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  channel                 TEXT CHECK (channel IN ('email', 'web', 'api', 'chat', 'whatsapp', 'phone')),
  tag                     TEXT,
  first_response_minutes  INTEGER CHECK (first_response_minutes > 0),
  resolution_minutes      INTEGER CHECK (resolution_minutes > 0),
  warn_percent            INTEGER NOT NULL DEFAULT 80 CHECK (warn_percent BETWEEN 0 AND 100),
  pause_on_hold           INTEGER NOT NULL DEFAULT 0 CHECK (pause_on_hold IN (0, 1)),
  calendar_id             INTEGER REFERENCES tkt_calendars(id),
  created_at              TEXT NOT NULL,
  updated_at              TEXT NOT NULL
);
CREATE INDEX tkt_sla_policies_position ON tkt_sla_policies(position, id);

-- Each ticket's status timeline as the SLA clock sees it (unix seconds from sla_now(): the fake clock in tests).
CREATE TABLE tkt_sla_timeline (
  id        INTEGER PRIMARY KEY,
  ticket_id INTEGER NOT NULL REFERENCES tkt_tickets(id),
  at        INTEGER NOT NULL,
  status    TEXT NOT NULL
);
CREATE INDEX tkt_sla_timeline_ticket ON tkt_sla_timeline(ticket_id, id);

-- The SLA state of a ticket, as last evaluated. Instants are unix seconds (NULL: none). *_warned / *_breached
-- record that sla.warning / sla.breached was emitted for that target, so re-fired timers do not repeat them.
CREATE TABLE tkt_sla (
  ticket_id               INTEGER PRIMARY KEY REFERENCES tkt_tickets(id),
  policy_id               INTEGER,
  calendar_id             INTEGER,
  first_response_minutes  INTEGER,
  resolution_minutes      INTEGER,
  warn_percent            INTEGER NOT NULL DEFAULT 80,
  pause_on_hold           INTEGER NOT NULL DEFAULT 0,
  first_response_stop     INTEGER,
  frt_state               TEXT,
  frt_clock               TEXT,
  frt_warn_at             INTEGER,
  frt_due_at              INTEGER,
  frt_elapsed             INTEGER,
  frt_warned              INTEGER NOT NULL DEFAULT 0,
  frt_breached            INTEGER NOT NULL DEFAULT 0,
  res_state               TEXT,
  res_clock               TEXT,
  res_warn_at             INTEGER,
  res_due_at              INTEGER,
  res_elapsed             INTEGER,
  res_warned              INTEGER NOT NULL DEFAULT 0,
  res_breached            INTEGER NOT NULL DEFAULT 0,
  next_check_at           INTEGER,
  evaluated_at            INTEGER
);
CREATE INDEX tkt_sla_next_check ON tkt_sla(next_check_at) WHERE next_check_at IS NOT NULL;

-- The default calendar: Istanbul office hours with the 2026 public holidays (half days from 13:00).
INSERT INTO tkt_calendars(name, time_zone, hours, holidays, is_default, created_at, updated_at) VALUES (
  'Varsayılan', 'Europe/Istanbul', 'mon-fri 09:00-18:00',
  '2026-01-01
2026-03-19 13:00-24:00
2026-03-20..2026-03-22
2026-04-23
2026-05-01
2026-05-19
2026-05-26 13:00-24:00
2026-05-27..2026-05-30
2026-07-15
2026-08-30
2026-10-28 13:00-24:00
2026-10-29', 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
