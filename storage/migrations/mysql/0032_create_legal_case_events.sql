CREATE TABLE legal_case_events (
    id BIGINT NOT NULL AUTO_INCREMENT,
    case_id BIGINT NOT NULL,
    at DATETIME(6) NOT NULL,
    actor VARCHAR(100) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    from_status VARCHAR(16) NOT NULL DEFAULT '',
    to_status VARCHAR(16) NOT NULL DEFAULT '',
    outcome VARCHAR(16) NOT NULL DEFAULT '',
    reason VARCHAR(2000) NOT NULL DEFAULT '',
    text_enc TEXT COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (id),
    KEY ix_legal_case_events_case (case_id, id),
    CONSTRAINT fk_legal_case_events_case FOREIGN KEY (case_id) REFERENCES legal_cases (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
