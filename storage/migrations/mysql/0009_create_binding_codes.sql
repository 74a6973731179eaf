CREATE TABLE binding_codes (
    member_id BIGINT NOT NULL,
    code_hash VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    created_by VARCHAR(100) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (member_id),
    UNIQUE KEY uq_binding_codes_code_hash (code_hash),
    CONSTRAINT fk_binding_codes_member FOREIGN KEY (member_id) REFERENCES members (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
