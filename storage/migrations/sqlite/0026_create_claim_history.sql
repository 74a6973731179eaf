CREATE TABLE claim_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    claim_id INTEGER NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    at DATETIME NOT NULL,
    actor TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    amount INTEGER NULL,
    reason TEXT NOT NULL DEFAULT '',
    missing TEXT NOT NULL DEFAULT '',
    payment_ref TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ix_claim_history_claim ON claim_history (claim_id, id);
