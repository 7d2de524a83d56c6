// Package console is the web console at /console/: server-rendered pages with
// embedded assets, over the same /v1 API (and so the same authorization and
// audit) as every other client.
package console

import (
	"net/http"
)

// Config holds the console's dependencies.
type Config struct {
	// API serves the management API and token service in-process; the console
	// calls it for everything it shows or changes.
	API http.Handler
	// Secure marks the session cookie Secure (the server runs TLS).
	Secure bool
}

// New returns the console handler, mounted at /console/.
func New(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("Gatehouse console\n"))
	})
}
