package e2e_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"gatehouse/client"
)

// draftState is every draft API and product of an org, as listed.
func draftState(t *testing.T, c *client.Client, org string) string {
	t.Helper()
	apis, _, err := c.ListAPIs(t.Context(), org, client.PageOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	products, _, err := c.ListProducts(t.Context(), org, client.PageOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return jsonOf(apis) + "\n" + jsonOf(products)
}

// wantProblems checks a refused document: 400 validation_failed whose
// details locate the problems at exactly these JSON pointers.
func wantProblems(t *testing.T, err error, pointers ...string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want a 400 validation_failed error", err)
	}
	if e.StatusCode != http.StatusBadRequest || e.Code != "validation_failed" || !strings.Contains(e.Message, "nothing was stored") {
		t.Fatalf("got %d %s %q, want 400 validation_failed", e.StatusCode, e.Code, e.Message)
	}
	var got []string
	for _, d := range e.Details {
		if d.TargetType != "pointer" || d.Message == "" {
			t.Errorf("problem %+v: want a message located by a pointer", d)
		}
		got = append(got, d.Target)
	}
	if !slices.Equal(got, pointers) {
		t.Fatalf("problems at %q, want %q (%+v)", got, pointers, e.Details)
	}
}

// Invalid documents are refused with every problem located by a JSON pointer
// (SPEC §7), and nothing is stored.
func TestDocumentValidation(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	ctx := t.Context()
	before := draftState(t, p.admin, p.org)
	status := exampleDoc(t, "status-public-oas3.json")
	pets := exampleDoc(t, "petstore-oas3.yaml")
	product := func(apis, plans string) []byte {
		return fmt.Appendf(nil, "product: 1.0.0\ninfo: {name: bad, title: Bad, version: 1.0.0}\napis:\n%splans:\n%s", apis, plans)
	}
	okPlan := "  default: {title: D, rate-limit: {value: 10/1minute, hard-limit: true}}\n"
	cases := []struct {
		name     string
		product  bool
		doc      []byte
		ctype    string
		pointers []string
	}{
		{"fail/missing-info-version", false, bytes.Replace(status, []byte(`"version": "1.0.0", `), nil, 1), client.ContentTypeJSON,
			[]string{"/info/version"}},
		{"fail/unsupported-security-scheme", false, bytes.Replace(pets, []byte("clientId: {type: apiKey, in: query, name: client_id}"), []byte("clientId: {type: http, scheme: basic}"), 1), client.ContentTypeYAML,
			[]string{"/components/securitySchemes/clientId"}},
		{"fail/unsupported-oas2-security-scheme", false, exampleDoc(t, "weather-oas2.yaml", "clientSecretHeader: {type: apiKey, in: header, name: X-IBM-Client-Secret}", "clientSecretHeader: {type: basic}"), client.ContentTypeYAML,
			[]string{"/securityDefinitions/clientSecretHeader"}},
		{"fail/every-problem-at-once", false, bytes.Replace(bytes.Replace(pets, []byte("  version: 2.1.0\n"), nil, 1), []byte("clientId: {type: apiKey, in: query, name: client_id}"), []byte("clientId: {type: http, scheme: basic}"), 1), client.ContentTypeYAML,
			[]string{"/components/securitySchemes/clientId", "/info/version"}},
		{"fail/product-references-a-missing-api", true, product("  ghost: {name: 'ghost:1.0.0'}\n", okPlan), client.ContentTypeYAML,
			[]string{"/apis/ghost/name"}},
		{"fail/bad-rate-limit-value", true, product("  weather: {name: 'weather:1.0.0'}\n", "  default: {title: D, rate-limit: {value: lots/hour, hard-limit: true}}\n"), client.ContentTypeYAML,
			[]string{"/plans/default/rate-limit/value"}},
		{"fail/bad-named-rate-limit-value", true, product("  weather: {name: 'weather:1.0.0'}\n", "  gold:\n    rate-limits:\n      burst: {value: 0/0second}\n"), client.ContentTypeYAML,
			[]string{"/plans/gold/rate-limits/burst/value"}},
		{"fail/plan-operation-the-api-lacks", true, product("  weather: {name: 'weather:1.0.0'}\n", "  default:\n    apis:\n      weather:\n        operations: [{operation: delete, path: /current}]\n"), client.ContentTypeYAML,
			[]string{"/plans/default/apis/weather/operations/0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.product {
				_, err = p.admin.CreateProduct(ctx, p.org, tc.doc, tc.ctype)
			} else {
				_, err = p.admin.ImportAPI(ctx, p.org, tc.doc, tc.ctype)
			}
			wantProblems(t, err, tc.pointers...)
			if after := draftState(t, p.admin, p.org); after != before {
				t.Errorf("a refused document changed the drafts:\nbefore %s\nafter  %s", before, after)
			}
		})
	}

	t.Run("fail/replace-with-an-invalid-document-keeps-the-draft", func(t *testing.T) {
		doc, err := p.admin.GetAPI(ctx, p.org, "status:1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.admin.ReplaceAPI(ctx, p.org, "status:1.0.0", doc.EntityTag, bytes.Replace(status, []byte(`"version": "1.0.0", `), nil, 1), client.ContentTypeJSON)
		wantProblems(t, err, "/info/version")
		if now, err := p.admin.GetAPI(ctx, p.org, "status:1.0.0"); err != nil || !bytes.Equal(now.Body, doc.Body) || now.EntityTag != doc.EntityTag {
			t.Errorf("the draft changed: %v", err)
		}
	})

	t.Run("fail/error-body-shape", func(t *testing.T) {
		r := p.s.do(t, req{method: "POST", path: "/v1/orgs/" + p.org + "/apis", token: mustToken(t, p.s, p.s.admin.APIKey, client.TokenOptions{}),
			ctype: client.ContentTypeJSON, body: string(bytes.Replace(status, []byte(`"version": "1.0.0", `), nil, 1))})
		var e apiError
		r.decode(t, &e)
		if r.status != 400 || e.StatusCode != 400 || len(e.Errors) != 2 || e.Trace != r.header.Get("X-Request-Id") ||
			e.Errors[1].Target == nil || e.Errors[1].Target.Name != "/info/version" || e.Errors[1].Target.Type != "pointer" {
			t.Errorf("%d %s", r.status, r.body)
		}
	})

	t.Run("fail/not-openapi", func(t *testing.T) {
		for _, doc := range []string{"{", "openapi: [", "just: a map\n", "- a\n- list\n"} {
			_, err := p.admin.ImportAPI(ctx, p.org, []byte(doc), client.ContentTypeYAML)
			if client.StatusOf(err) != http.StatusBadRequest {
				t.Errorf("import %q: %v, want 400", doc, err)
			}
		}
		if after := draftState(t, p.admin, p.org); after != before {
			t.Errorf("a refused document changed the drafts")
		}
	})
}

// Documents are JSON or YAML by Content-Type, at most 5 MiB (SPEC §4).
func TestDocumentFormats(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	ctx := t.Context()
	org := uniq("formats")
	mustOrg(t, admin, org)
	token := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	post := func(ctype string, body []byte) reply {
		return s.do(t, req{method: "POST", path: "/v1/orgs/" + org + "/apis", token: token, ctype: ctype, body: string(body)})
	}

	t.Run("ok/yaml-and-json", func(t *testing.T) {
		for i, tc := range []struct {
			ctype, wantCtype string
			doc              []byte
		}{
			{"application/yaml", "application/yaml", publicAPIDoc("yaml1", "/yaml1", "http://127.0.0.1:1", 0)},
			{"application/x-yaml", "application/yaml", publicAPIDoc("yaml2", "/yaml2", "http://127.0.0.1:1", 0)},
			{"text/yaml; charset=utf-8", "application/yaml", publicAPIDoc("yaml3", "/yaml3", "http://127.0.0.1:1", 0)},
			{"application/json", "application/json", exampleDoc(t, "status-public-oas3.json")},
			{"application/json; charset=utf-8", "application/json", exampleDoc(t, "status-public-oas3.json", `"status"`, `"status-utf8"`, "/status", "/status-utf8")},
		} {
			r := post(tc.ctype, tc.doc)
			if r.status != http.StatusCreated {
				t.Fatalf("case %d (%s): %d %s", i, tc.ctype, r.status, r.body)
			}
			var d client.Draft
			r.decode(t, &d)
			if r.header.Get("ETag") == "" || r.header.Get("Location") != d.URL {
				t.Errorf("%s: ETag %q, Location %q, url %q", tc.ctype, r.header.Get("ETag"), r.header.Get("Location"), d.URL)
			}
			got, err := admin.GetAPI(ctx, org, d.Ref())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Body, tc.doc) || !strings.HasPrefix(got.ContentType, tc.wantCtype) {
				t.Errorf("%s: GET returns %s, not the document as submitted", tc.ctype, got.ContentType)
			}
		}
		// A product in JSON.
		if _, err := admin.CreateProduct(ctx, org, []byte(`{"product":"1.0.0","info":{"name":"p","title":"P","version":"1.0.0"},"apis":{"s":{"name":"status:1.0.0"}}}`), client.ContentTypeJSON); err != nil {
			t.Errorf("JSON product: %v", err)
		}
	})

	before := draftState(t, admin, org)
	t.Run("fail/unsupported-media-type", func(t *testing.T) {
		for _, ctype := range []string{"text/plain", "", "application/x-www-form-urlencoded", "application/xml"} {
			wantAPIError(t, post(ctype, publicAPIDoc("plain", "/plain", "http://127.0.0.1:1", 0)), http.StatusUnsupportedMediaType, "unsupported_media_type")
		}
		r := s.do(t, req{method: "POST", path: "/v1/orgs/" + org + "/products", token: token, ctype: "text/plain", body: "product: 1.0.0"})
		wantAPIError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type")
	})

	t.Run("fail/larger-than-5MiB", func(t *testing.T) {
		doc := publicAPIDoc("huge", "/huge", "http://127.0.0.1:1", 0)
		pad := 5<<20 - len(doc) + 1 // one byte over
		big := append(bytes.Clone(doc), ("#" + strings.Repeat("x", pad-2) + "\n")...)
		if len(big) != 5<<20+1 {
			t.Fatalf("document of %d bytes", len(big))
		}
		wantAPIError(t, post("application/yaml", big), http.StatusRequestEntityTooLarge, "payload_too_large")
		huge := append(bytes.Clone(doc), ("#" + strings.Repeat("x", 6<<20) + "\n")...)
		wantAPIError(t, post("application/yaml", huge), http.StatusRequestEntityTooLarge, "payload_too_large")
	})
	if after := draftState(t, admin, org); after != before {
		t.Errorf("refused documents changed the drafts:\nbefore %s\nafter  %s", before, after)
	}
}
