-- Initial schema.
--
-- Conventions: times are INTEGER unix microseconds in UTC, 0 meaning unset;
-- digests and key material are BLOBs; API key history is a JSON array in TEXT.
-- Text ordering uses the default BINARY collation (byte order), which the
-- PostgreSQL backend matches with COLLATE "C". Tables are STRICT so a value of
-- the wrong type is an error rather than a silent conversion.
--
-- There are no foreign keys: an API key or policy belongs to a user or a
-- service ID (two tables), and cascades are done explicitly by the store so
-- that they also write their change-log entries.

CREATE TABLE accounts (
	id         TEXT    NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
	id            TEXT    NOT NULL PRIMARY KEY,
	iam_id        TEXT    NOT NULL UNIQUE,
	account_id    TEXT    NOT NULL,
	username      TEXT    NOT NULL,
	name          TEXT    NOT NULL,
	email         TEXT    NOT NULL,
	password_hash TEXT    NOT NULL,
	disabled      INTEGER NOT NULL,
	version       INTEGER NOT NULL,
	created_at    INTEGER NOT NULL,
	modified_at   INTEGER NOT NULL,
	UNIQUE (account_id, username)
) STRICT;

CREATE TABLE service_ids (
	id          TEXT    NOT NULL PRIMARY KEY,
	iam_id      TEXT    NOT NULL UNIQUE,
	account_id  TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	description TEXT    NOT NULL,
	locked      INTEGER NOT NULL,
	version     INTEGER NOT NULL,
	created_by  TEXT    NOT NULL,
	created_at  INTEGER NOT NULL,
	modified_at INTEGER NOT NULL
) STRICT;

CREATE INDEX service_ids_by_account ON service_ids (account_id, id);

CREATE TABLE policies (
	id         TEXT    NOT NULL PRIMARY KEY,
	account_id TEXT    NOT NULL,
	subject    TEXT    NOT NULL,
	role       TEXT    NOT NULL,
	org        TEXT    NOT NULL, -- '' for account-wide
	created_by TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (account_id, subject, org)
) STRICT;

-- The token service looks policies up by subject alone.
CREATE INDEX policies_by_subject ON policies (subject, id);

CREATE TABLE api_keys (
	id                 TEXT    NOT NULL PRIMARY KEY,
	account_id         TEXT    NOT NULL,
	iam_id             TEXT    NOT NULL,
	name               TEXT    NOT NULL,
	description        TEXT    NOT NULL,
	digest             BLOB    NOT NULL UNIQUE,
	hint               TEXT    NOT NULL,
	role               TEXT    NOT NULL,
	locked             INTEGER NOT NULL,
	disabled           INTEGER NOT NULL,
	expires_at         INTEGER NOT NULL,
	action_when_leaked TEXT    NOT NULL,
	created_by         TEXT    NOT NULL,
	created_at         INTEGER NOT NULL,
	modified_at        INTEGER NOT NULL,
	version            INTEGER NOT NULL,
	last_authn         INTEGER NOT NULL,
	authn_count        INTEGER NOT NULL,
	history            TEXT -- JSON array; NULL when empty
) STRICT;

-- One index per listing order, for the account scope and for one owner.
CREATE INDEX api_keys_by_account_created ON api_keys (account_id, created_at, id);
CREATE INDEX api_keys_by_account_name    ON api_keys (account_id, name, id);
CREATE INDEX api_keys_by_owner_created   ON api_keys (account_id, iam_id, created_at, id);
CREATE INDEX api_keys_by_owner_name      ON api_keys (account_id, iam_id, name, id);

CREATE TABLE signing_keys (
	id          TEXT    NOT NULL PRIMARY KEY,
	generation  INTEGER NOT NULL UNIQUE,
	algorithm   TEXT    NOT NULL,
	public_key  BLOB,
	private_key BLOB,
	created_at  INTEGER NOT NULL,
	activate_at INTEGER NOT NULL
) STRICT;

CREATE TABLE meta (
	name  TEXT NOT NULL PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

-- AUTOINCREMENT so that a Seq is never reused, even after PruneChanges has
-- emptied the table: tailers remember the last Seq they saw.
CREATE TABLE changes (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	kind TEXT    NOT NULL,
	key  TEXT    NOT NULL,
	time INTEGER NOT NULL
) STRICT;

CREATE INDEX changes_by_time ON changes (time);
