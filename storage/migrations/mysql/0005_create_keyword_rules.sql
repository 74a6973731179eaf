CREATE TABLE keyword_rules (
    id BIGINT NOT NULL AUTO_INCREMENT,
    pattern VARCHAR(500) NOT NULL,
    match_kind VARCHAR(16) NOT NULL,
    reply TEXT NOT NULL,
    priority INT NOT NULL,
    enabled TINYINT(1) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
