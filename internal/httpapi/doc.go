// Package httpapi is the HTTP face of the management API (/v1), the token
// service (/apikey, /identity/token, JWKS, discovery) and the operational
// endpoints (/healthz, /readyz, /metrics).
//
// Handlers are thin: they decode and validate the request's shape, call one
// service method with the authenticated Principal, and render the result or
// the error. Every /v1 route is declared in the route table with the role it
// needs; a route cannot be mounted without one (deny by default). Handlers
// never decide access beyond that table — object-level rules live in the
// services — and never write a secret to a log.
package httpapi
