-- 002_cursor_whole_to.sql - per unit log, the position up to which this
-- device holds every record whole (the log's end when a page last reached
-- it); pages send the fields written after it (server/pull.c). Cursors
-- are dropped once: a store synced before this could hold a record only
-- in part (its creation passed over while it caught up), and pulling afresh
-- gives every record whole again; pulled values equal to the stored ones
-- change nothing.
ALTER TABLE pull_cursor ADD COLUMN whole_to INTEGER NOT NULL DEFAULT 0;
DELETE FROM pull_cursor;

-- Records this device met in part (a pulled change left out fields it
-- should have held, and it did not hold the record): they are not stored
-- until the server sends them whole, which the next requests ask for.
CREATE TABLE wanted (
    record_id TEXT PRIMARY KEY,
    unit_id   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
