package e2e_test

import (
	"net/http"
	"strings"
	"testing"

	"gatehouse/client"
)

// Bad requests get a clear 4xx in the management API's error shape and leave
// the store unchanged (SPEC §4, §12).
func TestManagementAPIErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "target"})
	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	const js = "application/json"
	post := func(path, ctype, body string) req {
		return req{method: "POST", path: path, token: tok, ctype: ctype, body: body}
	}
	put := func(body string) req {
		return req{method: "PUT", path: "/v1/apikeys/" + k.ID, token: tok, ctype: js, body: body, header: map[string]string{"If-Match": "*"}}
	}
	huge := `{"name":"` + strings.Repeat("a", 1<<20) + `"}`

	cases := []struct {
		name   string
		r      req
		status int
		code   string
		target string
		allow  string // a method the Allow header must list
	}{
		{name: "fail/malformed-json-truncated", r: post("/v1/apikeys", js, `{"name":`), status: 400, code: "bad_request"},
		{name: "fail/malformed-json-syntax", r: post("/v1/apikeys", js, `{"name" "x"}`), status: 400, code: "bad_request"},
		{name: "fail/not-json-at-all", r: post("/v1/apikeys", js, `name=x`), status: 400, code: "bad_request"},
		{name: "fail/array-instead-of-object", r: post("/v1/apikeys", js, `[{"name":"x"}]`), status: 400, code: "bad_request"},
		{name: "fail/empty-body", r: post("/v1/apikeys", js, ""), status: 400, code: "bad_request"},
		{name: "fail/trailing-garbage", r: post("/v1/apikeys", js, `{"name":"x"} trailing`), status: 400, code: "bad_request"},
		{name: "fail/two-objects", r: post("/v1/apikeys", js, `{"name":"x"}{"name":"y"}`), status: 400, code: "bad_request"},
		{name: "fail/unknown-field", r: post("/v1/apikeys", js, `{"name":"x","colour":"red"}`), status: 400, code: "validation_failed", target: "colour"},
		{name: "fail/wrong-type-name", r: post("/v1/apikeys", js, `{"name":5}`), status: 400, code: "validation_failed", target: "name"},
		{name: "fail/wrong-type-role", r: post("/v1/apikeys", js, `{"name":"x","role":true}`), status: 400, code: "validation_failed", target: "role"},
		{name: "fail/wrong-type-expires-at", r: post("/v1/apikeys", js, `{"name":"x","expires_at":5}`), status: 400, code: "validation_failed", target: "expires_at"},
		{name: "fail/body-over-1MiB", r: post("/v1/apikeys", js, huge), status: 413, code: "payload_too_large"},
		{name: "fail/text-plain", r: post("/v1/apikeys", "text/plain", `{"name":"x"}`), status: 415, code: "unsupported_media_type"},
		{name: "fail/form-encoded", r: post("/v1/apikeys", "application/x-www-form-urlencoded", `name=x`), status: 415, code: "unsupported_media_type"},
		{name: "fail/no-content-type", r: post("/v1/apikeys", "", `{"name":"x"}`), status: 415, code: "unsupported_media_type"},
		{name: "fail/put-unknown-field", r: put(`{"locked":true}`), status: 400, code: "validation_failed", target: "locked"},
		{name: "fail/put-wrong-type", r: put(`{"description":["a"]}`), status: 400, code: "validation_failed", target: "description"},
		{name: "fail/put-trailing-garbage", r: put(`{"name":"y"},`), status: 400, code: "bad_request"},
		{name: "fail/rotate-unknown-field", r: post("/v1/apikeys/"+k.ID+"/rotate", js, `{"grace":"1h","force":true}`), status: 400, code: "validation_failed", target: "force"},
		{name: "fail/rotate-wrong-type", r: post("/v1/apikeys/"+k.ID+"/rotate", js, `{"grace":3600}`), status: 400, code: "validation_failed", target: "grace"},
		{name: "fail/leaked-wrong-type", r: post("/v1/apikeys/leaked", js, `{"apikeys":"x"}`), status: 400, code: "validation_failed", target: "apikeys"},
		{name: "fail/bad-boolean-query", r: req{method: "GET", path: "/v1/apikeys/" + k.ID + "?include_history=maybe", token: tok}, status: 400, code: "validation_failed", target: "include_history"},
		{name: "fail/unknown-key-id", r: req{method: "GET", path: "/v1/apikeys/ApiKey-nope", token: tok}, status: 404, code: "not_found"},
		{name: "fail/unknown-v1-path", r: req{method: "GET", path: "/v1/nothing/here", token: tok}, status: 404, code: "not_found"},
		{name: "fail/unknown-v1-path-without-token", r: req{method: "GET", path: "/v1/nothing/here"}, status: 401, code: "invalid_token"},
		{name: "fail/wrong-method-on-item", r: req{method: "PATCH", path: "/v1/apikeys/" + k.ID, token: tok}, status: 405, code: "method_not_allowed", allow: "PUT"},
		{name: "fail/wrong-method-on-collection", r: req{method: "PUT", path: "/v1/apikeys", token: tok, ctype: js, body: `{}`}, status: 405, code: "method_not_allowed", allow: "POST"},
		{name: "fail/wrong-method-without-token", r: req{method: "PATCH", path: "/v1/apikeys/" + k.ID}, status: 401, code: "invalid_token"},
	}
	snapshot := func() []client.APIKey {
		return listAll(t, admin, client.ListAPIKeysOptions{Scope: "account", IncludeHistory: true})
	}
	traces := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot()
			r := s.do(t, tc.r)
			target := wantAPIError(t, r, tc.status, tc.code)
			if target != tc.target {
				t.Errorf("target %q, want %q", target, tc.target)
			}
			if tc.allow != "" && !strings.Contains(r.header.Get("Allow"), tc.allow) {
				t.Errorf("Allow %q, want it to list %s", r.header.Get("Allow"), tc.allow)
			}
			if tc.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
			rid := r.header.Get("X-Request-Id")
			if traces[rid] {
				t.Errorf("request id %s reused", rid)
			}
			traces[rid] = true
			if after := snapshot(); !keysEqual(before, after) {
				t.Errorf("the bad request changed the store")
			}
		})
	}
	// The server is still well after all that.
	if r := s.do(t, req{method: "GET", path: "/readyz"}); r.status != http.StatusOK {
		t.Errorf("readyz %d", r.status)
	}
}
