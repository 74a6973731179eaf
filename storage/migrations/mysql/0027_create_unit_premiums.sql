CREATE TABLE unit_premiums (
    unit_id BIGINT NOT NULL,
    year INT NOT NULL,
    amount BIGINT NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (unit_id, year),
    KEY ix_unit_premiums_year (year),
    CONSTRAINT fk_unit_premiums_unit FOREIGN KEY (unit_id) REFERENCES units (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
