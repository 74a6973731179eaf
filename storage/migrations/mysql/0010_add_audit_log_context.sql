ALTER TABLE audit_log
    ADD COLUMN request_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    ADD COLUMN client_addr VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    ADD COLUMN before_state TEXT NULL,
    ADD COLUMN after_state TEXT NULL
