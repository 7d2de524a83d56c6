// Package postgres is the cluster storage backend: a store.Store kept in one
// PostgreSQL database that several Gatehouse nodes share, through
// github.com/jackc/pgx/v5 and its pgxpool.
//
// It has the SQLite backend's semantics, decision for decision (the same
// cascades, the same change-log entries, the same orders, with text compared
// in byte order through COLLATE "C"), and passes the same conformance suite
// in internal/store/storetest. What a shared server adds is handled here:
//
//   - Update, Rotate and Put closures and Delete checks run inside the
//     transaction on a row read with SELECT … FOR UPDATE, so compare-and-swap
//     holds across nodes, not only across goroutines.
//   - A create that needs its parent (an environment its org, an app its
//     consumer org, …) locks the parent row FOR KEY SHARE, and cascading
//     deletes go parent first, so a delete on one node and a create under the
//     same parent on another cannot leave an orphan.
//   - The change log commits in Seq order: every transaction that appends
//     changes does so last, under a transaction-scoped advisory lock, and
//     sends a NOTIFY on gatehouse_changes with them (see appendChanges).
//     Changed (store.Notifier) LISTENs on a connection of its own.
//   - Bootstrap, AppendAudit and AppendEvents serialize across nodes with
//     advisory locks of their own; migrations run once, under a session-level
//     advisory lock, however many nodes start at once.
//   - Driver errors become the store's sentinels at the boundary: unique
//     violations ErrAlreadyExists, no rows ErrNotFound, and a server that
//     cannot be reached, is shutting down, or does not answer in time
//     ErrUnavailable.
//
// The closures and checks run while the transaction holds row locks: they
// must be quick and must not call the Store's mutating methods on the same
// record, which would wait for those locks forever.
//
// The package translates between Go records and rows and nothing else. It must
// never make a business or authorization decision (what a role allows, whether
// a locked key may change, who owns what): those live once in the service
// packages above the store, so every backend behaves the same.
package postgres
