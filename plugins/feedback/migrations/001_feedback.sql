-- The feedback module's store: CSAT after solved tickets, NPS surveys, and product reviews with their moderation.
-- Times are Unix seconds (UTC). A person is the core's contact (contact_id); e-mail and name are kept as they were
-- asked, for the mail and for an erasure to blank.

-- One CSAT question per ticket (UNIQUE): scheduled when the ticket is solved, mailed after the delay, answered once.
CREATE TABLE feedback_csat (
  id INTEGER PRIMARY KEY,
  ticket_id INTEGER NOT NULL UNIQUE,
  reference TEXT NOT NULL,
  contact_id INTEGER,
  email TEXT,
  name TEXT,
  lang TEXT NOT NULL DEFAULT 'tr',
  agent_id INTEGER,                 -- who had the ticket when it was solved (the agents' figures)
  team_id INTEGER,
  status TEXT NOT NULL CHECK (status IN ('scheduled', 'sent', 'answered', 'skipped')),
  skip_reason TEXT,                 -- weekly_limit, reopened, no_email, mail_not_configured
  due_at INTEGER NOT NULL,
  sent_at INTEGER,
  score INTEGER CHECK (score BETWEEN 1 AND 5),
  comment TEXT,
  answered_via TEXT,                -- mail (the link's page), portal
  answered_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX feedback_csat_contact ON feedback_csat(contact_id, sent_at);
CREATE INDEX feedback_csat_answered ON feedback_csat(answered_at) WHERE score IS NOT NULL;

-- NPS surveys: who (bought in a window, through orders.buyers), whether the survey is promotional (then only with
-- the consent ledger's ONAY), and how fast it is sent.
CREATE TABLE feedback_surveys (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  question_tr TEXT NOT NULL,
  question_en TEXT NOT NULL,
  promotional INTEGER NOT NULL DEFAULT 0,
  bought_from TEXT NOT NULL,
  bought_to TEXT NOT NULL,
  per_minute INTEGER NOT NULL DEFAULT 60,
  status TEXT NOT NULL CHECK (status IN ('draft', 'sending', 'sent')),
  collect_after INTEGER NOT NULL DEFAULT 0,   -- the buyers are gathered page by page: the last contact id taken
  collected INTEGER NOT NULL DEFAULT 0,
  created_by INTEGER,
  created_at INTEGER NOT NULL,
  started_at INTEGER
);

-- One row per contact per survey (UNIQUE): queued, sent, answered once.
CREATE TABLE feedback_survey_sends (
  id INTEGER PRIMARY KEY,
  survey_id INTEGER NOT NULL REFERENCES feedback_surveys(id),
  contact_id INTEGER NOT NULL,
  email TEXT NOT NULL,
  name TEXT,
  lang TEXT NOT NULL DEFAULT 'tr',
  status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'answered')),
  score INTEGER CHECK (score BETWEEN 0 AND 10),
  reason TEXT,
  sent_at INTEGER,
  answered_at INTEGER,
  UNIQUE (survey_id, contact_id)
);
CREATE INDEX feedback_survey_sends_queue ON feedback_survey_sends(survey_id, status, id);

-- A review request per delivered order: its signed link works 45 days after the delivery.
CREATE TABLE feedback_review_requests (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL UNIQUE,
  order_number TEXT NOT NULL,
  contact_id INTEGER,
  email TEXT,
  name TEXT,
  lang TEXT NOT NULL DEFAULT 'tr',
  items TEXT NOT NULL,              -- JSON [{sku, name}] of the order: what the buyer may review
  delivered_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('scheduled', 'sent', 'skipped')),
  sent_at INTEGER,
  created_at INTEGER NOT NULL
);

-- Reviews: only from a request (a buyer), one per product per order.
CREATE TABLE feedback_reviews (
  id INTEGER PRIMARY KEY,
  request_id INTEGER REFERENCES feedback_review_requests(id),
  product TEXT NOT NULL,            -- the SKU (the widget's data-product)
  product_name TEXT NOT NULL,
  order_number TEXT,
  contact_id INTEGER,
  email TEXT,
  author TEXT NOT NULL,             -- shown: first name and initial
  lang TEXT NOT NULL DEFAULT 'tr',
  rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
  body TEXT NOT NULL,
  verified INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  rule TEXT,                        -- the written rule of the last decision
  moderator_id INTEGER,
  moderated_at INTEGER,
  reply TEXT,                       -- the shop's public reply
  reply_by INTEGER,
  reply_at INTEGER,
  ticket_id INTEGER,                -- a 1-2 star review's ticket
  created_at INTEGER NOT NULL,
  UNIQUE (request_id, product)
);
CREATE INDEX feedback_reviews_product ON feedback_reviews(product, status, id);
CREATE INDEX feedback_reviews_status ON feedback_reviews(status, id);

CREATE TABLE feedback_review_photos (
  id INTEGER PRIMARY KEY,
  review_id INTEGER NOT NULL REFERENCES feedback_reviews(id),
  file_id TEXT NOT NULL,
  type TEXT NOT NULL,
  size INTEGER NOT NULL
);
CREATE INDEX feedback_review_photos_review ON feedback_review_photos(review_id);

-- Every moderation decision, kept: the rule it applied and who decided.
CREATE TABLE feedback_moderation (
  id INTEGER PRIMARY KEY,
  review_id INTEGER NOT NULL REFERENCES feedback_reviews(id),
  decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
  rule TEXT NOT NULL,
  note TEXT,
  moderator_id INTEGER NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX feedback_moderation_review ON feedback_moderation(review_id, id);

-- A product's approved reviews summed up, kept with each decision: the widget's figures without a scan.
CREATE TABLE feedback_product_stats (
  product TEXT PRIMARY KEY,
  count INTEGER NOT NULL DEFAULT 0,
  total INTEGER NOT NULL DEFAULT 0,
  s1 INTEGER NOT NULL DEFAULT 0, s2 INTEGER NOT NULL DEFAULT 0, s3 INTEGER NOT NULL DEFAULT 0,
  s4 INTEGER NOT NULL DEFAULT 0, s5 INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
