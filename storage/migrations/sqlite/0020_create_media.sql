CREATE TABLE media (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    open_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NULL
);
CREATE INDEX ix_media_sha256 ON media (sha256);
CREATE INDEX ix_media_open_id ON media (open_id, created_at);
CREATE INDEX ix_media_expires ON media (expires_at);
