-- Nightly conformance runs: one row per night, runs tied to their night with the seed they used and
-- their figures, listings at risk, and notifications (shown in the UI, delivered by webhook).

CREATE TABLE nights (
    id             INTEGER PRIMARY KEY,
    night          TEXT NOT NULL UNIQUE,              -- YYYY-MM-DD, the local date the batch started
    seed           INTEGER NOT NULL,                  -- derived from the date: any night can be reproduced
    suite_version  TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('running', 'done')),
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    summary        TEXT                               -- JSON, when done
);

ALTER TABLE runs ADD COLUMN night_id INTEGER REFERENCES nights (id);
ALTER TABLE runs ADD COLUMN seed INTEGER;             -- NULL: the suite's own seed
ALTER TABLE runs ADD COLUMN figures TEXT;             -- JSON: per-vilkår outcomes and resource figures
-- A night tests a submission once, however often the batch is started (resume, not restart).
CREATE UNIQUE INDEX runs_one_per_night ON runs (night_id, submission_id) WHERE night_id IS NOT NULL;

ALTER TABLE listings ADD COLUMN at_risk_since TEXT;   -- when a nightly run first failed a skal-vilkår
ALTER TABLE listings ADD COLUMN at_risk_run_id INTEGER REFERENCES runs (id);

CREATE TABLE notifications (
    id               INTEGER PRIMARY KEY,
    at               TEXT NOT NULL,
    organisation_id  INTEGER NOT NULL REFERENCES organisations (id),  -- the vendor told; the project sees all
    product_id       INTEGER NOT NULL REFERENCES products (id),
    kind             TEXT NOT NULL CHECK (kind IN ('at_risk', 'cleared', 'suspended')),
    night_id         INTEGER REFERENCES nights (id),
    run_id           INTEGER REFERENCES runs (id),
    message          TEXT NOT NULL,
    payload          TEXT NOT NULL,                   -- the webhook body (JSON), signed on delivery
    attempts         INTEGER NOT NULL DEFAULT 0,
    delivered_at     TEXT,
    delivery_error   TEXT
);
CREATE INDEX notifications_org ON notifications (organisation_id, id);
