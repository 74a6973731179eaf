CREATE TABLE api_tokens (
    id BIGINT NOT NULL AUTO_INCREMENT,
    name VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    token_hash VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    roles VARCHAR(191) COLLATE utf8mb4_bin NOT NULL,
    unit_id BIGINT NULL,
    created_at DATETIME(6) NOT NULL,
    last_used_at DATETIME(6) NULL,
    revoked_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_api_tokens_name (name),
    UNIQUE KEY uq_api_tokens_token_hash (token_hash),
    CONSTRAINT fk_api_tokens_unit FOREIGN KEY (unit_id) REFERENCES units (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
