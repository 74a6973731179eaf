CREATE TABLE faq_paraphrases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    faq_id INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX idx_faq_paraphrases_faq ON faq_paraphrases (faq_id);
