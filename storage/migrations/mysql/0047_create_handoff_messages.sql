CREATE TABLE handoff_messages (
    id BIGINT NOT NULL AUTO_INCREMENT,
    handoff_id BIGINT NOT NULL,
    at DATETIME(6) NOT NULL,
    sender VARCHAR(16) NOT NULL,
    officer VARCHAR(100) NULL,
    body_enc MEDIUMTEXT COLLATE utf8mb4_bin NOT NULL,
    outbox_key VARCHAR(191) COLLATE utf8mb4_bin NULL,
    PRIMARY KEY (id),
    KEY ix_handoff_messages_handoff (handoff_id, id),
    CONSTRAINT fk_handoff_messages_handoff FOREIGN KEY (handoff_id) REFERENCES handoffs (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
