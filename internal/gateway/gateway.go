// Package gateway is the data plane that serves providers' published APIs to
// their consumers' apps (SPEC §8). It never consults the platform's tokens.
package gateway

import (
	"net/http"
)

// NotYet answers every request as a gateway with nothing published does:
// 404 in the V5 error shape. Routing of published products replaces it.
func NotYet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"httpCode":"404","httpMessage":"Not Found","moreInformation":"No resources match requested URI"}` + "\n"))
	})
}
