CREATE TABLE roster_import_chunks (
    import_id BIGINT NOT NULL,
    seq INT NOT NULL,
    data LONGBLOB NOT NULL,
    PRIMARY KEY (import_id, seq),
    CONSTRAINT fk_roster_import_chunks_import FOREIGN KEY (import_id) REFERENCES roster_imports (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
