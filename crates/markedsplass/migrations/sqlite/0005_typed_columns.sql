-- What the code holds as enums and typed values, the database enforces too. The verdict, a run's
-- and a night's state and a notification's kind (the listing change) were checked already; here:
--
-- - a run has a verdict exactly when it is done, and its JSON columns are JSON;
-- - a night is done exactly when it has its summary and end time, and the summary is JSON;
-- - a listing's risk is one fact: at risk since a time because of a run, or not at risk;
-- - a notification's payload (the webhook body) is JSON.
--
-- SQLite adds a CHECK only by rebuilding the table: a new table with the constraints, the rows
-- copied, the old table dropped, the new one renamed, its indexes created again. The migration
-- runs in a transaction with foreign keys on, so a table others refer to cannot simply be dropped
-- (its rows would be missing under them). Instead the tables that refer to a rebuilt one are
-- rebuilt too (review cases and reviews, unchanged), each new table refers to the new tables;
-- the old tables are dropped children first, and renaming a new table moves the references to
-- it. Rows that break a new rule stop the migration (the code never wrote such rows).

CREATE TABLE nights_typed (
    id             INTEGER PRIMARY KEY,
    night          TEXT NOT NULL UNIQUE,              -- YYYY-MM-DD, the local date the batch started
    seed           INTEGER NOT NULL,                  -- derived from the date: any night can be reproduced
    suite_version  TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('running', 'done')),
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    summary        TEXT CHECK (json_valid(summary)),  -- JSON, when done
    CHECK ((state = 'done') = (finished_at IS NOT NULL AND summary IS NOT NULL))
);

CREATE TABLE runs_typed (
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
    capabilities   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(capabilities)),  -- JSON array
    report         TEXT,                              -- the signed report, JSON
    night_id       INTEGER REFERENCES nights_typed (id),
    seed           INTEGER,                           -- NULL: the suite's own seed
    figures        TEXT CHECK (json_valid(figures)),  -- JSON: per-vilkår outcomes and resource figures
    badge          TEXT,                              -- the badge SVG of a finished run
    CHECK ((state = 'running') = (claim IS NOT NULL)),
    CHECK ((state = 'done') = (verdict IS NOT NULL))
);

CREATE TABLE review_cases_typed (
    id             INTEGER PRIMARY KEY,
    product_id     INTEGER NOT NULL REFERENCES products (id),
    submission_id  INTEGER NOT NULL REFERENCES submissions (id),
    run_id         INTEGER NOT NULL REFERENCES runs_typed (id),
    state          TEXT NOT NULL CHECK (state IN ('in_review', 'escalated', 'approved', 'rejected')),
    requested_by   INTEGER NOT NULL REFERENCES users (id),
    requested_at   TEXT NOT NULL,
    decided_at     TEXT,
    note           TEXT
);

CREATE TABLE reviews_typed (
    case_id      INTEGER NOT NULL REFERENCES review_cases_typed (id),
    reviewer_id  INTEGER NOT NULL REFERENCES users (id),
    level        TEXT NOT NULL CHECK (level IN ('reviewer', 'beslutningsgruppe')),
    decision     TEXT CHECK (decision IN ('approve', 'reject')),
    note         TEXT,
    decided_at   TEXT,
    PRIMARY KEY (case_id, reviewer_id)
);

CREATE TABLE listings_typed (
    product_id      INTEGER PRIMARY KEY REFERENCES products (id),
    submission_id   INTEGER NOT NULL REFERENCES submissions (id),
    case_id         INTEGER NOT NULL REFERENCES review_cases_typed (id),
    state           TEXT NOT NULL CHECK (state IN ('listed', 'suspended', 'delisted')),
    listed_at       TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    reason          TEXT,
    at_risk_since   TEXT,                             -- when a nightly run first failed a skal-vilkår
    at_risk_run_id  INTEGER REFERENCES runs_typed (id),  -- that run
    CHECK ((at_risk_since IS NULL) = (at_risk_run_id IS NULL))
);

CREATE TABLE notifications_typed (
    id               INTEGER PRIMARY KEY,
    at               TEXT NOT NULL,
    organisation_id  INTEGER NOT NULL REFERENCES organisations (id),  -- the vendor told; the project sees all
    product_id       INTEGER NOT NULL REFERENCES products (id),
    kind             TEXT NOT NULL CHECK (kind IN ('at_risk', 'cleared', 'suspended')),
    night_id         INTEGER REFERENCES nights_typed (id),
    run_id           INTEGER REFERENCES runs_typed (id),
    message          TEXT NOT NULL,
    payload          TEXT NOT NULL CHECK (json_valid(payload)),  -- the webhook body (JSON), signed on delivery
    attempts         INTEGER NOT NULL DEFAULT 0,
    delivered_at     TEXT,
    delivery_error   TEXT
);

-- Parents first.
INSERT INTO nights_typed (id, night, seed, suite_version, state, started_at, finished_at, summary)
SELECT id, night, seed, suite_version, state, started_at, finished_at, summary FROM nights;
INSERT INTO runs_typed (id, submission_id, purpose, state, attempts, claim, lease_until, queued_at,
                        started_at, finished_at, verdict, score, error, capabilities, report,
                        night_id, seed, figures, badge)
SELECT id, submission_id, purpose, state, attempts, claim, lease_until, queued_at, started_at,
       finished_at, verdict, score, error, capabilities, report, night_id, seed, figures, badge
FROM runs;
INSERT INTO review_cases_typed (id, product_id, submission_id, run_id, state, requested_by,
                                requested_at, decided_at, note)
SELECT id, product_id, submission_id, run_id, state, requested_by, requested_at, decided_at, note
FROM review_cases;
INSERT INTO reviews_typed (case_id, reviewer_id, level, decision, note, decided_at)
SELECT case_id, reviewer_id, level, decision, note, decided_at FROM reviews;
INSERT INTO listings_typed (product_id, submission_id, case_id, state, listed_at, updated_at,
                            reason, at_risk_since, at_risk_run_id)
SELECT product_id, submission_id, case_id, state, listed_at, updated_at, reason, at_risk_since,
       at_risk_run_id
FROM listings;
INSERT INTO notifications_typed (id, at, organisation_id, product_id, kind, night_id, run_id,
                                 message, payload, attempts, delivered_at, delivery_error)
SELECT id, at, organisation_id, product_id, kind, night_id, run_id, message, payload, attempts,
       delivered_at, delivery_error
FROM notifications;

-- Children first: nothing refers to an old table when it goes.
DROP TABLE notifications;
DROP TABLE listings;
DROP TABLE reviews;
DROP TABLE review_cases;
DROP TABLE runs;
DROP TABLE nights;

ALTER TABLE nights_typed RENAME TO nights;
ALTER TABLE runs_typed RENAME TO runs;
ALTER TABLE review_cases_typed RENAME TO review_cases;
ALTER TABLE reviews_typed RENAME TO reviews;
ALTER TABLE listings_typed RENAME TO listings;
ALTER TABLE notifications_typed RENAME TO notifications;

CREATE INDEX runs_queue ON runs (state, id);
CREATE INDEX runs_submission ON runs (submission_id);
-- A night tests a submission once, however often the batch is started (resume, not restart).
CREATE UNIQUE INDEX runs_one_per_night ON runs (night_id, submission_id) WHERE night_id IS NOT NULL;
-- At most one open case per product.
CREATE UNIQUE INDEX review_cases_one_open ON review_cases (product_id) WHERE state IN ('in_review', 'escalated');
CREATE INDEX notifications_org ON notifications (organisation_id, id);
