CREATE TABLE members (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    member_no TEXT NOT NULL UNIQUE,
    name_enc TEXT NOT NULL,
    bind_hash TEXT NOT NULL,
    id_number_enc TEXT NOT NULL,
    id_number_hash TEXT NOT NULL UNIQUE,
    phone_enc TEXT NOT NULL,
    phone_hash TEXT NOT NULL,
    unit_id INTEGER NULL REFERENCES units (id),
    joined_on DATE NULL,
    status TEXT NOT NULL,
    row_hash TEXT NOT NULL,
    open_id TEXT NULL UNIQUE,
    bound_at DATETIME NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX ix_members_bind_hash ON members (bind_hash);
CREATE INDEX ix_members_phone_hash ON members (phone_hash);
CREATE INDEX ix_members_unit_id ON members (unit_id);
