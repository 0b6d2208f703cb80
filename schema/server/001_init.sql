-- 001_init.sql - the central database of dala-server.
-- Records are stored one row each, with their fields and per-field versions
-- in one compact blob (sync/record.c); each write takes the next sequence
-- number of its unit's log, so a pull reads a range of record_by_unit_seq.

CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value ANY
) STRICT;

-- The organisation tree: ministry > committee > department > body > unit.
-- next_seq is the next position in the unit's change log.
CREATE TABLE org_unit (
    id        INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES org_unit(id),
    kind      TEXT NOT NULL CHECK (kind IN ('ministry', 'committee', 'department', 'body', 'unit')),
    name      TEXT NOT NULL,
    next_seq  INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX org_unit_by_parent ON org_unit(parent_id);

CREATE TABLE app_user (
    id        INTEGER PRIMARY KEY,
    login     TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('inspector', 'unit_head', 'deputy', 'analyst', 'admin')),
    unit_id   INTEGER NOT NULL REFERENCES org_unit(id),
    created_at INTEGER NOT NULL
) STRICT;

-- Single-use enrolment codes; only a hash of the code is kept.
CREATE TABLE enrol_code (
    code_hash  BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES app_user(id),
    unit_id    INTEGER NOT NULL REFERENCES org_unit(id),
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    device_id  INTEGER
) STRICT;

CREATE TABLE device (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES app_user(id),
    unit_id        INTEGER NOT NULL REFERENCES org_unit(id),
    public_key     BLOB NOT NULL,
    enrolled_at    INTEGER NOT NULL,
    revoked_at     INTEGER,
    last_batch_seq INTEGER NOT NULL DEFAULT 0,
    last_results   BLOB,          -- the refusals of the last applied batch, to answer a re-send
    last_sync_at   INTEGER
) STRICT;

-- One row per record. data: the record blob; seq: its unit's log position
-- of the last write (record_by_unit_seq is the log).
CREATE TABLE record (
    id          BLOB PRIMARY KEY,
    tbl         TEXT NOT NULL,
    unit_id     INTEGER NOT NULL REFERENCES org_unit(id),
    seq         INTEGER NOT NULL,
    created_by  INTEGER NOT NULL,  -- device id
    received_at INTEGER NOT NULL,
    data        BLOB NOT NULL
) STRICT;
CREATE UNIQUE INDEX record_by_unit_seq ON record(unit_id, seq);
