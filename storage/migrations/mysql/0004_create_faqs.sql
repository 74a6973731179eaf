CREATE TABLE faqs (
    id BIGINT NOT NULL AUTO_INCREMENT,
    question TEXT NOT NULL,
    alternates TEXT NOT NULL,
    answer TEXT NOT NULL,
    category VARCHAR(100) NOT NULL,
    enabled TINYINT(1) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
