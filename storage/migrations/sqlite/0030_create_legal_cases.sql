CREATE TABLE legal_cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL UNIQUE,
    open_id TEXT NOT NULL,
    member_id INTEGER NULL REFERENCES members (id),
    unit_id INTEGER NULL REFERENCES units (id),
    type TEXT NOT NULL,
    stage TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    urgent INTEGER NOT NULL DEFAULT 0,
    crisis_category TEXT NOT NULL DEFAULT '',
    crisis_at DATETIME NULL,
    crisis_text_enc TEXT NOT NULL,
    employer TEXT NOT NULL DEFAULT '',
    workplace TEXT NOT NULL DEFAULT '',
    workers INTEGER NOT NULL DEFAULT 0,
    amount INTEGER NULL,
    description_enc TEXT NOT NULL,
    contact_name_enc TEXT NOT NULL DEFAULT '',
    contact_phone_enc TEXT NOT NULL DEFAULT '',
    contact_phone_masked TEXT NOT NULL DEFAULT '',
    contact_time TEXT NOT NULL DEFAULT '',
    assignee TEXT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    satisfaction INTEGER NULL,
    satisfaction_comment TEXT NOT NULL DEFAULT '',
    rated_at DATETIME NULL,
    contacted_at DATETIME NULL,
    closed_at DATETIME NULL,
    submit_token TEXT NULL UNIQUE,
    submitted_by TEXT NOT NULL,
    submitted_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX ix_legal_cases_open_id ON legal_cases (open_id, status);
CREATE INDEX ix_legal_cases_queue ON legal_cases (urgent, id);
CREATE INDEX ix_legal_cases_status ON legal_cases (status, submitted_at);
CREATE INDEX ix_legal_cases_unit ON legal_cases (unit_id, submitted_at);
CREATE INDEX ix_legal_cases_closed ON legal_cases (closed_at);
