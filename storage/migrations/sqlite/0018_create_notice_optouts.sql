CREATE TABLE notice_optouts (
    open_id TEXT NOT NULL PRIMARY KEY,
    opted_out_at DATETIME NOT NULL
) WITHOUT ROWID;
