-- 009_accounts.sql - accounts an administrator can switch off and back on
-- (docs/web.md, "The administrator"). disabled_at is when the account was
-- disabled (NULL: active); disabled_by_user_id who did it (NULL: the
-- command `dala-server admin user-disable`). A disabled user cannot sign
-- in, has no session (they are deleted in the same transaction), and no
-- enrolment code is made or left for them. Their tablets keep syncing
-- until they are revoked or marked lost, so nothing captured on them is
-- stranded. Re-enabling clears both columns; history is in the audit trail.
ALTER TABLE app_user ADD COLUMN disabled_at INTEGER;
ALTER TABLE app_user ADD COLUMN disabled_by_user_id INTEGER REFERENCES app_user(id);
