CREATE TABLE member_name_index (
    member_id INTEGER PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    name_hash TEXT NOT NULL,
    row_hash TEXT NOT NULL
);
CREATE INDEX ix_member_name_index_name_hash ON member_name_index (name_hash);
