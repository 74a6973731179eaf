CREATE TABLE follower_tags (
    tag_id INTEGER NOT NULL,
    open_id TEXT NOT NULL,
    PRIMARY KEY (tag_id, open_id)
) WITHOUT ROWID;
CREATE INDEX ix_follower_tags_open_id ON follower_tags (open_id);
