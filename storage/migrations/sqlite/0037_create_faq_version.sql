CREATE TABLE faq_version (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
);
