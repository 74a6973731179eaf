CREATE TABLE binding_throttles (
    subject TEXT NOT NULL PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start DATETIME NOT NULL,
    locked_until DATETIME NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX ix_binding_throttles_updated_at ON binding_throttles (updated_at);
