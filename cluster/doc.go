// Package cluster holds the tests of cluster mode (SPEC §10, docs/cluster.md):
// several real `gatehouse serve` processes on one PostgreSQL database and one
// Redis, driven over HTTP through the public client package, with faults
// injected by stopping the servers they share or killing a node.
//
// It has no code of its own; the tests build the gatehouse binary once and
// start it as child processes on loopback ports. They need the servers that
// scripts/services.sh starts (see internal/testenv).
package cluster
