CREATE TABLE legal_case_evidence (
    id BIGINT NOT NULL AUTO_INCREMENT,
    case_id BIGINT NOT NULL,
    media_id BIGINT NOT NULL,
    added_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    KEY ix_legal_case_evidence_case (case_id, id),
    CONSTRAINT fk_legal_case_evidence_case FOREIGN KEY (case_id) REFERENCES legal_cases (id) ON DELETE CASCADE,
    CONSTRAINT fk_legal_case_evidence_media FOREIGN KEY (media_id) REFERENCES media (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
