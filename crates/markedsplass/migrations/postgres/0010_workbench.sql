-- The vendor's workbench (docs/workbench.md), as SQLite's 0010: one hosted development sandbox per
-- organisation. What is stored is what the vendor changed: the journal of accepted launches and
-- writes (replayed in order when the sandbox is loaded) and the fault preset. A reset empties the
-- journal and draws a new secret, so every token of the sandbox dies with its writes.

CREATE TABLE workbench_sandboxes (
    organisation_id  BIGINT PRIMARY KEY REFERENCES organisations (id),
    secret           TEXT COLLATE "C" NOT NULL,                -- hex, 32 bytes: the MAC key of the sandbox's tokens
    faults           TEXT COLLATE "C" NOT NULL DEFAULT 'off',  -- a fault preset (crate::store::FaultPreset)
    created_at       TEXT COLLATE "C" NOT NULL,
    reset_at         TEXT COLLATE "C"
);

CREATE TABLE workbench_journal (
    organisation_id  BIGINT NOT NULL REFERENCES workbench_sandboxes (organisation_id),
    seq              BIGINT NOT NULL,                          -- 1, 2, 3 … per sandbox, the order of replay
    entry            TEXT COLLATE "C" NOT NULL CHECK (json_valid(entry)),  -- JSON of crate::store::JournalEntry
    PRIMARY KEY (organisation_id, seq)
);
