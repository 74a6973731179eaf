CREATE TABLE form_drafts (
    open_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    form VARCHAR(64) NOT NULL,
    step INT NOT NULL,
    data MEDIUMTEXT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    reminded_at DATETIME(6) NULL,
    PRIMARY KEY (open_id, form),
    KEY ix_form_drafts_updated (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
