CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    open_id TEXT NOT NULL DEFAULT '',
    member_id INTEGER NULL,
    service INTEGER NOT NULL DEFAULT 0,
    mass INTEGER NOT NULL DEFAULT 0,
    content TEXT NOT NULL,
    state TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    skip_channels TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at DATETIME NOT NULL,
    lease_owner TEXT NOT NULL DEFAULT '',
    err_code INTEGER NOT NULL DEFAULT 0,
    err_msg TEXT NOT NULL DEFAULT '',
    wx_msg_id INTEGER NOT NULL DEFAULT 0,
    recipients INTEGER NOT NULL DEFAULT 0,
    over_quota TEXT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    sent_at DATETIME NULL,
    read_at DATETIME NULL
);
CREATE UNIQUE INDEX uq_outbox_dedup_key ON outbox (dedup_key);
CREATE INDEX ix_outbox_due ON outbox (state, mass, next_at);
CREATE INDEX ix_outbox_open_id ON outbox (open_id, state);
CREATE INDEX ix_outbox_member ON outbox (member_id, state);
