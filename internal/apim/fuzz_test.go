package apim_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"gatehouse/client"
	"gatehouse/internal/apim"
	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
	"gatehouse/internal/store/sqlite"
	"gatehouse/internal/token"
)

// FuzzPublish fuzzes a product document through the service, as a provider
// would use it: create the draft, then publish it to the sandbox catalog,
// against an org holding three APIs. Whatever the document:
//   - every refusal is a client error (4xx code), never an internal one, and
//     leaves the store as it was (the change log has not moved);
//   - a publication is whole: its snapshot holds every API the product names,
//     compiled, under the name:version it was asked for, and it reads back;
//   - the gateway's routing state still loads.
//
// Seeds: testdata/fuzz/FuzzPublish.
func FuzzPublish(f *testing.F) {
	f.Add([]byte(productYAML), true)
	f.Add([]byte(`{"product":"1.0.0","info":{"name":"pj","title":"PJ","version":"1.0.0"},"apis":{"s":{"name":"status:1.0.0"}},"plans":{"default":{"title":"D","approval":true,"rate-limits":{"a":{"value":"unlimited"},"b":{"value":"5/2seconds","hard-limit":false}}}}}`), false)
	f.Add([]byte("product: 1.0.0\ninfo: {name: two, version: 2.0.0}\napis: {w: {name: 'weather:1.0.0'}, p: {name: 'pet-store:2.1.0'}}\nplans: {default: {title: D}}\n"), true)
	f.Add([]byte("product: 1.0.0\ninfo: {name: nope, version: 1.0.0}\napis: {x: {name: 'missing:1.0.0'}}\nplans: {default: {title: D}}\n"), true)
	h := newPublishHarness(f)
	f.Fuzz(func(t *testing.T, doc []byte, yaml bool) {
		ctx := context.Background()
		format := "json"
		if yaml {
			format = "yaml"
		}
		before := h.lastChange(t)
		d, err := h.svc.CreateDraft(ctx, h.p, apim.KindProduct, "fz", doc, format)
		if err != nil {
			h.refused(t, "create", err, before)
			return
		}
		if d.Product == nil || d.Name == "" || d.Version == "" {
			t.Fatalf("created draft without a compiled product: %+v", d)
		}
		// Each draft is deleted again, so that the next inputs meet the same org.
		defer func() {
			if _, err := h.svc.DeleteDraft(ctx, h.p, apim.KindProduct, "fz", d.ID); err != nil && errs.From(err).Code != errs.Conflict {
				t.Fatalf("delete draft %s:%s: %v", d.Name, d.Version, err)
			}
		}()
		before = h.lastChange(t)
		pub, err := h.svc.Publish(ctx, h.p, "fz", "sb", d.Name+":"+d.Version)
		if err != nil {
			h.refused(t, "publish", err, before)
			return
		}
		if pub.ProductName != d.Name || pub.ProductVersion != d.Version || pub.State != apim.StatePublished {
			t.Fatalf("published %s:%s as %+v", d.Name, d.Version, pub.Publication)
		}
		if len(pub.Snap.APIs) != len(d.Product.APIs) {
			t.Fatalf("product names %d APIs, the publication holds %d", len(d.Product.APIs), len(pub.Snap.APIs))
		}
		for key, ref := range d.Product.APIs {
			a, ok := pub.Snap.APIs[key]
			if !ok || a.Name+":"+a.Version != ref || len(a.Operations) == 0 || a.TargetURL == "" {
				t.Fatalf("publication of %s:%s: API %q (%s) is %+v", d.Name, d.Version, key, ref, a)
			}
		}
		again, err := h.svc.Publication(ctx, h.p, "fz", "sb", pub.ID)
		if err != nil || again.ID != pub.ID || len(again.Snap.APIs) != len(pub.Snap.APIs) {
			t.Fatalf("the publication does not read back: %+v, %v", again.Publication, err)
		}
		if _, err := h.st.GatewayState(ctx, h.p.AccountID()); err != nil {
			t.Fatalf("gateway state after publishing %s:%s: %v", d.Name, d.Version, err)
		}
		// Retire it so that its base paths do not block the next inputs.
		if _, err := h.svc.SetState(ctx, h.p, "fz", "sb", pub.ID, apim.StateRetired); err != nil {
			t.Fatalf("retire %s:%s: %v", d.Name, d.Version, err)
		}
	})
}

type publishHarness struct {
	st  store.Store
	svc *apim.Service
	p   *iam.Principal
}

