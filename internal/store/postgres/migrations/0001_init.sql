-- Initial schema: the PostgreSQL twin of the SQLite backend's 0001_init.sql.
--
-- Conventions: times are bigint unix microseconds in UTC, 0 meaning unset
-- (the same representation as SQLite, so zero times, precision and the
-- Since/Until comparisons behave identically); digests and key material are
-- bytea; API key history is a JSON array in text (text rather than jsonb:
-- jsonb refuses \u0000 and rewrites what it is given, and nothing queries
-- into it). Every text column is COLLATE "C" so that comparisons, ORDER BY
-- and the indexes use byte order, as SQLite's BINARY collation does,
-- whatever the database's default collation is.
--
-- There are no foreign keys: an API key or policy belongs to a user or a
-- service ID (two tables), and cascades are done explicitly by the store so
-- that they also write their change-log entries.

CREATE TABLE accounts (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	name       text COLLATE "C" NOT NULL,
	created_at bigint           NOT NULL
);

CREATE TABLE users (
	id            text COLLATE "C" NOT NULL PRIMARY KEY,
	iam_id        text COLLATE "C" NOT NULL UNIQUE,
	account_id    text COLLATE "C" NOT NULL,
	username      text COLLATE "C" NOT NULL,
	name          text COLLATE "C" NOT NULL,
	email         text COLLATE "C" NOT NULL,
	password_hash text COLLATE "C" NOT NULL,
	disabled      boolean          NOT NULL,
	version       bigint           NOT NULL,
	created_at    bigint           NOT NULL,
	modified_at   bigint           NOT NULL,
	UNIQUE (account_id, username)
);

CREATE TABLE service_ids (
	id          text COLLATE "C" NOT NULL PRIMARY KEY,
	iam_id      text COLLATE "C" NOT NULL UNIQUE,
	account_id  text COLLATE "C" NOT NULL,
	name        text COLLATE "C" NOT NULL,
	description text COLLATE "C" NOT NULL,
	locked      boolean          NOT NULL,
	version     bigint           NOT NULL,
	created_by  text COLLATE "C" NOT NULL,
	created_at  bigint           NOT NULL,
	modified_at bigint           NOT NULL
);

CREATE INDEX service_ids_by_account ON service_ids (account_id, id);

CREATE TABLE policies (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	account_id text COLLATE "C" NOT NULL,
	subject    text COLLATE "C" NOT NULL,
	role       text COLLATE "C" NOT NULL,
	org        text COLLATE "C" NOT NULL, -- '' for account-wide
	created_by text COLLATE "C" NOT NULL,
	created_at bigint           NOT NULL,
	UNIQUE (account_id, subject, org)
);

-- The token service looks policies up by subject alone.
CREATE INDEX policies_by_subject ON policies (subject, id);

CREATE TABLE api_keys (
	id                 text COLLATE "C" NOT NULL PRIMARY KEY,
	account_id         text COLLATE "C" NOT NULL,
	iam_id             text COLLATE "C" NOT NULL,
	name               text COLLATE "C" NOT NULL,
	description        text COLLATE "C" NOT NULL,
	digest             bytea            NOT NULL UNIQUE,
	hint               text COLLATE "C" NOT NULL,
	role               text COLLATE "C" NOT NULL,
	locked             boolean          NOT NULL,
	disabled           boolean          NOT NULL,
	expires_at         bigint           NOT NULL,
	action_when_leaked text COLLATE "C" NOT NULL,
	created_by         text COLLATE "C" NOT NULL,
	created_at         bigint           NOT NULL,
	modified_at        bigint           NOT NULL,
	version            bigint           NOT NULL,
	last_authn         bigint           NOT NULL,
	authn_count        bigint           NOT NULL,
	history            text COLLATE "C" -- JSON array; NULL when empty
);

-- One index per listing order, for the account scope and for one owner.
CREATE INDEX api_keys_by_account_created ON api_keys (account_id, created_at, id);
CREATE INDEX api_keys_by_account_name    ON api_keys (account_id, name, id);
CREATE INDEX api_keys_by_owner_created   ON api_keys (account_id, iam_id, created_at, id);
CREATE INDEX api_keys_by_owner_name      ON api_keys (account_id, iam_id, name, id);

CREATE TABLE signing_keys (
	id          text COLLATE "C" NOT NULL PRIMARY KEY,
	generation  bigint           NOT NULL UNIQUE,
	algorithm   text COLLATE "C" NOT NULL,
	public_key  bytea,
	private_key bytea,
	created_at  bigint           NOT NULL,
	activate_at bigint           NOT NULL
);

CREATE TABLE meta (
	name  text COLLATE "C" NOT NULL PRIMARY KEY,
	value text COLLATE "C" NOT NULL
);

-- An identity column, so that a Seq is never reused, even after PruneChanges
-- has emptied the table: tailers remember the last Seq they saw. Sequence
-- values are handed out outside transactions, so on their own they would
-- commit out of order; the store takes an advisory lock around every insert
-- into this table (see logChanges in postgres.go), which makes Seq order
-- commit order.
CREATE TABLE changes (
	seq  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind text COLLATE "C" NOT NULL,
	key  text COLLATE "C" NOT NULL,
	time bigint           NOT NULL
);

CREATE INDEX changes_by_time ON changes (time);
