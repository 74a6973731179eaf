CREATE TABLE legal_case_evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES legal_cases (id) ON DELETE CASCADE,
    media_id INTEGER NOT NULL REFERENCES media (id),
    added_at DATETIME NOT NULL
);
CREATE INDEX ix_legal_case_evidence_case ON legal_case_evidence (case_id, id);
