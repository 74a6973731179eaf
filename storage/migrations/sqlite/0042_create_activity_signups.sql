CREATE TABLE activity_signups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_no INTEGER NOT NULL,
    open_id TEXT NOT NULL,
    member_id INTEGER NULL,
    guest_name_enc TEXT NOT NULL DEFAULT '',
    guest_phone_enc TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    queued_at DATETIME NOT NULL,
    checked_in_at DATETIME NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX uq_activity_signups ON activity_signups (activity_no, open_id);
CREATE INDEX ix_activity_signups_queue ON activity_signups (activity_no, status, queued_at);
CREATE INDEX ix_activity_signups_open_id ON activity_signups (open_id);
