-- Provider orgs, their environments (catalogs) and the audit log.
--
-- The conventions of 0001 hold: times in unix microseconds UTC, text in byte
-- order, no foreign keys (DeleteOrg removes an org's environments and
-- policies itself, so that it can log a change for each).

CREATE TABLE orgs (
	id          text COLLATE "C" NOT NULL PRIMARY KEY,
	account_id  text COLLATE "C" NOT NULL,
	name        text COLLATE "C" NOT NULL,
	title       text COLLATE "C" NOT NULL,
	version     bigint           NOT NULL,
	created_by  text COLLATE "C" NOT NULL,
	created_at  bigint           NOT NULL,
	modified_at bigint           NOT NULL,
	UNIQUE (account_id, name)
);

CREATE TABLE environments (
	id          text COLLATE "C" NOT NULL PRIMARY KEY,
	account_id  text COLLATE "C" NOT NULL,
	org_id      text COLLATE "C" NOT NULL,
	name        text COLLATE "C" NOT NULL,
	title       text COLLATE "C" NOT NULL,
	created_by  text COLLATE "C" NOT NULL,
	created_at  bigint           NOT NULL,
	modified_at bigint           NOT NULL,
	UNIQUE (org_id, name)
);

-- DeleteOrg removes the policies scoped to the org; ListPolicies filters by org.
CREATE INDEX policies_by_org ON policies (account_id, org, id);

-- seq is given by AppendAudit (the previous entry's seq + 1, read in the same
-- transaction under an advisory lock that every append takes) rather than
-- by a sequence, so the numbering and the hash chain are decided together
-- and cannot fork.
CREATE TABLE audit_log (
	seq             bigint           NOT NULL PRIMARY KEY CHECK (seq > 0),
	account_id      text COLLATE "C" NOT NULL,
	time            bigint           NOT NULL,
	actor_iam_id    text COLLATE "C" NOT NULL,
	actor_apikey_id text COLLATE "C" NOT NULL,
	action          text COLLATE "C" NOT NULL,
	target          text COLLATE "C" NOT NULL,
	outcome         text COLLATE "C" NOT NULL,
	request_id      text COLLATE "C" NOT NULL,
	source_ip       text COLLATE "C" NOT NULL,
	message         text COLLATE "C" NOT NULL,
	prev_hash       text COLLATE "C" NOT NULL,
	hash            text COLLATE "C" NOT NULL
);

-- One index per ListAudit filter, each ending in seq, the listing order.
CREATE INDEX audit_log_by_account ON audit_log (account_id, seq);
CREATE INDEX audit_log_by_actor   ON audit_log (actor_iam_id, seq);
CREATE INDEX audit_log_by_apikey  ON audit_log (actor_apikey_id, seq);
CREATE INDEX audit_log_by_action  ON audit_log (action, seq);
CREATE INDEX audit_log_by_target  ON audit_log (target, seq);
CREATE INDEX audit_log_by_time    ON audit_log (time, seq);

-- Append-only in the database too: a stray UPDATE, DELETE or TRUNCATE in the
-- code fails loudly instead of silently breaking the chain. (A superuser can
-- still drop the triggers; the hash chain is what detects that.)
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
