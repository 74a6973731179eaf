CREATE TABLE faq_paraphrases (
    id BIGINT NOT NULL AUTO_INCREMENT,
    faq_id BIGINT NOT NULL,
    text VARCHAR(500) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    created_by VARCHAR(100) NOT NULL,
    PRIMARY KEY (id),
    KEY idx_faq_paraphrases_faq (faq_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
