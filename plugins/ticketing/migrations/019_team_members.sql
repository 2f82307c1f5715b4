-- Teams have members (agents, by core_users id: ticketing reads core_users but points no foreign key at it), and a
-- team may hand its unassigned tickets round-robin to its online members: round_robin on, max_open the open
-- tickets an agent may hold before being skipped (NULL: no cap), rr_last_user_id the member who got the last one
-- (the pointer, kept here so that every assignment, whichever thread makes it, moves the same pointer inside the
-- group commit).
CREATE TABLE tkt_team_members (
  team_id    INTEGER NOT NULL REFERENCES tkt_teams(id) ON DELETE CASCADE,
  user_id    INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (team_id, user_id)
) WITHOUT ROWID;
CREATE INDEX tkt_team_members_user ON tkt_team_members(user_id, team_id);

ALTER TABLE tkt_teams ADD COLUMN round_robin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tkt_teams ADD COLUMN max_open INTEGER;
ALTER TABLE tkt_teams ADD COLUMN rr_last_user_id INTEGER;
