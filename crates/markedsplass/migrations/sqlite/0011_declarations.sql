-- Declarations (egenerklæringer, conformance/erklaeringer/): the vendor's answer to each one in a
-- listing request, its attachments, and each reviewer's verdict on it. A case's answers are fixed
-- when the request is made (written in the transaction that opens the case); verdicts are written
-- in the transaction of the reviewer's decision.
CREATE TABLE case_declarations (
    case_id         INTEGER NOT NULL REFERENCES review_cases (id),
    declaration_id  TEXT NOT NULL,                 -- e.g. ERK-01, an id of the suite version below
    suite_version   TEXT NOT NULL,                 -- the suite version whose text was answered
    answer          TEXT NOT NULL,
    PRIMARY KEY (case_id, declaration_id)
);

CREATE TABLE declaration_attachments (
    id              INTEGER PRIMARY KEY,
    case_id         INTEGER NOT NULL,
    declaration_id  TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            INTEGER NOT NULL CHECK (size = length(content)),
    sha256          TEXT NOT NULL,
    content         BLOB NOT NULL,
    FOREIGN KEY (case_id, declaration_id) REFERENCES case_declarations (case_id, declaration_id)
);
CREATE INDEX declaration_attachments_by_case ON declaration_attachments (case_id, declaration_id);

CREATE TABLE declaration_verdicts (
    case_id         INTEGER NOT NULL,
    declaration_id  TEXT NOT NULL,
    reviewer_id     INTEGER NOT NULL REFERENCES users (id),
    verdict         TEXT NOT NULL CHECK (verdict IN ('accept', 'reject')),
    comment         TEXT NOT NULL,
    decided_at      TEXT NOT NULL,
    PRIMARY KEY (case_id, declaration_id, reviewer_id),
    FOREIGN KEY (case_id, declaration_id) REFERENCES case_declarations (case_id, declaration_id)
);
