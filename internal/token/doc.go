// Package token issues and verifies Gatehouse's access tokens and owns the keys
// that sign them (SPEC §3.4, §3.5).
//
// It provides:
//   - the master key (LoadOrCreateMasterKey) and the Sealer that encrypts the
//     signing keys' private parts at rest with it (AES-256-GCM, the kid as
//     additional data, so a sealed key cannot be moved to another record);
//   - the Keyring: signing keys loaded from the store as an immutable snapshot
//     behind an atomic pointer, automatic rotation (Maintain), rotate-now
//     (Rotate), JWS compact signing (Sign) and verification in one fixed order
//     (Verify), and the precomputed JWKS;
//   - the OpenID discovery document (OpenIDConfiguration).
//
// What it must never do:
//   - accept a token whose alg is not exactly the algorithm of the published key
//     its kid names: never "none", never HMAC, never a key taken from the token
//     itself (jku, jwk, x5u, x5c are ignored);
//   - put a token, a private key or the master key in an error, a log line or a
//     JWKS;
//   - delete the key that signs, or a key whose tokens may still be live;
//   - lock on the hot path: Sign, Verify and JWKS read the current snapshot only.
//
// Revocation (SPEC §2.3) is not decided here: callers apply it after Verify.
// Creating keys is serialised across nodes by the store's unique generation
// (store.ErrAlreadyExists means another node won the race), so any number of
// nodes may run NewKeyring and Maintain at once.
package token
