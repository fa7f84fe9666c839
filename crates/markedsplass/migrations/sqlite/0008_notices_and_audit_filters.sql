-- Vendors are told of decisions and listing changes, not only of the nights: a notification's kind
-- also names a decided listing request (`approved`, `rejected`) and a listing changed by the
-- project (`reinstated`, `delisted`; `suspended` was a night's already), and it keeps the case,
-- the version and the note or reason it is about, so a page can word it in its own language.
--
-- SQLite changes a CHECK only by rebuilding the table; nothing refers to notifications, so the
-- new table simply replaces it.

CREATE TABLE notifications_told (
    id               INTEGER PRIMARY KEY,
    at               TEXT NOT NULL,
    organisation_id  INTEGER NOT NULL REFERENCES organisations (id),  -- the vendor told; the project sees all
    product_id       INTEGER NOT NULL REFERENCES products (id),
    kind             TEXT NOT NULL CHECK (kind IN ('at_risk', 'cleared', 'suspended', 'reinstated',
                                                   'delisted', 'approved', 'rejected')),
    night_id         INTEGER REFERENCES nights (id),
    run_id           INTEGER REFERENCES runs (id),
    case_id          INTEGER REFERENCES review_cases (id),             -- a decided listing request
    version          TEXT,                                            -- the version concerned
    note             TEXT,                                            -- the deciding note or the reason
    message          TEXT NOT NULL,
    payload          TEXT NOT NULL CHECK (json_valid(payload)),  -- the webhook body (JSON), signed on delivery
    attempts         INTEGER NOT NULL DEFAULT 0,
    delivered_at     TEXT,
    delivery_error   TEXT
);

INSERT INTO notifications_told (id, at, organisation_id, product_id, kind, night_id, run_id, version,
                                message, payload, attempts, delivered_at, delivery_error)
SELECT id, at, organisation_id, product_id, kind, night_id, run_id, json_extract(payload, '$.version'),
       message, payload, attempts, delivered_at, delivery_error
FROM notifications;

DROP TABLE notifications;
ALTER TABLE notifications_told RENAME TO notifications;
CREATE INDEX notifications_org ON notifications (organisation_id, id);
-- Delivery reads what is still to send, oldest first.
CREATE INDEX notifications_undelivered ON notifications (id) WHERE delivered_at IS NULL;

-- The audit page filters by kind (action), actor and subject, newest first; the events themselves
-- and their hash chain are untouched.
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_subject ON audit_events (subject, seq);
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
