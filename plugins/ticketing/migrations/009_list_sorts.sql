-- The ticket list sorted by priority (urgent first, then the newest change): the same expression as list.c's
-- PRIORITY_RANK, so the planner reads pages off this index instead of sorting the desk.
CREATE INDEX tkt_tickets_priority_rank ON tkt_tickets(
  (CASE priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 WHEN 'normal' THEN 1 ELSE 0 END), seq);

-- A copy of the ticket's tags as a JSON array in tag order, written with them (tickets.c tags_replace), so a page
-- of the list reads each ticket's row and nothing else. tkt_ticket_tags stays what filters and counts use.
ALTER TABLE tkt_tickets ADD COLUMN tags_json TEXT NOT NULL DEFAULT '[]';
UPDATE tkt_tickets SET tags_json = (SELECT json_group_array(tag) FROM tkt_ticket_tags g WHERE g.ticket_id = tkt_tickets.id)
 WHERE EXISTS (SELECT 1 FROM tkt_ticket_tags g WHERE g.ticket_id = tkt_tickets.id);
