CREATE TABLE officer_link_codes (
    officer_id BIGINT NOT NULL,
    code_hash VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (officer_id),
    UNIQUE KEY uq_officer_link_codes_code_hash (code_hash),
    CONSTRAINT fk_officer_link_codes_officer FOREIGN KEY (officer_id) REFERENCES officers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
