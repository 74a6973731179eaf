CREATE TABLE legal_case_numbers (
    day CHAR(8) COLLATE ascii_bin NOT NULL,
    last INT NOT NULL,
    PRIMARY KEY (day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
