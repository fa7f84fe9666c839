-- Sessions, products, submissions, runs, review cases and listings (DESIGN.md §8).
-- Timestamps are RFC 3339 UTC text; JSON columns hold compact JSON.

CREATE TABLE sessions (
    sha256      TEXT PRIMARY KEY,                     -- hex SHA-256 of the cookie's id; the id is never stored
    user_id     INTEGER NOT NULL REFERENCES users (id),
    csrf        TEXT NOT NULL,                        -- synchroniser token for forms and cookie-authenticated API calls
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE products (
    id               INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisations (id),
    name             TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (organisation_id, name)
);

CREATE TABLE submissions (
    id                INTEGER PRIMARY KEY,
    product_id        INTEGER NOT NULL REFERENCES products (id),
    version           TEXT NOT NULL,
    changelog         TEXT NOT NULL,
    component_sha256  TEXT NOT NULL,                  -- name of the file in data_dir/components
    component_size    INTEGER NOT NULL,
    file_name         TEXT NOT NULL,
    inspection        TEXT NOT NULL,                  -- JSON: the sandbox's inspection
    submitted_by      INTEGER NOT NULL REFERENCES users (id),
    created_at        TEXT NOT NULL,
    UNIQUE (product_id, version)
);

CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    submission_id  INTEGER NOT NULL REFERENCES submissions (id),
    purpose        TEXT NOT NULL CHECK (purpose IN ('submission', 'nightly')),
    state          TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'error')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    claim          TEXT,                              -- the worker's claim while running
    lease_until    TEXT,
    queued_at      TEXT NOT NULL,
    started_at     TEXT,
    finished_at    TEXT,
    verdict        TEXT CHECK (verdict IN ('godkjent', 'ikke-godkjent')),
    score          REAL,
    error          TEXT,
    capabilities   TEXT NOT NULL DEFAULT '[]',        -- JSON array
    report         TEXT,                              -- the signed report, JSON
    CHECK ((state = 'running') = (claim IS NOT NULL))
);
CREATE INDEX runs_queue ON runs (state, id);
CREATE INDEX runs_submission ON runs (submission_id);

CREATE TABLE review_cases (
    id             INTEGER PRIMARY KEY,
    product_id     INTEGER NOT NULL REFERENCES products (id),
    submission_id  INTEGER NOT NULL REFERENCES submissions (id),
    run_id         INTEGER NOT NULL REFERENCES runs (id),
    state          TEXT NOT NULL CHECK (state IN ('in_review', 'escalated', 'approved', 'rejected')),
    requested_by   INTEGER NOT NULL REFERENCES users (id),
    requested_at   TEXT NOT NULL,
    decided_at     TEXT,
    note           TEXT
);
-- At most one open case per product.
CREATE UNIQUE INDEX review_cases_one_open ON review_cases (product_id) WHERE state IN ('in_review', 'escalated');

CREATE TABLE reviews (
    case_id      INTEGER NOT NULL REFERENCES review_cases (id),
    reviewer_id  INTEGER NOT NULL REFERENCES users (id),
    level        TEXT NOT NULL CHECK (level IN ('reviewer', 'beslutningsgruppe')),
    decision     TEXT CHECK (decision IN ('approve', 'reject')),
    note         TEXT,
    decided_at   TEXT,
    PRIMARY KEY (case_id, reviewer_id)
);

CREATE TABLE listings (
    product_id     INTEGER PRIMARY KEY REFERENCES products (id),
    submission_id  INTEGER NOT NULL REFERENCES submissions (id),
    case_id        INTEGER NOT NULL REFERENCES review_cases (id),
    state          TEXT NOT NULL CHECK (state IN ('listed', 'suspended', 'delisted')),
    listed_at      TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    reason         TEXT
);
