// Package sqlite is the embedded storage backend: a store.Store kept in one
// SQLite file through the pure-Go modernc.org/sqlite driver.
//
// It is what `gatehouse serve` uses unless --database names PostgreSQL, and it
// is tuned for that: WAL mode with synchronous=FULL so that a committed write
// survives kill -9 and power loss, a single writer connection whose
// transactions start with BEGIN IMMEDIATE (writers queue in-process instead of
// failing with "database is locked"), and a separate pool of read-only
// connections so that reads never wait for the writer.
//
// The Update, Rotate and Put closures, the Delete checks and AppendAudit's
// seal run while the writer connection is held: they must be quick and must
// not call the Store's mutating methods, which would deadlock waiting for that
// connection.
// Reads from inside a closure are fine but see the state before the closure's
// transaction.
//
// The package translates between Go records and rows and nothing else. It must
// never make a business or authorization decision (what a role allows, whether
// a locked key may change, who owns what): those live once in the service
// packages above the store, so every backend behaves the same. Whether it
// behaves as the contract says is checked by the shared suite in
// internal/store/storetest.
package sqlite
