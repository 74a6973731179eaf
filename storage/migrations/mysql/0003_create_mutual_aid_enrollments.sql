CREATE TABLE mutual_aid_enrollments (
    member_id BIGINT NOT NULL,
    year INT NOT NULL,
    cover_from DATE NOT NULL,
    cover_to DATE NOT NULL,
    PRIMARY KEY (member_id, year),
    KEY ix_mutual_aid_enrollments_year (year),
    CONSTRAINT fk_enrollments_member FOREIGN KEY (member_id) REFERENCES members (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
