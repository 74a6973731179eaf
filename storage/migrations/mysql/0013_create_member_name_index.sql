CREATE TABLE member_name_index (
    member_id BIGINT NOT NULL,
    name_hash VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    row_hash VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (member_id),
    KEY ix_member_name_index_name_hash (name_hash),
    CONSTRAINT fk_member_name_index_member FOREIGN KEY (member_id) REFERENCES members (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
