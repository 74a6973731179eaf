CREATE TABLE open_forms (
    open_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    form VARCHAR(64) NOT NULL,
    started_at DATETIME(6) NOT NULL,
    PRIMARY KEY (open_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
