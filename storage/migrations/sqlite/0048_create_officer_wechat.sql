CREATE TABLE officer_wechat (
    officer_id INTEGER NOT NULL PRIMARY KEY REFERENCES officers (id) ON DELETE CASCADE,
    open_id TEXT NOT NULL UNIQUE,
    linked_at DATETIME NOT NULL
);
