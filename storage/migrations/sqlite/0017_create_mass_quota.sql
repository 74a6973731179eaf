CREATE TABLE mass_quota (
    open_id TEXT NOT NULL,
    month TEXT NOT NULL,
    used INTEGER NOT NULL,
    PRIMARY KEY (open_id, month)
) WITHOUT ROWID;
