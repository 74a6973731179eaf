CREATE TABLE audit_log (
    id BIGINT NOT NULL AUTO_INCREMENT,
    at DATETIME(6) NOT NULL,
    actor VARCHAR(100) NOT NULL,
    action VARCHAR(100) NOT NULL,
    subject VARCHAR(191) NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (id),
    KEY ix_audit_log_subject (subject, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
