-- 005_reports.sql - the quarterly report notes (Rules, items 7-9;
-- docs/reports.md): a unit's note to its department by the 5th, the
-- department's consolidated note to the Committee by the 10th, signed by
-- its deputy head with an ECDSA P-256 key.

-- A note counts its unit's records of a few types between two days: read
-- straight from this index, a unit's quarter does not fetch the rows of
-- the other units of its department (bench_report: 0.12 s to 0.02 s).
CREATE INDEX record_by_unit_table_date ON record(unit_id, tbl, occurred_on);

-- One note per unit (or department) and quarter. A draft's figures are
-- computed from the records when read; a filed note's are frozen in
-- report_figure. `late` is set once, when the note is filed after its day,
-- and never cleared.
CREATE TABLE report_note (
    id              INTEGER PRIMARY KEY,
    unit_id         INTEGER NOT NULL REFERENCES org_unit(id),
    level           TEXT NOT NULL CHECK (level IN ('unit', 'department')),
    year            INTEGER NOT NULL CHECK (year BETWEEN 2015 AND 2100),
    quarter         INTEGER NOT NULL CHECK (quarter BETWEEN 1 AND 4),
    state           TEXT NOT NULL DEFAULT 'draft'
                    CHECK (state IN ('draft', 'submitted', 'returned', 'consolidated', 'signed')),
    created_by      INTEGER NOT NULL REFERENCES app_user(id),
    created_at      INTEGER NOT NULL,
    submitted_by    INTEGER REFERENCES app_user(id),
    submitted_at    INTEGER,
    late            INTEGER NOT NULL DEFAULT 0,
    return_comment  TEXT,
    returned_at     INTEGER,
    consolidated_by INTEGER REFERENCES app_user(id),
    consolidated_at INTEGER,
    signer_id       INTEGER REFERENCES app_user(id),
    signer_name     TEXT,
    signed_at       INTEGER,
    public_key      BLOB,
    signature       BLOB,
    UNIQUE (unit_id, year, quarter)
) STRICT;

-- The block texts people write.
CREATE TABLE report_narrative (
    note_id INTEGER NOT NULL REFERENCES report_note(id),
    block   INTEGER NOT NULL CHECK (block BETWEEN 1 AND 9),
    text    TEXT NOT NULL,
    PRIMARY KEY (note_id, block)
) STRICT, WITHOUT ROWID;

-- A filed note's figures, as they were when it was filed: `now` the
-- quarter, `last` the same quarter of the year before.
CREATE TABLE report_figure (
    note_id INTEGER NOT NULL REFERENCES report_note(id),
    block   INTEGER NOT NULL CHECK (block BETWEEN 1 AND 9),
    grp     TEXT NOT NULL,
    value   TEXT NOT NULL,
    now     INTEGER NOT NULL,
    last    INTEGER NOT NULL,
    PRIMARY KEY (note_id, grp, value)
) STRICT, WITHOUT ROWID;

-- Which units a consolidated note took in, as they stood then (a unit
-- that had not filed is listed with its note's state, or 'none').
CREATE TABLE report_filing (
    note_id      INTEGER NOT NULL REFERENCES report_note(id),
    unit_id      INTEGER NOT NULL REFERENCES org_unit(id),
    state        TEXT NOT NULL,
    submitted_at INTEGER,
    late         INTEGER NOT NULL,
    PRIMARY KEY (note_id, unit_id)
) STRICT, WITHOUT ROWID;

-- A signer's ECDSA P-256 key; the private half wrapped (AES-256-GCM) under
-- a key derived from their password, so the server cannot sign alone. A
-- key is retired (kept, for verifying) when a new one replaces it.
CREATE TABLE signing_key (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES app_user(id),
    public_key  BLOB NOT NULL,
    wrapped     BLOB NOT NULL,
    salt        BLOB NOT NULL,
    iterations  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
) STRICT;
CREATE INDEX signing_key_by_user ON signing_key(user_id) WHERE retired_at IS NULL;
