CREATE TABLE claims (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL UNIQUE,
    member_id INTEGER NOT NULL REFERENCES members (id),
    unit_id INTEGER NULL REFERENCES units (id),
    plan TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    hospital TEXT NOT NULL,
    admitted_on DATE NOT NULL,
    discharged_on DATE NOT NULL,
    diagnosis_enc TEXT NOT NULL,
    total_cost INTEGER NOT NULL,
    insurance_paid INTEGER NOT NULL,
    out_of_pocket INTEGER NOT NULL,
    estimate INTEGER NULL,
    estimate_detail TEXT NOT NULL,
    rules_version INTEGER NOT NULL,
    approved_amount INTEGER NULL,
    bank_name TEXT NOT NULL,
    bank_card_enc TEXT NOT NULL,
    bank_card_masked TEXT NOT NULL,
    payment_ref TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    missing TEXT NOT NULL DEFAULT '',
    submit_token TEXT NULL UNIQUE,
    submitted_by TEXT NOT NULL,
    submitted_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX ix_claims_member ON claims (member_id, plan, admitted_on);
CREATE INDEX ix_claims_status ON claims (status, submitted_at);
CREATE INDEX ix_claims_unit ON claims (unit_id, submitted_at);
CREATE INDEX ix_claims_submitted ON claims (submitted_at);
