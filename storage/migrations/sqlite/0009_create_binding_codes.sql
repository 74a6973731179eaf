CREATE TABLE binding_codes (
    member_id INTEGER NOT NULL PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL UNIQUE,
    expires_at DATETIME NOT NULL,
    created_by TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
