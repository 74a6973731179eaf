CREATE TABLE followers (
    open_id TEXT NOT NULL PRIMARY KEY,
    subscribed INTEGER NOT NULL,
    subscribed_at DATETIME NULL,
    unsubscribed_at DATETIME NULL
) WITHOUT ROWID;
