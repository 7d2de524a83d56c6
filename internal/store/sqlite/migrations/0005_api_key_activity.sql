-- Key activity (SPEC §2: activity.last_authn and activity.authn_count) moves
-- out of the 400-byte api_keys rows into a narrow table clustered by key id.
-- The flush of one second's activity updated one api_keys row per key used,
-- each on a random leaf page reached through the id index: with 1M keys
-- drawn at random that was a page read and a page written per exchange, the
-- largest cost left of a 1M-key exchange (docs/BENCHMARKS.md). Here 1M keys
-- fit in ≈ 17k pages and an upsert touches one of them. The old columns keep
-- what they held; a key's activity is their sum with this table's row.
CREATE TABLE api_key_activity (
	key_id     TEXT    NOT NULL PRIMARY KEY,
	authn_n    INTEGER NOT NULL,
	authn_last INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- A deleted key's activity goes with it, whichever statement deleted it.
CREATE TRIGGER api_keys_activity_gone AFTER DELETE ON api_keys BEGIN
	DELETE FROM api_key_activity WHERE key_id = old.id;
END;
