CREATE TABLE mutual_aid_enrollments (
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    year INTEGER NOT NULL,
    cover_from DATE NOT NULL,
    cover_to DATE NOT NULL,
    PRIMARY KEY (member_id, year)
) WITHOUT ROWID;
CREATE INDEX ix_mutual_aid_enrollments_year ON mutual_aid_enrollments (year);
