// Package iam is identity and access: the API-key format, identities (users and
// service IDs), the role ladder, policies, the authorization decision, and the
// services behind /v1/apikeys and the token exchange.
//
// Every rule about who may do what lives here, once, above storage. Handlers
// call a Service method with the authenticated Principal and render what it
// returns; they never decide access themselves. This package must never log or
// return a key value except in the one response that creates it.
package iam
