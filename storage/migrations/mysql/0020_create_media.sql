CREATE TABLE media (
    id BIGINT NOT NULL AUTO_INCREMENT,
    open_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    sha256 CHAR(64) COLLATE ascii_bin NOT NULL,
    content_type VARCHAR(64) NOT NULL,
    size INT NOT NULL,
    data LONGBLOB NOT NULL,
    created_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    KEY ix_media_sha256 (sha256),
    KEY ix_media_open_id (open_id, created_at),
    KEY ix_media_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
