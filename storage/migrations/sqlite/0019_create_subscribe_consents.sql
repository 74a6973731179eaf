CREATE TABLE subscribe_consents (
    open_id TEXT NOT NULL,
    template_id TEXT NOT NULL,
    accepted_at DATETIME NOT NULL,
    PRIMARY KEY (open_id, template_id)
) WITHOUT ROWID;
