CREATE TABLE claim_attachments (
    id BIGINT NOT NULL AUTO_INCREMENT,
    claim_id BIGINT NOT NULL,
    kind VARCHAR(32) NOT NULL,
    media_id BIGINT NOT NULL,
    sha256 CHAR(64) COLLATE ascii_bin NOT NULL,
    added_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    KEY ix_claim_attachments_claim (claim_id, id),
    KEY ix_claim_attachments_sha256 (sha256),
    CONSTRAINT fk_claim_attachments_claim FOREIGN KEY (claim_id) REFERENCES claims (id) ON DELETE CASCADE,
    CONSTRAINT fk_claim_attachments_media FOREIGN KEY (media_id) REFERENCES media (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
