CREATE TABLE activity_signups (
    id BIGINT NOT NULL AUTO_INCREMENT,
    activity_no BIGINT NOT NULL,
    open_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    member_id BIGINT NULL,
    guest_name_enc VARCHAR(512) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    guest_phone_enc VARCHAR(512) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    status VARCHAR(16) NOT NULL,
    queued_at DATETIME(6) NOT NULL,
    checked_in_at DATETIME(6) NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_activity_signups (activity_no, open_id),
    KEY ix_activity_signups_queue (activity_no, status, queued_at),
    KEY ix_activity_signups_open_id (open_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
