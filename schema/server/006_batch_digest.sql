-- 006_batch_digest.sql - what makes a push idempotent. A device's batch is
-- answered from memory only when both its number and its digest (SHA-256
-- of its changes' records, versions and field names) are those of the
-- last batch applied; any other batch is applied, since applying a change already merged changes nothing
-- (sync/merge.c). So no numbering disagreement between a tablet and the
-- server (a duplicated request, a restored database, a lost answer) can
-- strand a tablet's changes or drop new ones as a "re-send".
ALTER TABLE device ADD COLUMN last_batch_digest BLOB;

-- The version (hlc) of each write in a record's history, so that a change
-- merged again, which loses to a later write, is known as history and not
-- kept as a conflict (server/apply.c). 0 for the server's own writes and
-- for writes from before this migration.
ALTER TABLE record_change ADD COLUMN hlc INTEGER NOT NULL DEFAULT 0;
