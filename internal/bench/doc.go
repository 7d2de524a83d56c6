// Package bench is `gatehouse bench`: it measures Gatehouse against minimal
// reference servers run in the same invocation on the same machine and
// reports the ratios that SPEC §12 sets as targets.
//
// Every server is a child process of the same binary (the references run as
// the hidden `gatehouse bench-ref KIND`), so each has its own runtime and its
// own resident memory, read from /proc. Stores are seeded through the store
// directly (store.Importer), never through the HTTP API. The load generator
// runs in the calling process and shares the machine's CPUs with the servers.
//
// The package measures and reports; it asserts nothing about speed. Its test
// runs the whole command with tiny sizes and checks only that the report is
// complete and sane.
package bench
