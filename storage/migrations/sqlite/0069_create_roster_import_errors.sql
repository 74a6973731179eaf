CREATE TABLE roster_import_errors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    import_id INTEGER NOT NULL REFERENCES roster_imports (id) ON DELETE CASCADE,
    row_no INTEGER NOT NULL,
    column_name TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX ix_roster_import_errors_import ON roster_import_errors (import_id, row_no, id);
