CREATE TABLE guest_contacts (
    open_id TEXT NOT NULL PRIMARY KEY,
    name_enc TEXT NOT NULL,
    phone_enc TEXT NOT NULL,
    updated_at DATETIME NOT NULL
) WITHOUT ROWID;
