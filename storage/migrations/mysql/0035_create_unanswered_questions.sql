CREATE TABLE unanswered_questions (
    id BIGINT NOT NULL AUTO_INCREMENT,
    question VARCHAR(500) NOT NULL,
    normalized VARCHAR(500) NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    offered VARCHAR(200) NOT NULL,
    picked_faq_id BIGINT NULL,
    attached_faq_id BIGINT NULL,
    asked_at DATETIME(6) NOT NULL,
    resolved_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    KEY idx_unanswered_pending (attached_faq_id, asked_at),
    KEY idx_unanswered_asked (asked_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
