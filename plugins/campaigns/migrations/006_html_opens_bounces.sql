-- HTML mail, opens and bounces (issue 17's results: "opened (where the mail client allows)", "bounced").
-- A campaign's optional HTML body per language: the shop's HTML made safe (destek.html.mail) when it was saved; NULL:
-- text only. The text body stays (empty: the core renders the HTML as text).
ALTER TABLE campaigns_campaigns ADD COLUMN body_html_tr TEXT;
ALTER TABLE campaigns_campaigns ADD COLUMN body_html_en TEXT;

-- The core's word that a recipient's message bounced (the event consent.bounced): 'hard' or 'soft'.
ALTER TABLE campaigns_recipients ADD COLUMN bounce TEXT;   -- 'hard' or 'soft' (no CHECK: adding one makes SQLite run a quick_check, which a module may not)
CREATE INDEX campaigns_recipients_message ON campaigns_recipients(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX campaigns_recipients_bounce ON campaigns_recipients(campaign_id, bounce) WHERE bounce IS NOT NULL;

-- Opens: the 1x1 image of an HTML campaign mail fetched (mail clients that block images are not counted). One row a
-- recipient: the first fetch and every fetch.
CREATE TABLE campaigns_opens (
  recipient_id INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL,
  first_at INTEGER NOT NULL,
  count INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX campaigns_opens_campaign ON campaigns_opens(campaign_id);
