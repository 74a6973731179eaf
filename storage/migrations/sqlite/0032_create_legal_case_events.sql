CREATE TABLE legal_case_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES legal_cases (id) ON DELETE CASCADE,
    at DATETIME NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    from_status TEXT NOT NULL DEFAULT '',
    to_status TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    text_enc TEXT NOT NULL
);
CREATE INDEX ix_legal_case_events_case ON legal_case_events (case_id, id);
