-- Histograms of every duration series, per day (grain 0, period: the day number) and per month (grain 1, period:
-- year * 12 + month - 1): how many values fell in each bucket (hist.c: 16 buckets per doubling, 3-6 % wide), packed in
-- counts (varints: bucket step, count). A median over any range sums a row per month (and per day at the range's ends)
-- to find the bucket holding it, then takes the exact value from reports_values / reports_dim_values inside that one
-- bucket. dim = '' and dvalue = '' for the kind's whole series. n: the values counted in the row.
CREATE TABLE reports_hist (
  kind    TEXT NOT NULL,
  measure TEXT NOT NULL,
  dim     TEXT NOT NULL,
  dvalue  TEXT NOT NULL,
  grain   INTEGER NOT NULL,
  period  INTEGER NOT NULL,
  n       INTEGER NOT NULL,
  counts  BLOB NOT NULL,
  PRIMARY KEY (kind, measure, dim, dvalue, grain, period)
) WITHOUT ROWID;
-- The key (reports_sources.store) whose histograms are whole: medians read them only while hist_store = store; else
-- they walk the values as before (an upgrade builds them at the first flush; a rebuild builds the shadow's).
ALTER TABLE reports_sources ADD COLUMN hist_store TEXT;
