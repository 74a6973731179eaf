CREATE TABLE seeds (
    name VARCHAR(100) COLLATE utf8mb4_bin NOT NULL,
    applied_at DATETIME(6) NOT NULL,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
