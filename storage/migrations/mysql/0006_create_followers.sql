CREATE TABLE followers (
    open_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    subscribed TINYINT(1) NOT NULL,
    subscribed_at DATETIME(6) NULL,
    unsubscribed_at DATETIME(6) NULL,
    PRIMARY KEY (open_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
