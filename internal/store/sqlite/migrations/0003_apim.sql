-- The API Manager: draft APIs and products, their publications to catalogs,
-- consumer orgs with their apps, credentials and subscriptions, and the
-- gateway's call events.
--
-- The conventions of 0001 hold: times in unix microseconds UTC, STRICT tables,
-- no foreign keys (the store deletes children itself so that it can log a
-- change for each). Durations are INTEGER microseconds too. Blobs are
-- nullable, as in signing_keys: a nil slice is stored as NULL, and an empty
-- blob reads back as nil. Every catalog record carries env_id (and most carry
-- account_id and org_id) so that the cascades of DeleteEnvironment and
-- DeleteOrg and the gateway's snapshot are set-wise indexed statements rather
-- than walks down the tree.

-- One table per draft kind, as the store contract has it: the kind is a
-- namespace, so an API and a product may share a name and version.
CREATE TABLE apis (
	id          TEXT    NOT NULL PRIMARY KEY,
	account_id  TEXT    NOT NULL,
	org_id      TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	version     TEXT    NOT NULL,
	title       TEXT    NOT NULL,
	source      BLOB,
	format      TEXT    NOT NULL,
	compiled    BLOB,
	rev         INTEGER NOT NULL,
	created_by  TEXT    NOT NULL,
	created_at  INTEGER NOT NULL,
	modified_at INTEGER NOT NULL,
	UNIQUE (org_id, name, version) -- also the listing order
) STRICT;

CREATE TABLE products (
	id          TEXT    NOT NULL PRIMARY KEY,
	account_id  TEXT    NOT NULL,
	org_id      TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	version     TEXT    NOT NULL,
	title       TEXT    NOT NULL,
	source      BLOB,
	format      TEXT    NOT NULL,
	compiled    BLOB,
	rev         INTEGER NOT NULL,
	created_by  TEXT    NOT NULL,
	created_at  INTEGER NOT NULL,
	modified_at INTEGER NOT NULL,
	UNIQUE (org_id, name, version)
) STRICT;

CREATE TABLE publications (
	id              TEXT    NOT NULL PRIMARY KEY,
	account_id      TEXT    NOT NULL,
	org_id          TEXT    NOT NULL,
	env_id          TEXT    NOT NULL,
	product_name    TEXT    NOT NULL,
	product_version TEXT    NOT NULL,
	state           TEXT    NOT NULL,
	snapshot        BLOB,
	rev             INTEGER NOT NULL,
	published_by    TEXT    NOT NULL,
	published_at    INTEGER NOT NULL,
	modified_at     INTEGER NOT NULL,
	UNIQUE (env_id, product_name, product_version)
) STRICT;

-- ListPublications by org, and the gateway's snapshot of an account.
CREATE INDEX publications_by_org     ON publications (org_id, product_name, product_version);
CREATE INDEX publications_by_account ON publications (account_id, state);

CREATE TABLE consumer_orgs (
	id         TEXT    NOT NULL PRIMARY KEY,
	account_id TEXT    NOT NULL,
	org_id     TEXT    NOT NULL,
	env_id     TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	title      TEXT    NOT NULL,
	created_by TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (env_id, name)
) STRICT;

CREATE TABLE apps (
	id              TEXT    NOT NULL PRIMARY KEY,
	account_id      TEXT    NOT NULL,
	org_id          TEXT    NOT NULL,
	env_id          TEXT    NOT NULL,
	consumer_org_id TEXT    NOT NULL,
	name            TEXT    NOT NULL,
	description     TEXT    NOT NULL,
	created_by      TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	UNIQUE (consumer_org_id, name)
) STRICT;

CREATE INDEX apps_by_env     ON apps (env_id, id);
CREATE INDEX apps_by_account ON apps (account_id, id);

-- No account_id: a credential belongs to its app, and the gateway's snapshot
-- reaches it through apps_by_account and credentials_by_app.
CREATE TABLE credentials (
	client_id     TEXT    NOT NULL PRIMARY KEY,
	app_id        TEXT    NOT NULL,
	env_id        TEXT    NOT NULL,
	secret_digest BLOB,
	secret_hint   TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	modified_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX credentials_by_app ON credentials (app_id, created_at, client_id);
CREATE INDEX credentials_by_env ON credentials (env_id);

CREATE TABLE subscriptions (
	id              TEXT    NOT NULL PRIMARY KEY,
	account_id      TEXT    NOT NULL,
	org_id          TEXT    NOT NULL,
	env_id          TEXT    NOT NULL,
	app_id          TEXT    NOT NULL,
	consumer_org_id TEXT    NOT NULL,
	product_name    TEXT    NOT NULL,
	product_version TEXT    NOT NULL,
	plan            TEXT    NOT NULL,
	approved        INTEGER NOT NULL,
	state           TEXT    NOT NULL,
	created_by      TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	approved_by     TEXT    NOT NULL,
	approved_at     INTEGER NOT NULL,
	UNIQUE (app_id, product_name, product_version)
) STRICT;

CREATE INDEX subscriptions_by_env     ON subscriptions (env_id, id);
CREATE INDEX subscriptions_by_app     ON subscriptions (app_id, id);
CREATE INDEX subscriptions_by_corg    ON subscriptions (consumer_org_id, id);
CREATE INDEX subscriptions_by_account ON subscriptions (account_id, id);

-- AUTOINCREMENT so that a Seq is never reused, even after DeleteEventsBefore
-- has emptied the table: readers page by AfterSeq.
CREATE TABLE events (
	seq                INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id         TEXT    NOT NULL,
	org_id             TEXT    NOT NULL,
	env_id             TEXT    NOT NULL,
	time               INTEGER NOT NULL,
	request_id         TEXT    NOT NULL,
	api                TEXT    NOT NULL,
	operation          TEXT    NOT NULL,
	status             INTEGER NOT NULL,
	latency_us         INTEGER NOT NULL,
	backend_latency_us INTEGER NOT NULL,
	bytes_in           INTEGER NOT NULL,
	bytes_out          INTEGER NOT NULL,
	client_id          TEXT    NOT NULL,
	app_id             TEXT    NOT NULL,
	consumer_org_id    TEXT    NOT NULL,
	product            TEXT    NOT NULL,
	plan               TEXT    NOT NULL,
	rate_limited       INTEGER NOT NULL
) STRICT;

-- A catalog's events in Seq order, a catalog's events in a time window, and
-- retention.
CREATE INDEX events_by_env      ON events (env_id, seq);
CREATE INDEX events_by_env_time ON events (env_id, time);
CREATE INDEX events_by_time     ON events (time);

-- The gateway's snapshot reads an account's environments.
CREATE INDEX environments_by_account ON environments (account_id, org_id, name);
