-- The API Manager: draft APIs and products, their publications to catalogs,
-- consumer orgs with their apps, credentials and subscriptions, and the
-- gateway's call events.
--
-- The conventions of 0001 hold: times in unix microseconds UTC, text in byte
-- order, no foreign keys (the store deletes children itself so that it can
-- log a change for each). Durations are bigint microseconds too. Blobs are
-- nullable, as in signing_keys: the store writes an empty slice as NULL, so
-- an empty blob reads back as nil. Every catalog record carries env_id (and
-- most carry account_id and org_id) so that the cascades of
-- DeleteEnvironment and DeleteOrg and the gateway's snapshot are set-wise
-- indexed statements rather than walks down the tree.

-- One table per draft kind, as the store contract has it: the kind is a
-- namespace, so an API and a product may share a name and version.
CREATE TABLE apis (
	id          text COLLATE "C" NOT NULL PRIMARY KEY,
	account_id  text COLLATE "C" NOT NULL,
	org_id      text COLLATE "C" NOT NULL,
	name        text COLLATE "C" NOT NULL,
	version     text COLLATE "C" NOT NULL,
	title       text COLLATE "C" NOT NULL,
	source      bytea,
	format      text COLLATE "C" NOT NULL,
	compiled    bytea,
	rev         bigint           NOT NULL,
	created_by  text COLLATE "C" NOT NULL,
	created_at  bigint           NOT NULL,
	modified_at bigint           NOT NULL,
	UNIQUE (org_id, name, version) -- also the listing order
);

CREATE TABLE products (
	id          text COLLATE "C" NOT NULL PRIMARY KEY,
	account_id  text COLLATE "C" NOT NULL,
	org_id      text COLLATE "C" NOT NULL,
	name        text COLLATE "C" NOT NULL,
	version     text COLLATE "C" NOT NULL,
	title       text COLLATE "C" NOT NULL,
	source      bytea,
	format      text COLLATE "C" NOT NULL,
	compiled    bytea,
	rev         bigint           NOT NULL,
	created_by  text COLLATE "C" NOT NULL,
	created_at  bigint           NOT NULL,
	modified_at bigint           NOT NULL,
	UNIQUE (org_id, name, version)
);

CREATE TABLE publications (
	id              text COLLATE "C" NOT NULL PRIMARY KEY,
	account_id      text COLLATE "C" NOT NULL,
	org_id          text COLLATE "C" NOT NULL,
	env_id          text COLLATE "C" NOT NULL,
	product_name    text COLLATE "C" NOT NULL,
	product_version text COLLATE "C" NOT NULL,
	state           text COLLATE "C" NOT NULL,
	snapshot        bytea,
	rev             bigint           NOT NULL,
	published_by    text COLLATE "C" NOT NULL,
	published_at    bigint           NOT NULL,
	modified_at     bigint           NOT NULL,
	UNIQUE (env_id, product_name, product_version)
);

-- ListPublications by org, and the gateway's snapshot of an account.
CREATE INDEX publications_by_org     ON publications (org_id, product_name, product_version);
CREATE INDEX publications_by_account ON publications (account_id, state);

CREATE TABLE consumer_orgs (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	account_id text COLLATE "C" NOT NULL,
	org_id     text COLLATE "C" NOT NULL,
	env_id     text COLLATE "C" NOT NULL,
	name       text COLLATE "C" NOT NULL,
	title      text COLLATE "C" NOT NULL,
	created_by text COLLATE "C" NOT NULL,
	created_at bigint           NOT NULL,
	UNIQUE (env_id, name)
);

CREATE TABLE apps (
	id              text COLLATE "C" NOT NULL PRIMARY KEY,
	account_id      text COLLATE "C" NOT NULL,
	org_id          text COLLATE "C" NOT NULL,
	env_id          text COLLATE "C" NOT NULL,
	consumer_org_id text COLLATE "C" NOT NULL,
	name            text COLLATE "C" NOT NULL,
	description     text COLLATE "C" NOT NULL,
	created_by      text COLLATE "C" NOT NULL,
	created_at      bigint           NOT NULL,
	UNIQUE (consumer_org_id, name)
);

