CREATE TABLE claim_rules (
    version INTEGER PRIMARY KEY,
    rules TEXT NOT NULL,
    confirmed_by TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
