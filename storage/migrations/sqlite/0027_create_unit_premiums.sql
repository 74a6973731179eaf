CREATE TABLE unit_premiums (
    unit_id INTEGER NOT NULL REFERENCES units (id),
    year INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (unit_id, year)
) WITHOUT ROWID;
CREATE INDEX ix_unit_premiums_year ON unit_premiums (year);
