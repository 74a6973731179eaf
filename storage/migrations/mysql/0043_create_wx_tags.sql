CREATE TABLE wx_tags (
    id BIGINT NOT NULL,
    name VARCHAR(191) NOT NULL,
    followers INT NOT NULL DEFAULT 0,
    synced_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
