//go:build unix

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/client"
)

// TestKill9RandomPoints runs a stream of writes through the real HTTP API
// from several clients — API keys created and deleted, policies granted and
// revoked, APIs imported, products created and published — and kill -9s the
// server at a random point of it, three times. After each restart on the same
// data directory: every write answered 2xx is there (and every acknowledged
// delete is gone), nothing half-written is visible (a key has all its fields,
// a publication has all its APIs and the gateway routes them), every
// acknowledged write is in the audit log, and the audit chain verifies.
//
// The kill point is counted in operations, not time: after the Nth
// acknowledged write of the round, once k more operations have started.
// GATEHOUSE_CRASH_SEED replays a run (the seed is logged).
func TestKill9RandomPoints(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("GATEHOUSE_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("GATEHOUSE_CRASH_SEED: %v", err)
		}
	}
	t.Logf("seed %d (GATEHOUSE_CRASH_SEED=%d replays the kill points)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x6a7e))

	data := filepath.Join(t.TempDir(), "data")
	srv := startServe(t, data)
	procs := []*proc{srv}
	ctx := context.Background()
	admin := adminClient(t, srv, data)
	if _, err := admin.CreateOrg(ctx, crashOrg, "Crash"); err != nil {
		t.Fatalf("create org: %v", err)
	}
	l := newCrashLedger()

	const rounds, workers = 3, 3
	for round := range rounds {
		ackTarget := 10 + rng.IntN(30) // kill after this many acknowledged writes…
		extraOps := rng.IntN(6)        // …once this many more operations have started
		gate := &killGate{ackTarget: int64(ackTarget), extra: int64(extraOps), fire: make(chan struct{})}
		var wg sync.WaitGroup
		for w := range workers {
			wk := &crashWorker{
				t: t, c: admin, l: l, gate: gate, gw: "http://" + srv.GatewayAddr,
				rng:    rand.New(rand.NewPCG(seed, uint64(round*workers+w+1))),
				prefix: fmt.Sprintf("r%dw%d", round, w),
			}
			wg.Go(wk.run)
		}
		select {
		case <-gate.fire:
		case <-time.After(60 * time.Second):
			gate.killing.Store(true)
			srv.kill9()
			wg.Wait()
			t.Fatalf("round %d: the kill point (%d acknowledged writes) was not reached", round, ackTarget)
		}
		gate.killing.Store(true)
		srv.kill9()
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		acked, unanswered := l.counts()
		t.Logf("round %d: kill -9 once %d writes of the round were acknowledged and %d more had started; so far %d acknowledged, %d cut off",
			round, ackTarget, extraOps, acked, unanswered)

		srv = startServe(t, data)
		procs = append(procs, srv)
		admin = adminClient(t, srv, data)
		l.verify(t, admin, "http://"+srv.GatewayAddr)
		if t.Failed() {
			t.FailNow()
		}
	}
	srv.stop()
	checkIntegrity(t, data)
	noSecrets(t, procs, append(l.keyValues(), readKeyFile(t, data).APIKey)...)
}

const crashOrg = "crash"

// killGate decides the kill point: after ackTarget acknowledged writes, the
// extra-th operation to start fires it (kill -9 then hits that operation or
// the ones around it in flight).
type killGate struct {
	ackTarget, extra int64
	acked, started   atomic.Int64 // started counts from the ack target on
	armed            atomic.Bool
	killing          atomic.Bool
	once             sync.Once
	fire             chan struct{}
}

// starting is called before each operation.
func (g *killGate) starting() {
	if g.armed.Load() && g.started.Add(1) > g.extra {
		g.once.Do(func() { close(g.fire) })
	}
}

// ack is called after each acknowledged write.
func (g *killGate) ack() {
	if g.acked.Add(1) >= g.ackTarget && !g.armed.Swap(true) && g.extra == 0 {
		g.once.Do(func() { close(g.fire) })
	}
}

// crashLedger is what the clients were told, across rounds.
type crashLedger struct {
	mu       sync.Mutex
	keys     map[string]*crashObj // by id
	policies map[string]*crashObj // by id
	apis     map[string]*crashObj // by name:version
	products map[string]*crashObj // by name:version
	maybe    map[string]bool      // names of creations that got no answer
	audits   []auditWant
	values   []string // key values, for the secret check
	writes   int
	lost     int // writes in flight at a kill (no answer)
}

// crashObj is one acknowledged object.
type crashObj struct {
	id, name     string
	basePath     string   // APIs
	apis         []string // products: their APIs' name:version
	deleted      bool     // a delete was acknowledged
	maybeDeleted bool     // a delete got no answer
	published    bool     // products: a publish was acknowledged
	maybePub     bool     // products: a publish got no answer
}

