CREATE TABLE mass_quota (
    open_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    month CHAR(7) NOT NULL,
    used INT NOT NULL,
    PRIMARY KEY (open_id, month)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
