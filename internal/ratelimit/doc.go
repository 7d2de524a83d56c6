// Package ratelimit parses the rate-limit grammar of products (SPEC §7) and
// counts gateway calls against those limits (SPEC §8).
//
// Limits use fixed windows aligned to the Unix epoch: a window of length w
// starts at every multiple of w since 1970-01-01T00:00:00Z, so every node of a
// cluster, and Redis, agree on where windows begin and end without talking to
// each other. (Hence day windows start at midnight UTC, week windows on
// Thursdays at midnight UTC, and "month" windows every 30 days.)
//
// Limiter is the contract; Memory implements it for one node. Every
// implementation must pass the shared suite in ratelimittest. The package
// decides nothing about who is limited or what happens to a refused call:
// the gateway picks the key (subscription and named limit), and decides
// between 429 and letting a soft-limited call through.
package ratelimit