func newPublishHarness(f *testing.F) *publishHarness {
	f.Helper()
	ctx := context.Background()
	dir := f.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "gatehouse.db"), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	keyFile := filepath.Join(dir, "admin-apikey.json")
	if _, err := iam.Bootstrap(ctx, st, iam.BootstrapOptions{File: keyFile}); err != nil {
		f.Fatal(err)
	}
	sealer, err := token.NewSealer(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		f.Fatal(err)
	}
	const issuer = "http://gatehouse.fuzz"
	kr, err := token.NewKeyring(ctx, token.Config{Store: st, Sealer: sealer, Algorithm: token.EdDSA, Issuer: issuer})
	if err != nil {
		f.Fatal(err)
	}
	ids, err := iam.New(ctx, iam.Config{Store: st, Tokens: kr, Issuer: issuer, TokenTTL: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	kf, err := client.ReadKeyFile(keyFile)
	if err != nil {
		f.Fatal(err)
	}
	tok, err := ids.Exchange(ctx, iam.ExchangeRequest{APIKey: kf.APIKey})
	if err != nil {
		f.Fatal(err)
	}
	p, err := ids.Authenticate(ctx, tok.Token)
	if err != nil {
		f.Fatal(err)
	}
	svc := apim.New(apim.Config{Store: st, AccountID: ids.AccountID(), PoliciesChanged: ids.InvalidateAll, GatewayChanged: func(context.Context) {}})
	if _, err := svc.CreateOrg(ctx, p, "fz", "Fuzz"); err != nil {
		f.Fatal(err)
	}
	for _, doc := range []string{weatherAPI, petstoreAPI, statusAPI} {
		if _, err := svc.CreateDraft(ctx, p, apim.KindAPI, "fz", []byte(doc), "yaml"); err != nil {
			f.Fatalf("import fixture API: %v", err)
		}
	}
	return &publishHarness{st: st, svc: svc, p: p}
}

func (h *publishHarness) lastChange(t *testing.T) int64 {
	t.Helper()
	n, err := h.st.LastChange(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// refused checks a refusal: a client error that changed nothing.
func (h *publishHarness) refused(t *testing.T, what string, err error, before int64) {
	t.Helper()
	e := errs.From(err)
	if status := errs.Status(e.Code); status < 400 || status >= 500 || e.Message == "" {
		t.Fatalf("%s refused with %s (%d): %v", what, e.Code, status, errors.Join(err, e.Err))
	}
	if after := h.lastChange(t); after != before {
		t.Fatalf("%s refused (%v), yet the store changed (change log %d → %d)", what, err, before, after)
	}
}

const weatherAPI = `swagger: '2.0'
info: {x-ibm-name: weather, title: Weather, version: 1.0.0}
basePath: /weather
securityDefinitions:
  clientIdHeader: {type: apiKey, in: header, name: X-IBM-Client-Id}
security: [{clientIdHeader: []}]
x-ibm-configuration:
  properties: {target-url: {value: 'http://127.0.0.1:9000/v2'}}
paths:
  /current: {get: {responses: {'200': {description: ok}}}}
  /forecast: {get: {responses: {'200': {description: ok}}}}
`

const petstoreAPI = `openapi: 3.0.3
info: {title: Pet Store, version: 2.1.0}
servers: [{url: 'https://api.example.com/petstore'}]
components:
  securitySchemes: {clientId: {type: apiKey, in: query, name: client_id}}
security: [{clientId: []}]
x-ibm-configuration:
  properties: {target-url: {value: 'http://127.0.0.1:9001'}}
paths:
  /pets: {get: {responses: {'200': {description: ok}}}, post: {responses: {'201': {description: ok}}}}
`

const statusAPI = `openapi: 3.1.0
info: {title: Status, version: 1.0.0, x-ibm-name: status}
servers: [{url: /status}]
x-ibm-configuration: {properties: {target-url: {value: 'http://127.0.0.1:9003'}}}
paths: {/health: {get: {responses: {'200': {description: up}}}}}
`

const productYAML = `product: 1.0.0
info: {name: weather-product, title: Weather Product, version: 1.0.0}
apis:
  weather: {name: 'weather:1.0.0'}
  petstore: {name: 'pet-store:2.1.0'}
plans:
  default: {title: Default Plan, approval: false, rate-limit: {value: 100/1hour, hard-limit: true}}
  gold:
    title: Gold Plan
    approval: true
    rate-limits:
      per-second: {value: 50/1second, hard-limit: true}
      per-day: {value: 100000/1day, hard-limit: false}
  forecast-only:
    title: Forecast only
    rate-limit: {value: 1000/1day, hard-limit: true}
    apis:
      weather:
        operations:
          - {operation: get, path: /forecast, rate-limit: {value: 10/1minute, hard-limit: true}}
`
