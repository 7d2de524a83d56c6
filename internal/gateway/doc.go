// Package gateway is the data plane that serves providers' published APIs to
// their consumers' apps (SPEC §8): it routes /{org}/{env}/{basePath}{path},
// identifies the app by client id (and secret), checks its subscription,
// enforces plan and operation rate limits, proxies to the backend, and emits
// one analytics event per call.
//
// Every request reads one immutable routing snapshot, swapped whole (an
// atomic pointer) when publications or consumers change; the hot path takes
// no lock and makes no store round trip. The gateway never consults the
// platform's tokens, and never forwards a client secret upstream.
package gateway
