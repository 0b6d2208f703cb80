-- 004_supervisors.sql - what the supervisors' web pages need.
--
-- Passwords: PBKDF2-HMAC-SHA256 with a per-user salt; the work factor is
-- kept per user so it can grow without forcing every password to change.
ALTER TABLE app_user ADD COLUMN password_hash BLOB;
ALTER TABLE app_user ADD COLUMN password_salt BLOB;
ALTER TABLE app_user ADD COLUMN password_iterations INTEGER NOT NULL DEFAULT 0;

-- Signed-in browsers. Only a hash of the cookie's token is kept, so a
-- copy of the database does not sign anyone in.
CREATE TABLE web_session (
    token_hash BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES app_user(id),
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX web_session_by_user ON web_session(user_id);

-- Who read or decided what, and when (docs/web-api.md "Audit"). unit_id is
-- the unit of what was touched, so the trail is scoped like the records;
-- detail never holds field values.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    user_id   INTEGER REFERENCES app_user(id),
    action    TEXT NOT NULL,
    unit_id   INTEGER REFERENCES org_unit(id),
    record_id BLOB,
    detail    TEXT
) STRICT;
CREATE INDEX audit_by_unit ON audit(unit_id, id);

-- A record's history: one row per applied write, naming the fields it
-- changed, the device that wrote it (0: the server) and when, keyed by the
-- record and the write's position in its unit's log (one b-tree, no
-- separate index, so a sync pays one insert). No values.
CREATE TABLE record_change (
    record_id   BLOB NOT NULL,
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    device_id   INTEGER NOT NULL,
    fields      TEXT NOT NULL,
    PRIMARY KEY (record_id, seq)
) STRICT, WITHOUT ROWID;

-- What the lists filter and sort by, kept beside the blob when a record
-- is written: its date (its type's first required date field, else the
-- day it arrived), its risk level, its review state, the officer whose
-- tablet created it, for conflicts and reviews the record they are about,
-- and a conflict's status. Lists read newest first by (date, id) from an
-- index, so a page never sorts the scope (docs/web.md).
ALTER TABLE record ADD COLUMN occurred_on TEXT NOT NULL DEFAULT '';
ALTER TABLE record ADD COLUMN risk TEXT;
ALTER TABLE record ADD COLUMN review_state TEXT NOT NULL DEFAULT 'pending'
    CHECK (review_state IN ('pending', 'returned', 'corrected', 'approved'));
ALTER TABLE record ADD COLUMN officer_id INTEGER;
ALTER TABLE record ADD COLUMN about BLOB;
ALTER TABLE record ADD COLUMN status TEXT;
CREATE INDEX record_by_date ON record(occurred_on, id);
CREATE INDEX record_by_table_date ON record(tbl, occurred_on, id);
CREATE INDEX record_by_officer_date ON record(officer_id, occurred_on, id) WHERE officer_id IS NOT NULL;
CREATE INDEX record_by_about ON record(about) WHERE about IS NOT NULL;

-- Text search of the lists: the text fields of each record in a trigram
-- index (substrings of three letters or more, any case, Kazakh letters
-- included; no positions kept), rowid = the record's rowid. The server's
-- indexer follows each unit's log like a tablet would (text_index_cursor:
-- the last position indexed), in quiet moments between syncs
-- (server/text_index.c), so a sync never waits for it; a search reads the
-- records past the cursors directly.
CREATE VIRTUAL TABLE record_text USING fts5(body, tokenize = 'trigram case_sensitive 0', detail = 'none');
CREATE TABLE text_index_cursor (
    unit_id INTEGER PRIMARY KEY REFERENCES org_unit(id),
    seq     INTEGER NOT NULL
) STRICT;
