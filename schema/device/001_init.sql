-- 001_init.sql - the device database of libdala (client-sdk/), one file
-- per tablet. Migrations are numbered and forward-only; the store applies
-- the missing ones on open (schema/migrate.c: each in its own transaction,
-- PRAGMA user_version holds the last one applied).
--
-- Records are stored one row each, with their fields and per-field
-- versions in one compact blob (sync/record.c), as the server keeps them.
-- Every local write also appends one outbox entry in the same transaction.

-- Enrolment, clock and sync state, one key each:
--   device_id, unit_id, officer, server_url, server_public_key (BLOB 32),
--   device_secret_key (BLOB 32; see the known limit in dala.h), key_epoch,
--   server_epoch, hlc (the persisted clock), last_batch_seq, last_sync_at.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value ANY
) STRICT;

-- One row per record. id: the UUID as lowercase text; data: the record
-- blob (fields, values, versions, unit-log positions); updated_hlc: its
-- latest field version, for listings; is_voided: it has a void_reason.
CREATE TABLE record (
    id          TEXT PRIMARY KEY,
    tbl         TEXT NOT NULL,
    unit_id     INTEGER NOT NULL,
    updated_hlc INTEGER NOT NULL,
    is_voided   INTEGER NOT NULL DEFAULT 0,
    data        BLOB NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX record_by_tbl ON record(tbl, updated_hlc);
CREATE INDEX record_by_updated ON record(updated_hlc);

-- The outbox: one entry per local write, in write order (id). change: the
-- write as a one-change batch (dala_batch_encode). batch_seq/batch_index:
-- the push batch it travels in and its place there, set once when the
-- batch is assembled, so a resend after an interruption is the same batch.
-- An acknowledged entry is deleted; a refused one stays as 'rejected' with
-- the server's code and reason until the officer dismisses it.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id     TEXT NOT NULL,
    tbl           TEXT NOT NULL,
    hlc           INTEGER NOT NULL,
    change        BLOB NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'rejected')),
    batch_seq     INTEGER,
    batch_index   INTEGER,
    reject_code   INTEGER,
    reject_reason TEXT,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_by_state ON outbox(state, batch_seq, id);
CREATE INDEX outbox_by_record ON outbox(record_id, state);

-- Pull cursors: per organisational unit, the last position of its log
-- this device has applied. Advanced only with the page applied.
CREATE TABLE pull_cursor (
    unit_id INTEGER PRIMARY KEY,
    seq     INTEGER NOT NULL
) STRICT;