CREATE INDEX apps_by_env     ON apps (env_id, id);
CREATE INDEX apps_by_account ON apps (account_id, id);

-- No account_id: a credential belongs to its app, and the gateway's snapshot
-- reaches it through apps_by_account and credentials_by_app.
CREATE TABLE credentials (
	client_id     text COLLATE "C" NOT NULL PRIMARY KEY,
	app_id        text COLLATE "C" NOT NULL,
	env_id        text COLLATE "C" NOT NULL,
	secret_digest bytea,
	secret_hint   text COLLATE "C" NOT NULL,
	created_at    bigint           NOT NULL,
	modified_at   bigint           NOT NULL
);

CREATE INDEX credentials_by_app ON credentials (app_id, created_at, client_id);
CREATE INDEX credentials_by_env ON credentials (env_id);

CREATE TABLE subscriptions (
	id              text COLLATE "C" NOT NULL PRIMARY KEY,
	account_id      text COLLATE "C" NOT NULL,
	org_id          text COLLATE "C" NOT NULL,
	env_id          text COLLATE "C" NOT NULL,
	app_id          text COLLATE "C" NOT NULL,
	consumer_org_id text COLLATE "C" NOT NULL,
	product_name    text COLLATE "C" NOT NULL,
	product_version text COLLATE "C" NOT NULL,
	plan            text COLLATE "C" NOT NULL,
	approved        boolean          NOT NULL,
	state           text COLLATE "C" NOT NULL,
	created_by      text COLLATE "C" NOT NULL,
	created_at      bigint           NOT NULL,
	approved_by     text COLLATE "C" NOT NULL,
	approved_at     bigint           NOT NULL,
	UNIQUE (app_id, product_name, product_version)
);

CREATE INDEX subscriptions_by_env     ON subscriptions (env_id, id);
CREATE INDEX subscriptions_by_app     ON subscriptions (app_id, id);
CREATE INDEX subscriptions_by_corg    ON subscriptions (consumer_org_id, id);
CREATE INDEX subscriptions_by_account ON subscriptions (account_id, id);

-- An identity column so that a Seq is never reused, even after
-- DeleteEventsBefore has emptied the table: readers page by AfterSeq. As for
-- changes, appends take an advisory lock around their inserts so that Seq
-- order is commit order and a reader paging by AfterSeq never steps over an
-- event that commits later with a smaller Seq.
CREATE TABLE events (
	seq                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id         text COLLATE "C" NOT NULL,
	org_id             text COLLATE "C" NOT NULL,
	env_id             text COLLATE "C" NOT NULL,
	time               bigint           NOT NULL,
	request_id         text COLLATE "C" NOT NULL,
	api                text COLLATE "C" NOT NULL,
	operation          text COLLATE "C" NOT NULL,
	status             integer          NOT NULL,
	latency_us         bigint           NOT NULL,
	backend_latency_us bigint           NOT NULL,
	bytes_in           bigint           NOT NULL,
	bytes_out          bigint           NOT NULL,
	client_id          text COLLATE "C" NOT NULL,
	app_id             text COLLATE "C" NOT NULL,
	consumer_org_id    text COLLATE "C" NOT NULL,
	product            text COLLATE "C" NOT NULL,
	plan               text COLLATE "C" NOT NULL,
	rate_limited       boolean          NOT NULL
);

-- A catalog's events in Seq order, a catalog's events in a time window, and
-- retention.
CREATE INDEX events_by_env      ON events (env_id, seq);
CREATE INDEX events_by_env_time ON events (env_id, time);
CREATE INDEX events_by_time     ON events (time);

-- The gateway's snapshot reads an account's environments.
CREATE INDEX environments_by_account ON environments (account_id, org_id, name);
