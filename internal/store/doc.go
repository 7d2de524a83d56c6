// Package store defines the records Gatehouse keeps and the Store interface every
// storage backend implements.
//
// The package holds data shapes and persistence contracts only. Business rules
// (who may do what, what a role allows, how a key is formatted) live in the
// service packages above it (iam, token, …) so that they are written once and
// every backend behaves the same. A backend must never make an authorization
// decision.
//
// Backends translate driver errors into the sentinel errors of this package
// (ErrNotFound, ErrAlreadyExists, ErrUnavailable) at their boundary, and run every
// Update* closure inside one transaction so that read-modify-write sequences are
// compare-and-swap safe across goroutines and, for shared databases, across nodes.
//
// Every mutation also appends a Change to the store's change log in the same
// transaction; nodes tail it to invalidate their caches (see Changes).
//
// The conformance suite in storetest is the executable form of this contract.
package store
