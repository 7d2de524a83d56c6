-- Token exchanges (one audit entry each, the bulk of the log) are left out of
-- the by-key and by-target indexes: their key id is both actor and target, so
-- each entry landed on two random leaf pages of those indexes, read and
-- rewritten per exchange — the largest cost of an exchange once the log is
-- large (docs/BENCHMARKS.md). ListAudit finds the token.exchange entries of a
-- key through audit_log_by_action instead; its results do not change.
DROP INDEX audit_log_by_apikey;
DROP INDEX audit_log_by_target;
CREATE INDEX audit_log_by_apikey ON audit_log (actor_apikey_id, seq) WHERE action <> 'token.exchange';
CREATE INDEX audit_log_by_target ON audit_log (target, seq) WHERE action <> 'token.exchange';
