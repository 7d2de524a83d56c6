-- Provider orgs, their environments (catalogs) and the audit log.
--
-- The conventions of 0001 hold: times in unix microseconds UTC, STRICT tables,
-- no foreign keys (DeleteOrg removes an org's environments and policies itself,
-- so that it can log a change for each).

CREATE TABLE orgs (
	id          TEXT    NOT NULL PRIMARY KEY,
	account_id  TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	title       TEXT    NOT NULL,
	version     INTEGER NOT NULL,
	created_by  TEXT    NOT NULL,
	created_at  INTEGER NOT NULL,
	modified_at INTEGER NOT NULL,
	UNIQUE (account_id, name)
) STRICT;

CREATE TABLE environments (
	id          TEXT    NOT NULL PRIMARY KEY,
	account_id  TEXT    NOT NULL,
	org_id      TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	title       TEXT    NOT NULL,
	created_by  TEXT    NOT NULL,
	created_at  INTEGER NOT NULL,
	modified_at INTEGER NOT NULL,
	UNIQUE (org_id, name)
) STRICT;

-- DeleteOrg removes the policies scoped to the org; ListPolicies filters by org.
CREATE INDEX policies_by_org ON policies (account_id, org, id);

-- seq is given by AppendAudit (the previous entry's seq + 1, read in the same
-- write transaction) rather than assigned by SQLite, so the numbering and the
-- hash chain are decided together and cannot fork.
CREATE TABLE audit_log (
	seq             INTEGER NOT NULL PRIMARY KEY CHECK (seq > 0),
	account_id      TEXT    NOT NULL,
	time            INTEGER NOT NULL,
	actor_iam_id    TEXT    NOT NULL,
	actor_apikey_id TEXT    NOT NULL,
	action          TEXT    NOT NULL,
	target          TEXT    NOT NULL,
	outcome         TEXT    NOT NULL,
	request_id      TEXT    NOT NULL,
	source_ip       TEXT    NOT NULL,
	message         TEXT    NOT NULL,
	prev_hash       TEXT    NOT NULL,
	hash            TEXT    NOT NULL
) STRICT;

-- One index per ListAudit filter, each ending in seq, the listing order.
CREATE INDEX audit_log_by_account ON audit_log (account_id, seq);
CREATE INDEX audit_log_by_actor   ON audit_log (actor_iam_id, seq);
CREATE INDEX audit_log_by_apikey  ON audit_log (actor_apikey_id, seq);
CREATE INDEX audit_log_by_action  ON audit_log (action, seq);
CREATE INDEX audit_log_by_target  ON audit_log (target, seq);
CREATE INDEX audit_log_by_time    ON audit_log (time, seq);

-- Append-only in the database too: a stray UPDATE or DELETE in the code fails
-- loudly instead of silently breaking the chain. (Someone with the file can
-- still drop these; the hash chain is what detects that.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
