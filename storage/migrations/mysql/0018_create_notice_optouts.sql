CREATE TABLE notice_optouts (
    open_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    opted_out_at DATETIME(6) NOT NULL,
    PRIMARY KEY (open_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
