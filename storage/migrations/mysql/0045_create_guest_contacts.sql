CREATE TABLE guest_contacts (
    open_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    name_enc VARCHAR(512) COLLATE utf8mb4_bin NOT NULL,
    phone_enc VARCHAR(512) COLLATE utf8mb4_bin NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (open_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
