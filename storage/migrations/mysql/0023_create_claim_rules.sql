CREATE TABLE claim_rules (
    version INT NOT NULL,
    rules TEXT NOT NULL,
    confirmed_by VARCHAR(100) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
