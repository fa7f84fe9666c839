-- The vendor's workbench (docs/workbench.md): one hosted development sandbox per organisation.
-- The synthetic kommune itself is regenerated from the organisation's seed; what is stored is what
-- the vendor changed: the journal of accepted launches and writes (replayed in order when the
-- sandbox is loaded) and the fault preset. A reset empties the journal and draws a new secret, so
-- every token of the sandbox dies with its writes.

CREATE TABLE workbench_sandboxes (
    organisation_id  INTEGER PRIMARY KEY REFERENCES organisations (id),
    secret           TEXT NOT NULL,                    -- hex, 32 bytes: the MAC key of the sandbox's tokens
    faults           TEXT NOT NULL DEFAULT 'off',      -- a fault preset (crate::store::FaultPreset)
    created_at       TEXT NOT NULL,
    reset_at         TEXT
);

CREATE TABLE workbench_journal (
    organisation_id  INTEGER NOT NULL REFERENCES workbench_sandboxes (organisation_id),
    seq              INTEGER NOT NULL,                 -- 1, 2, 3 … per sandbox, the order of replay
    entry            TEXT NOT NULL,                    -- JSON of crate::store::JournalEntry
    PRIMARY KEY (organisation_id, seq)
);
