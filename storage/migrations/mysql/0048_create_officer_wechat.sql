CREATE TABLE officer_wechat (
    officer_id BIGINT NOT NULL,
    open_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    linked_at DATETIME(6) NOT NULL,
    PRIMARY KEY (officer_id),
    UNIQUE KEY uq_officer_wechat_open_id (open_id),
    CONSTRAINT fk_officer_wechat_officer FOREIGN KEY (officer_id) REFERENCES officers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
