CREATE TABLE claim_attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    claim_id INTEGER NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    media_id INTEGER NOT NULL REFERENCES media (id),
    sha256 TEXT NOT NULL,
    added_at DATETIME NOT NULL
);
CREATE INDEX ix_claim_attachments_claim ON claim_attachments (claim_id, id);
CREATE INDEX ix_claim_attachments_sha256 ON claim_attachments (sha256);
