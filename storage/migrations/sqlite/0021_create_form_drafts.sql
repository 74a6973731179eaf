CREATE TABLE form_drafts (
    open_id TEXT NOT NULL,
    form TEXT NOT NULL,
    step INTEGER NOT NULL,
    data TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    reminded_at DATETIME NULL,
    PRIMARY KEY (open_id, form)
) WITHOUT ROWID;
CREATE INDEX ix_form_drafts_updated ON form_drafts (updated_at);
