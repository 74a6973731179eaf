CREATE TABLE claim_history (
    id BIGINT NOT NULL AUTO_INCREMENT,
    claim_id BIGINT NOT NULL,
    at DATETIME(6) NOT NULL,
    actor VARCHAR(100) NOT NULL,
    from_status VARCHAR(16) NOT NULL,
    to_status VARCHAR(16) NOT NULL,
    amount BIGINT NULL,
    reason VARCHAR(500) NOT NULL DEFAULT '',
    missing VARCHAR(500) NOT NULL DEFAULT '',
    payment_ref VARCHAR(100) NOT NULL DEFAULT '',
    PRIMARY KEY (id),
    KEY ix_claim_history_claim (claim_id, id),
    CONSTRAINT fk_claim_history_claim FOREIGN KEY (claim_id) REFERENCES claims (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
