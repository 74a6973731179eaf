CREATE TABLE follower_tags (
    tag_id BIGINT NOT NULL,
    open_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (tag_id, open_id),
    KEY ix_follower_tags_open_id (open_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
