-- 007_device_lost.sql - a tablet a supervisor marked lost (docs/protocol.md,
-- 10.8). From lost_at on, the server takes nothing from the device:
-- every sync that proves its key is answered with the lost state alone, and
-- the tablet erases its store. wipe_confirmed_at is when the tablet said it
-- had done so (a request with DALA_REQUEST_WIPED); it is set once. The
-- audit trail holds both moments too. lost_by_user_id is the supervisor who
-- marked it, NULL when it was marked with `dala-server admin device-lost`.
ALTER TABLE device ADD COLUMN lost_at INTEGER;
ALTER TABLE device ADD COLUMN lost_by_user_id INTEGER REFERENCES app_user(id);
ALTER TABLE device ADD COLUMN wipe_confirmed_at INTEGER;
