CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    audience_kind TEXT NOT NULL,
    audience_units TEXT NOT NULL,
    audience_tags TEXT NOT NULL,
    unit_id INTEGER NULL,
    status TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    channel_reason TEXT NOT NULL DEFAULT '',
    audience_size INTEGER NOT NULL DEFAULT 0,
    excluded_optout INTEGER NOT NULL DEFAULT 0,
    excluded_quota INTEGER NOT NULL DEFAULT 0,
    publish_at DATETIME NULL,
    published_at DATETIME NULL,
    finished_at DATETIME NULL,
    cancelled_at DATETIME NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX ix_notices_status ON notices (status, publish_at);
CREATE INDEX ix_notices_unit ON notices (unit_id, id);
