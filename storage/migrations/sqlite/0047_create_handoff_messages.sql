CREATE TABLE handoff_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    handoff_id INTEGER NOT NULL REFERENCES handoffs (id) ON DELETE CASCADE,
    at DATETIME NOT NULL,
    sender TEXT NOT NULL,
    officer TEXT NULL,
    body_enc TEXT NOT NULL,
    outbox_key TEXT NULL
);
CREATE INDEX ix_handoff_messages_handoff ON handoff_messages (handoff_id, id);