type auditWant struct{ action, target, what string }

func newCrashLedger() *crashLedger {
	return &crashLedger{keys: map[string]*crashObj{}, policies: map[string]*crashObj{},
		apis: map[string]*crashObj{}, products: map[string]*crashObj{}, maybe: map[string]bool{}}
}

func (l *crashLedger) counts() (acked, unanswered int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.writes, l.lost
}

func (l *crashLedger) keyValues() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.values...)
}

// acked records an acknowledged write: update runs under the lock.
func (l *crashLedger) acked(action, target, what string, update func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	l.audits = append(l.audits, auditWant{action, target, what})
	if update != nil {
		update()
	}
}

func (l *crashLedger) unanswered(update func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lost++
	update()
}

// crashWorker is one client writing its own objects.
type crashWorker struct {
	t      *testing.T
	c      *client.Client
	l      *crashLedger
	gate   *killGate
	gw     string
	rng    *rand.Rand
	prefix string
	n      int

	subject  string      // this worker's service ID, the subject of its policies
	keys     []*crashObj // live
	policies []*crashObj // live
	freeAPIs []*crashObj // imported, in no product yet
	drafts   []*crashObj // products not published yet
}

func (w *crashWorker) name(kind string) string {
	w.n++
	return fmt.Sprintf("%s-%s%d", w.prefix, kind, w.n)
}

// run writes until the server dies. An error before the kill fails the test;
// after it, the operation in flight is recorded as unanswered.
func (w *crashWorker) run() {
	ctx := context.Background()
	for {
		w.gate.starting()
		var err error
		var unanswered func()
		switch op := w.rng.IntN(100); {
		case w.subject == "":
			name := w.name("sid")
			var sid *client.ServiceID
			if sid, err = w.c.CreateServiceID(ctx, client.CreateServiceID{Name: name}); err == nil {
				w.subject = sid.IAMID
				w.l.acked("serviceid.create", sid.ID, "service ID "+name, nil)
			}
		case op < 30:
			name := w.name("key")
			var k *client.APIKey
			if k, err = w.c.CreateAPIKey(ctx, client.CreateAPIKey{Name: name, Description: "crash"}); err == nil {
				o := &crashObj{id: k.ID, name: name}
				w.keys = append(w.keys, o)
				w.l.acked("apikey.create", k.ID, "key "+name, func() { w.l.keys[k.ID] = o; w.l.values = append(w.l.values, k.APIKey) })
			}
			unanswered = func() { w.l.maybe[name] = true }
		case op < 40 && len(w.keys) > 0:
			i := w.rng.IntN(len(w.keys))
			o := w.keys[i]
			if err = w.c.DeleteAPIKey(ctx, o.id); err == nil {
				w.keys = append(w.keys[:i], w.keys[i+1:]...)
				w.l.acked("apikey.delete", o.id, "delete key "+o.name, func() { o.deleted = true })
			}
			unanswered = func() { o.maybeDeleted = true }
		case op < 55:
			role := []string{"Reader", "Writer", "Manager"}[w.rng.IntN(3)]
			name := w.name("pol")
			var p *client.Policy
			if p, err = w.c.CreatePolicy(ctx, client.CreatePolicy{Subject: w.subject, Role: role, Org: crashOrg}); err == nil {
				o := &crashObj{id: p.ID, name: name}
				w.policies = append(w.policies, o)
				w.l.acked("policy.create", p.ID, "policy "+role+" for "+w.subject, func() { w.l.policies[p.ID] = o })
			} else if client.StatusOf(err) == http.StatusConflict {
				continue // this worker already holds that grant: nothing was written
			}
		case op < 65 && len(w.policies) > 0:
			i := w.rng.IntN(len(w.policies))
			o := w.policies[i]
			if err = w.c.DeletePolicy(ctx, o.id); err == nil {
				w.policies = append(w.policies[:i], w.policies[i+1:]...)
				w.l.acked("policy.delete", o.id, "delete policy "+o.id, func() { o.deleted = true })
			}
			unanswered = func() { o.maybeDeleted = true }
		case op < 80:
			name := w.name("api")
			ref := name + ":1.0.0"
			var d *client.Draft
			if d, err = w.c.ImportAPI(ctx, crashOrg, crashAPI(name), "application/json"); err == nil {
				o := &crashObj{id: d.ID, name: ref, basePath: "/" + name}
				w.freeAPIs = append(w.freeAPIs, o)
				w.l.acked("api.create", d.ID, "api "+ref, func() { w.l.apis[ref] = o })
			}
			unanswered = func() { w.l.maybe[ref] = true }
		case op < 90 && len(w.freeAPIs) > 0:
			n := min(len(w.freeAPIs), 1+w.rng.IntN(2))
			apis := w.freeAPIs[:n]
			name := w.name("prod")
			ref := name + ":1.0.0"
			var refs []string
			for _, a := range apis {
				refs = append(refs, a.name)
			}
			var d *client.Draft
			if d, err = w.c.CreateProduct(ctx, crashOrg, crashProduct(name, refs), "application/json"); err == nil {
				w.freeAPIs = w.freeAPIs[n:]
				o := &crashObj{id: d.ID, name: ref, apis: refs}
				w.drafts = append(w.drafts, o)
				w.l.acked("product.create", d.ID, "product "+ref, func() { w.l.products[ref] = o })
			}
			unanswered = func() { w.l.maybe[ref] = true }
		case len(w.drafts) > 0:
			o := w.drafts[0]
			var p *client.Publication
			if p, err = w.c.Publish(ctx, crashOrg, "sb", o.name); err == nil {
				w.drafts = w.drafts[1:]
				w.l.acked("product.publish", p.ID, "publish "+o.name, func() { o.published = true })
			}
			unanswered = func() { o.maybePub = true }
		default:
			continue // nothing to do for that draw; no request was made
		}
		if err == nil {
			w.gate.ack()
			continue
		}
		if w.gate.killing.Load() {
			if unanswered != nil {
				w.l.unanswered(unanswered)
			}
			return
		}
		w.t.Errorf("%s: a write failed before the kill: %v", w.prefix, err)
		w.gate.once.Do(func() { close(w.gate.fire) }) // end the round now
		return
	}
}

