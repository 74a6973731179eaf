CREATE TABLE activities (
    number BIGINT NOT NULL AUTO_INCREMENT,
    notice_id BIGINT NOT NULL,
    starts_at DATETIME(6) NOT NULL,
    place VARCHAR(191) NOT NULL,
    capacity INT NOT NULL,
    taken INT NOT NULL DEFAULT 0,
    signup_deadline DATETIME(6) NULL,
    members_only TINYINT(1) NOT NULL,
    waitlist TINYINT(1) NOT NULL,
    remind_before_min INT NOT NULL,
    reminded_at DATETIME(6) NULL,
    PRIMARY KEY (number),
    UNIQUE KEY uq_activities_notice (notice_id),
    KEY ix_activities_starts (starts_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
