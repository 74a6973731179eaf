CREATE TABLE subscribe_consents (
    open_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    template_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    accepted_at DATETIME(6) NOT NULL,
    PRIMARY KEY (open_id, template_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
