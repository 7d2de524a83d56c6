// Package storetest is the conformance suite of the store contract: every
// backend's tests call RunTests with a constructor of fresh stores, so every
// backend is held to the same executable definition of internal/store.
//
// The suite checks behaviour that callers can observe through the Store
// interface only. It must never depend on a backend's internals, and it must
// stay deterministic: no sleeps, no reliance on wall-clock timing; concurrency
// tests use real goroutines and assert outcomes, not interleavings.
package storetest
