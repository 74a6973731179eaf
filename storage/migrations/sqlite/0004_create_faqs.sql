CREATE TABLE faqs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question TEXT NOT NULL,
    alternates TEXT NOT NULL,
    answer TEXT NOT NULL,
    category TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    updated_at DATETIME NOT NULL
);