// crashAPI is an OpenAPI document with one operation that needs a client id.
func crashAPI(name string) []byte {
	return fmt.Appendf(nil, `{"openapi":"3.0.3",
 "info":{"title":"%[1]s","version":"1.0.0","x-ibm-name":"%[1]s"},
 "servers":[{"url":"/%[1]s"}],
 "components":{"securitySchemes":{"cid":{"type":"apiKey","in":"header","name":"X-IBM-Client-Id"}}},
 "security":[{"cid":[]}],
 "x-ibm-configuration":{"properties":{"target-url":{"value":"http://127.0.0.1:9"}}},
 "paths":{"/ping":{"get":{"responses":{"200":{"description":"pong"}}}}}}`, name)
}

func crashProduct(name string, apis []string) []byte {
	refs := ""
	for i, a := range apis {
		if i > 0 {
			refs += ","
		}
		refs += fmt.Sprintf(`"a%d":{"name":%q}`, i, a)
	}
	return fmt.Appendf(nil, `{"product":"1.0.0","info":{"name":%q,"title":"P","version":"1.0.0"},
 "apis":{%s},
 "plans":{"default":{"title":"Default","rate-limit":{"value":"100/1hour","hard-limit":true}}}}`, name, refs)
}

// verify checks the restarted server against the ledger.
func (l *crashLedger) verify(t *testing.T, c *client.Client, gw string) {
	t.Helper()
	ctx := context.Background()
	l.mu.Lock()
	defer l.mu.Unlock()

	// API keys: acknowledged ones whole, deleted ones gone, no stranger.
	listed := map[string]client.APIKey{}
	for _, k := range listAll(t, c) {
		listed[k.ID] = k
		if k.Name == "" || k.Hint == "" || k.IAMID == "" || k.AccountID == "" || k.EntityTag == "" || k.CreatedAt.IsZero() {
			t.Errorf("half-written key record: %+v", k)
		}
		if o := l.keys[k.ID]; o == nil && k.Name != "admin" && !l.maybe[k.Name] {
			t.Errorf("key %s (%q) was never created", k.ID, k.Name)
		}
	}
	for id, o := range l.keys {
		_, there := listed[id]
		_, err := c.GetAPIKey(ctx, id, false, false)
		switch {
		case o.deleted && (there || client.StatusOf(err) != http.StatusNotFound):
			t.Errorf("key %s (%s): deleted with a 2xx, back after kill -9 (listed %v, get %v)", o.name, id, there, err)
		case !o.deleted && !o.maybeDeleted && (!there || err != nil):
			t.Errorf("key %s (%s): created with a 201, lost after kill -9 (listed %v, get %v)", o.name, id, there, err)
		}
	}

	// Policies.
	for id, o := range l.policies {
		p, err := c.GetPolicy(ctx, id)
		switch {
		case o.deleted && client.StatusOf(err) != http.StatusNotFound:
			t.Errorf("policy %s: deleted with a 2xx, back after kill -9 (%v)", id, err)
		case !o.deleted && !o.maybeDeleted && err != nil:
			t.Errorf("policy %s: created with a 201, lost after kill -9: %v", id, err)
		case err == nil && (p.Subject == "" || p.Role == "" || p.Resource.Org == "" || p.CreatedAt.IsZero()):
			t.Errorf("half-written policy: %+v", p)
		}
	}

	// Drafts: every listed one was created (acknowledged or unanswered).
	apis, _, err := c.ListAPIs(ctx, crashOrg, client.PageOptions{Limit: 1000})
	if err != nil {
		t.Fatalf("list APIs: %v", err)
	}
	drafts := map[string]bool{}
	for _, d := range apis {
		drafts[d.Ref()] = true
		if o := l.apis[d.Ref()]; o == nil && !l.maybe[d.Ref()] {
			t.Errorf("API %s was never imported", d.Ref())
		}
	}
	for ref := range l.apis {
		if !drafts[ref] {
			t.Errorf("API %s: imported with a 201, lost after kill -9", ref)
		}
	}
	products, _, err := c.ListProducts(ctx, crashOrg, client.PageOptions{Limit: 1000})
	if err != nil {
		t.Fatalf("list products: %v", err)
	}
	prods := map[string]bool{}
	for _, d := range products {
		prods[d.Ref()] = true
		if o := l.products[d.Ref()]; o == nil && !l.maybe[d.Ref()] {
			t.Errorf("product %s was never created", d.Ref())
		}
	}
	for ref := range l.products {
		if !prods[ref] {
			t.Errorf("product %s: created with a 201, lost after kill -9", ref)
		}
	}

	// Publications: all or nothing, and routed by the gateway.
	pubs, err := c.ListPublications(ctx, crashOrg, "sb")
	if err != nil {
		t.Fatalf("list publications: %v", err)
	}
	published := map[string]client.Publication{}
	for _, p := range pubs {
		ref := p.Name + ":" + p.Version
		published[ref] = p
		o := l.products[ref]
		if o == nil || (!o.published && !o.maybePub) {
			t.Errorf("publication %s was never published", ref)
			continue
		}
		if p.State != "published" || len(p.Plans) == 0 || len(p.APIs) != len(o.apis) {
			t.Errorf("half-written publication %s: state %q, %d plans, %d APIs (want %d)", ref, p.State, len(p.Plans), len(p.APIs), len(o.apis))
		}
		for _, a := range p.APIs {
			if !drafts[a.Name+":"+a.Version] || a.BasePath == "" {
				t.Errorf("publication %s holds API %+v, which is not in the org", ref, a)
				continue
			}
			if code := gatewayStatus(t, gw+"/"+crashOrg+"/sb"+a.BasePath+"/ping"); code != http.StatusUnauthorized {
				t.Errorf("publication %s: the gateway answers %d for %s/ping, want 401 (routed, no client id)", ref, code, a.BasePath)
			}
		}
	}
	for ref, o := range l.products {
		if o.published {
			if _, ok := published[ref]; !ok {
				t.Errorf("product %s: published with a 201, not in the catalog after kill -9", ref)
			}
		}
	}

	// The audit log: every acknowledged write is in it, and the chain holds.
	seen := map[string]bool{}
	for _, action := range []string{"serviceid.create", "apikey.create", "apikey.delete", "policy.create", "policy.delete", "api.create", "product.create", "product.publish"} {
		q := client.AuditQuery{Action: action, Limit: 1000}
		for range 100 {
			page, err := c.ListAudit(ctx, q)
			if err != nil {
				t.Fatalf("audit %s: %v", action, err)
			}
			for _, e := range page.Entries {
				if e.Outcome == "success" {
					seen[e.Action+" "+e.Target] = true
				}
			}
			if q.After = page.NextAfter(); q.After == 0 {
				break
			}
		}
	}
	for _, a := range l.audits {
		if !seen[a.action+" "+a.target] {
			t.Errorf("acknowledged write %q (%s %s) is not in the audit log", a.what, a.action, a.target)
		}
	}
	v, err := c.VerifyAudit(ctx)
	if err != nil {
		t.Fatalf("audit verify: %v", err)
	}
	if !v.OK || v.Entries == 0 {
		t.Errorf("audit chain after kill -9: %+v", v)
	}
}

// gatewayStatus is the status of a GET on the gateway (no credentials).
func gatewayStatus(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Errorf("gateway %s: %v", url, err)
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
