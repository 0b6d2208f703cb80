-- 002_record_last_writer.sql - who wrote a record last, and the log position
-- of its write before that, so a pull can pass over rows whose only news is
-- the asking device's own last write without decoding them (server/pull.c).
ALTER TABLE record ADD COLUMN last_writer INTEGER NOT NULL DEFAULT 0;
ALTER TABLE record ADD COLUMN prev_seq INTEGER NOT NULL DEFAULT 0;
