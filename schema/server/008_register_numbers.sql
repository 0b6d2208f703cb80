-- 008_register_numbers.sql - what the safety panel of the dashboard and the
-- duplicate register numbers are read from (docs/web-api.md, "Safety"),
-- kept beside each record when it is written (server/record_columns.c), so
-- each check is an index lookup, never a scan of the blobs.
--
-- Columns, not a side table: a write already rewrites the record's row, so
-- the numbers and keys cost a few more values in that one statement and an
-- entry in a partial index only when they are set (a field visit without a
-- victim, a follow-up or a call-out touches none of these indexes); a side
-- table would cost a delete and inserts in two more b-trees on every write
-- of an offence. The price: a new register needs a column here (the test
-- suite `safety` checks that every register in records.json has one).
--
-- Every column is NULL for a voided record (a non-empty void_reason), so a
-- voided record raises nothing and counts as nothing.
--
--   reg_registration, reg_erdr, reg_kui, reg_erap: an offence's number in
--     the register its field names (records.json "register"), normalised:
--     ASCII letters in small case, all spaces (tabs, line ends, no-break
--     spaces) removed; NULL when empty. The same number twice in one
--     register of one unit is shown to the supervisor, never refused.
--   victim: the victim_id of a field visit or an offence (a person's id,
--     as text), for "no visit since" and repeated reports.
--   report: 1 for a report to the police: an offence, or a field visit
--     made in answer to a call (purpose call_response).
--   place_key: a report's address (an offence's place, a call-out's
--     address) case-folded with Kazakh letters (dala_fold), spaces and
--     . , ; : " ' ( ) removed, so one address typed two ways matches.
--   due_on: a field visit's follow_up_date; a protective order's last day
--     (extended_until, else valid_until) while it has not ended (no
--     ended_on).
--   breached_on: a protective order's breach (breached = 1): breached_on,
--     else the order's date.
ALTER TABLE record ADD COLUMN reg_registration TEXT;
ALTER TABLE record ADD COLUMN reg_erdr TEXT;
ALTER TABLE record ADD COLUMN reg_kui TEXT;
ALTER TABLE record ADD COLUMN reg_erap TEXT;
ALTER TABLE record ADD COLUMN victim TEXT;
ALTER TABLE record ADD COLUMN report INTEGER;
ALTER TABLE record ADD COLUMN place_key TEXT;
ALTER TABLE record ADD COLUMN due_on TEXT;
ALTER TABLE record ADD COLUMN breached_on TEXT;

-- The existing records, read from their blobs (dala_record_text and
-- dala_fold are registered on every connection that migrates). SQLite's
-- lower() folds ASCII letters only, as the C side does for numbers.
UPDATE record SET
    reg_registration = nullif(replace(replace(replace(replace(replace(replace(replace(lower(
        dala_record_text(data, 'registration_no')), ' ', ''), char(9), ''), char(10), ''), char(11), ''),
        char(12), ''), char(13), ''), char(160), ''), ''),
    reg_erdr = nullif(replace(replace(replace(replace(replace(replace(replace(lower(
        dala_record_text(data, 'erdr_no')), ' ', ''), char(9), ''), char(10), ''), char(11), ''),
        char(12), ''), char(13), ''), char(160), ''), ''),
    reg_kui = nullif(replace(replace(replace(replace(replace(replace(replace(lower(
        dala_record_text(data, 'kui_no')), ' ', ''), char(9), ''), char(10), ''), char(11), ''),
        char(12), ''), char(13), ''), char(160), ''), ''),
    reg_erap = nullif(replace(replace(replace(replace(replace(replace(replace(lower(
        dala_record_text(data, 'admin_register_no')), ' ', ''), char(9), ''), char(10), ''), char(11), ''),
        char(12), ''), char(13), ''), char(160), ''), '')
WHERE tbl = 'offence' AND coalesce(dala_record_text(data, 'void_reason'), '') = '';

UPDATE record SET victim = lower(dala_record_text(data, 'victim_id'))
WHERE tbl IN ('field_visit', 'offence') AND length(dala_record_text(data, 'victim_id')) = 36
  AND coalesce(dala_record_text(data, 'void_reason'), '') = '';

UPDATE record SET report = 1,
    place_key = nullif(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        replace(replace(replace(replace(replace(dala_fold(dala_record_text(data,
            CASE tbl WHEN 'offence' THEN 'place' ELSE 'address' END)),
        ' ', ''), char(9), ''), char(10), ''), char(11), ''), char(12), ''), char(13), ''), char(160), ''),
        '.', ''), ',', ''), ';', ''), ':', ''), '"', ''), '''', ''), '(', ''), ')', ''), '')
WHERE (tbl = 'offence' OR (tbl = 'field_visit' AND dala_record_text(data, 'purpose') = 'call_response'))
  AND coalesce(dala_record_text(data, 'void_reason'), '') = '';

UPDATE record SET due_on = nullif(dala_record_text(data, 'follow_up_date'), '')
WHERE tbl = 'field_visit' AND coalesce(dala_record_text(data, 'void_reason'), '') = '';

UPDATE record SET
    due_on = CASE WHEN coalesce(dala_record_text(data, 'ended_on'), '') = ''
                  THEN nullif(coalesce(nullif(dala_record_text(data, 'extended_until'), ''),
                                       dala_record_text(data, 'valid_until')), '') END,
    breached_on = CASE WHEN dala_record_text(data, 'breached') = 1
                       THEN coalesce(nullif(dala_record_text(data, 'breached_on'), ''), occurred_on) END
WHERE tbl = 'protective_measure' AND dala_record_text(data, 'kind') = 'protective_order'
  AND coalesce(dala_record_text(data, 'void_reason'), '') = '';

-- A number's other records in its unit and register (the record's page),
-- and the repeated numbers of a scope (the panel).
CREATE INDEX record_by_reg_registration ON record(unit_id, reg_registration) WHERE reg_registration IS NOT NULL;
CREATE INDEX record_by_reg_erdr ON record(unit_id, reg_erdr) WHERE reg_erdr IS NOT NULL;
CREATE INDEX record_by_reg_kui ON record(unit_id, reg_kui) WHERE reg_kui IS NOT NULL;
CREATE INDEX record_by_reg_erap ON record(unit_id, reg_erap) WHERE reg_erap IS NOT NULL;
-- A victim's visits and reports by date: "a later visit?" is one probe.
CREATE INDEX record_by_victim ON record(victim, tbl, occurred_on, id) WHERE victim IS NOT NULL;
-- The rest lead with the unit, as the scope is a list of units: the
-- high-risk visits of named victims by date (the candidates of "no visit
-- since"), follow-ups and orders' last days, breaches, and reports by date.
-- The first two of these and the victims' hold what their probes read
-- (victim, date, id), so the thousands of candidates of a whole country
-- are read from the indexes alone.
CREATE INDEX record_high_risk_visits ON record(unit_id, occurred_on, victim, id)
    WHERE tbl = 'field_visit' AND risk = 'high' AND victim IS NOT NULL;
CREATE INDEX record_by_due ON record(unit_id, tbl, due_on, victim, occurred_on, id) WHERE due_on IS NOT NULL;
CREATE INDEX record_by_breach ON record(unit_id, breached_on) WHERE breached_on IS NOT NULL;
CREATE INDEX record_reports ON record(unit_id, occurred_on) WHERE report = 1;
