CREATE INDEX ix_audit_log_actor ON audit_log (actor, id);
