-- Accounts managed in the service itself: an admin can disable a user (who then cannot log in, and
-- whose sessions and API tokens stop working) and reset a password to a temporary one the user
-- must change at the next login.
ALTER TABLE users ADD COLUMN disabled_at TEXT;                 -- when disabled; NULL while enabled
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));                   -- 1 after a reset, until changed
