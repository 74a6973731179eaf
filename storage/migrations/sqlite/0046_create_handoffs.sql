CREATE TABLE handoffs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    open_id TEXT NOT NULL,
    open_key TEXT NULL UNIQUE,
    member_id INTEGER NULL,
    unit_id INTEGER NULL,
    status TEXT NOT NULL,
    urgent INTEGER NOT NULL DEFAULT 0,
    opened_at DATETIME NOT NULL,
    last_activity_at DATETIME NOT NULL,
    last_member_at DATETIME NULL,
    claimed_by TEXT NULL,
    claimed_at DATETIME NULL,
    closed_at DATETIME NULL,
    closed_by TEXT NULL,
    close_reason TEXT NULL
);
CREATE INDEX ix_handoffs_status ON handoffs (status, unit_id, id);
CREATE INDEX ix_handoffs_activity ON handoffs (status, last_activity_at);
CREATE INDEX ix_handoffs_closed ON handoffs (closed_at);
