-- Accounts (vendor organisations, users, API tokens) and the hash-chained audit trail.
-- Timestamps are RFC 3339 UTC text (jiff::Timestamp's Display); secrets are stored only hashed.

CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    username         TEXT NOT NULL UNIQUE,            -- email-like, lower case
    role             TEXT NOT NULL CHECK (role IN ('vendor', 'reviewer', 'beslutningsgruppe', 'admin')),
    organisation_id  INTEGER REFERENCES organisations (id),
    password_hash    TEXT NOT NULL,                   -- argon2id PHC string, salt included
    created_at       TEXT NOT NULL,
    -- vendors belong to exactly one organisation; the project's people to none
    CHECK ((role = 'vendor') = (organisation_id IS NOT NULL))
);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,                      -- first characters, to recognise a token in lists
    sha256        TEXT NOT NULL UNIQUE,               -- hex SHA-256 of the whole token; the token itself is never stored
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY,                   -- 1, 2, 3, ... without gaps
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    reason     TEXT,
    details    TEXT NOT NULL,                         -- JSON
    prev_hash  TEXT NOT NULL,                         -- hash of seq - 1; 64 zeros for seq 1
    hash       TEXT NOT NULL UNIQUE                   -- see audit.rs
);

-- Append-only: the service never updates or deletes an event. (Someone with write access to the file
-- can drop these triggers; the hash chain is what detects that, see `sandkasse admin verify-audit`.)
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
