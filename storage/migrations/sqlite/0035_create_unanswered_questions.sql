CREATE TABLE unanswered_questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question TEXT NOT NULL,
    normalized TEXT NOT NULL,
    outcome TEXT NOT NULL,
    offered TEXT NOT NULL,
    picked_faq_id INTEGER NULL,
    attached_faq_id INTEGER NULL,
    asked_at DATETIME NOT NULL,
    resolved_at DATETIME NULL
);
CREATE INDEX idx_unanswered_pending ON unanswered_questions (attached_faq_id, asked_at);
CREATE INDEX idx_unanswered_asked ON unanswered_questions (asked_at);
