CREATE TABLE binding_throttles (
    subject VARCHAR(191) COLLATE utf8mb4_bin NOT NULL,
    failures INT NOT NULL,
    window_start DATETIME(6) NOT NULL,
    locked_until DATETIME(6) NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (subject),
    KEY ix_binding_throttles_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
