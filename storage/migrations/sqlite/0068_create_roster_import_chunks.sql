CREATE TABLE roster_import_chunks (
    import_id INTEGER NOT NULL REFERENCES roster_imports (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (import_id, seq)
);
