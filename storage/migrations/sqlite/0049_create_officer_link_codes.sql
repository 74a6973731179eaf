CREATE TABLE officer_link_codes (
    officer_id INTEGER NOT NULL PRIMARY KEY REFERENCES officers (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL UNIQUE,
    expires_at DATETIME NOT NULL,
    created_at DATETIME NOT NULL
);
