CREATE TABLE roster_import_errors (
    id BIGINT NOT NULL AUTO_INCREMENT,
    import_id BIGINT NOT NULL,
    row_no INT NOT NULL,
    column_name VARCHAR(255) NOT NULL,
    reason VARCHAR(500) NOT NULL,
    PRIMARY KEY (id),
    KEY ix_roster_import_errors_import (import_id, row_no, id),
    CONSTRAINT fk_roster_import_errors_import FOREIGN KEY (import_id) REFERENCES roster_imports (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
