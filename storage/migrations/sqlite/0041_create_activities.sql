CREATE TABLE activities (
    number INTEGER PRIMARY KEY AUTOINCREMENT,
    notice_id INTEGER NOT NULL UNIQUE,
    starts_at DATETIME NOT NULL,
    place TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    taken INTEGER NOT NULL DEFAULT 0,
    signup_deadline DATETIME NULL,
    members_only INTEGER NOT NULL,
    waitlist INTEGER NOT NULL,
    remind_before_min INTEGER NOT NULL,
    reminded_at DATETIME NULL
);
CREATE INDEX ix_activities_starts ON activities (starts_at);
