package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse/internal/iam"
)

func TestAuthorizeKeepsTheReaderPromiseWhateverTheRule(t *testing.T) {
	// A rule that (wrongly) asks only Reader for a write must still refuse a Reader.
	lax := Rule{Role: iam.Reader, Scope: ScopeSelf}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if authorize(lax, m, iam.Reader) == nil {
			t.Errorf("%s allowed for a Reader", m)
		}
		if err := authorize(lax, m, iam.Writer); err != nil {
			t.Errorf("%s refused for a Writer: %v", m, err)
		}
	}
	if err := authorize(lax, http.MethodGet, iam.Reader); err != nil {
		t.Errorf("GET refused for a Reader: %v", err)
	}
}

func TestAuthorizeDeniesByDefault(t *testing.T) {
	for _, rule := range []Rule{{}, {Role: iam.NoRole, Scope: ScopeSelf}, {Role: iam.Administrator}} {
		if authorize(rule, http.MethodGet, iam.Administrator) == nil {
			t.Errorf("rule %+v allowed a GET", rule)
		}
	}
}

func TestRedactedURIHidesSecrets(t *testing.T) {
	u, _ := url.Parse("/apikey?apikey=gatehouse_SECRET&role=Reader&client_secret=s3&PASSWORD=p")
	got := redactedURI(u)
	for _, secret := range []string{"gatehouse_SECRET", "s3", "=p"} {
		if strings.Contains(got, secret) {
			t.Fatalf("redactedURI = %q still holds %q", got, secret)
		}
	}
	if !strings.Contains(got, "role=Reader") {
		t.Fatalf("redactedURI = %q lost a harmless parameter", got)
	}
}

// Any token is a valid HTTP method to net/http; the metrics label must not
// turn each into a new series.
func TestMethodLabelIsBounded(t *testing.T) {
	for _, m := range []string{"GET", "POST", "DELETE"} {
		if got := methodLabel(m); got != m {
			t.Errorf("methodLabel(%q) = %q", m, got)
		}
	}
	for _, m := range []string{"ZZ0", "get", "PROPFIND", strings.Repeat("X", 300)} {
		if got := methodLabel(m); got != "other" {
			t.Errorf("methodLabel(%q) = %q, want other", m, got)
		}
	}
}
