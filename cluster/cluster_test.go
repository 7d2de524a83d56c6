//go:build unix

package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"gatehouse/client"
	"gatehouse/internal/testenv"
)

// TestCluster runs three nodes started at the same moment on an empty
// database and checks, on those same nodes, that they bootstrap once and
// then behave as one server: keys, tokens, revocations, signing keys,
// publications and rate limits made on one node hold on the others within
// a second (SPEC §2.3, §8, §10). The subtests run in order and share the
// nodes; each makes its own keys, products and apps.
//
// It is not parallel: the delays it measures should be those of the
// cluster, not of the fault tests competing for the same two cores.
func TestCluster(t *testing.T) {
	c := newCluster(t, testenv.PostgresURL(t), testenv.RedisURL(t))
	nodes := c.startAll("a", "b", "c")
	a, b, cc := nodes[0], nodes[1], nodes[2]
	ctx := context.Background()

	t.Run("bootstrap-once", func(t *testing.T) {
		var writers []*node
		for _, n := range nodes {
			fi, err := os.Stat(bootstrapFile(n))
			if err != nil {
				if n.log.count("bootstrap") != 0 {
					t.Errorf("node %s logged a bootstrap but wrote no key file", n.name)
				}
				continue
			}
			writers = append(writers, n)
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("node %s: admin-apikey.json mode %v, want 0600", n.name, fi.Mode().Perm())
			}
			rec := n.log.find("bootstrap")
			if rec == nil || n.log.count("bootstrap") != 1 {
				t.Errorf("node %s wrote the key file but logged %d bootstrap records", n.name, n.log.count("bootstrap"))
			} else if rec["file"] != bootstrapFile(n) {
				t.Errorf("node %s's bootstrap record names %v, want %s", n.name, rec["file"], bootstrapFile(n))
			}
		}
		if len(writers) != 1 {
			t.Fatalf("%d nodes wrote admin-apikey.json, want exactly one", len(writers))
		}
		t.Logf("node %s bootstrapped", writers[0].name)
		created := 0
		for _, n := range nodes {
			created += n.log.count("signing key created")
		}
		if created != 1 {
			t.Errorf("%d signing keys created by three nodes starting at once, want 1", created)
		}

		kf := adminKey(t, nodes...)
		for _, n := range nodes {
			keys := listAll(t, as(n, token(t, n, kf.APIKey)))
			if len(keys) != 1 || keys[0].ID != kf.UUID || keys[0].Name != "admin" {
				t.Errorf("keys of the account listed on node %s: %+v; want only the admin key %s", n.name, keys, kf.UUID)
			}
		}
	})

	kf := adminKey(t, nodes...)
	adminA := as(a, token(t, a, kf.APIKey))
	adminB := as(b, token(t, b, kf.APIKey))

	t.Run("key-and-token-cross-nodes", func(t *testing.T) {
		k := mustCreateKey(t, adminA, "made-on-a")
		tb := token(t, b, k.APIKey) // made on A, exchanged on B
		for _, n := range nodes {
			mustMe(t, n, tb, k.ID)
		}
		ta := token(t, a, k.APIKey) // minted on A, used on B and C
		mustMe(t, b, ta, k.ID)
		mustMe(t, cc, ta, k.ID)
	})

	t.Run("disable-on-a-revokes-on-b-and-c", func(t *testing.T) {
		for i := range 5 {
			k := mustCreateKey(t, adminA, fmt.Sprintf("disable-%d", i))
			tok := token(t, a, k.APIKey)
			for _, n := range nodes {
				mustMe(t, n, tok, k.ID) // each node has seen the key and cached it
			}
			if err := adminA.DisableAPIKey(ctx, k.ID, true); err != nil {
				t.Fatalf("disable %s: %v", k.ID, err)
			}
			at := time.Now()
			if code, what := meStatus(ctx, a, tok); code != http.StatusUnauthorized {
				t.Errorf("node a answered the disable, then accepts its token: %s", what)
			}
			propagation(t, "revocation: disable on a", at, refusedOn(b, tok), refusedOn(cc, tok))
			if _, err := b.client().IAMToken(ctx, k.APIKey, client.TokenOptions{}); client.StatusOf(err) != http.StatusBadRequest {
				t.Errorf("a disabled key exchanges on node b: %v", err)
			}
		}
	})

	t.Run("delete-on-b-revokes-on-a-and-c", func(t *testing.T) {
		for i := range 5 {
			k := mustCreateKey(t, adminA, fmt.Sprintf("delete-%d", i))
			tok := token(t, a, k.APIKey)
			for _, n := range nodes {
				mustMe(t, n, tok, k.ID)
			}
			if err := adminB.DeleteAPIKey(ctx, k.ID); err != nil {
				t.Fatalf("delete %s on node b: %v", k.ID, err)
			}
			at := time.Now()
			if code, what := meStatus(ctx, b, tok); code != http.StatusUnauthorized {
				t.Errorf("node b answered the delete, then accepts its token: %s", what)
			}
			propagation(t, "revocation: delete on b", at, refusedOn(a, tok), refusedOn(cc, tok))
			if _, err := adminA.GetAPIKey(ctx, k.ID, false, false); client.StatusOf(err) != http.StatusNotFound {
				t.Errorf("a key deleted on node b is read on node a: %v", err)
			}
		}
	})

	t.Run("signing-key-rotation", func(t *testing.T) {
		k := mustCreateKey(t, adminA, "rotation")
		var kids []string // every kid tokens were signed with, oldest first
		var tokens []string
		first := token(t, a, k.APIKey)
		kids, tokens = append(kids, kidOf(t, first)), append(tokens, first)
		for round := range 3 {
			sk, err := adminA.RotateSigningKey(ctx, true)
			at := time.Now()
			if err != nil {
				t.Fatalf("rotate: %v", err)
			}
			if slices.Contains(kids, sk.KID) {
				t.Fatalf("round %d: rotation answered an old kid %s", round, sk.KID)
			}
			after := token(t, a, k.APIKey)
			if kid := kidOf(t, after); kid != sk.KID {
				t.Errorf("round %d: a token minted after an immediate rotation has kid %s, want %s", round, kid, sk.KID)
			}
			kids, tokens = append(kids, sk.KID), append(tokens, after)
			if have, err := jwksKIDs(ctx, a); err != nil || !containsAll(have, kids) {
				t.Errorf("node a answered the rotation; its JWKS lists %v (%v), want all of %v", have, err, kids)
			}
			listsAll := func(n *node) probe {
				return probe{node: n.name, holds: func(ctx context.Context) (bool, string) {
					have, err := jwksKIDs(ctx, n)
					if err != nil {
						return false, err.Error()
					}
					return containsAll(have, kids), fmt.Sprint(have)
				}}
			}
			propagation(t, "rotation: JWKS lists the new key", at, listsAll(b), listsAll(cc))
			verifies := func(n *node) probe {
				return probe{node: n.name, holds: func(ctx context.Context) (bool, string) {
					code, what := meStatus(ctx, n, after)
					return code == http.StatusOK, what
				}}
			}
			propagation(t, "rotation: new-key token verifies", at, verifies(b), verifies(cc))
		}
		// Tokens of every generation still verify everywhere.
		for i, tok := range tokens {
			for _, n := range nodes {
				if code, what := meStatus(ctx, n, tok); code != http.StatusOK {
					t.Errorf("token %d (kid %s) on node %s: %s", i, kids[i], n.name, what)
				}
			}
		}
	})

	be := newBackend(t)
	p := newProvider(t, adminA, "acme", be.URL)

	t.Run("publish-and-retire-on-a-route-on-b-and-c", func(t *testing.T) {
		product := p.product(t, "open", "1000000/1hour")
		app, id := p.app(t, "open-app")
		path := p.echoPath()
		for _, n := range nodes {
			if r, err := gwCall(ctx, n, path, id); err != nil || r.status != http.StatusNotFound {
				t.Fatalf("before publishing, node %s's gateway answers %v %v, want 404", n.name, r.status, err)
			}
		}
		routed := func(s int) bool { return s != http.StatusNotFound }
		for round := range 3 {
			at := p.publish(t, product)
			if r, err := gwCall(ctx, a, path, id); err != nil || r.status == http.StatusNotFound {
				t.Errorf("round %d: node a answered the publish, then its gateway answers %d %v", round, r.status, err)
			}
			propagation(t, "publish on a → routed", at, gwProbe(b, path, id, routed), gwProbe(cc, path, id, routed))
			if round == 0 {
				// Routed, but the app is not subscribed yet.
				if r, _ := gwCall(ctx, cc, path, id); r.status != http.StatusUnauthorized {
					t.Errorf("an app without a subscription: %d %s, want 401", r.status, r.body)
				}
				at := p.subscribe(t, app, product)
				propagation(t, "subscribe on a → 200", at, gwProbe(b, path, id, is(200)), gwProbe(cc, path, id, is(200)))
			}
			for _, n := range nodes {
				if r, err := gwCall(ctx, n, path, id); err != nil || r.status != http.StatusOK {
					t.Errorf("round %d: node %s's gateway answers %d %v, want 200", round, n.name, r.status, err)
				}
			}
			at = p.retire(t, product)
			if r, err := gwCall(ctx, a, path, id); err != nil || r.status != http.StatusNotFound {
				t.Errorf("round %d: node a answered the retirement, then its gateway answers %d %v", round, r.status, err)
			}
			propagation(t, "retire on a → 404", at, gwProbe(b, path, id, is(404)), gwProbe(cc, path, id, is(404)))
		}
		if be.hits.Load() == 0 {
			t.Error("the backend was never called")
		}
	})

	t.Run("one-rate-limit-across-gateways", func(t *testing.T) {
		// A week window, so that a window edge during the test (which
		// would reset the count) is practically impossible: windows are
		// epoch-aligned, and this one ends on Thursdays at 00:00 UTC.
		const limit = 30
		product := p.product(t, "metered", strconv.Itoa(limit)+"/1week")
		p.publish(t, product)
		app, id := p.app(t, "metered-app")
		p.subscribe(t, app, product)
		// The probe app is subscribed after the metered one, so once its
		// calls succeed on a node, that node's snapshot has the metered
		// subscription too; probing with the metered app would spend its limit.
		probeApp, probeID := p.app(t, "metered-probe")
		at := p.subscribe(t, probeApp, product)
		path := p.echoPath()
		propagation(t, "subscribe on a → 200", at, gwProbe(a, path, probeID, is(200)), gwProbe(b, path, probeID, is(200)), gwProbe(cc, path, probeID, is(200)))

		type result struct {
			node      string
			status    int
			remaining int
			limit     string
			retry     string
		}
		const calls = 2 * limit
		results := make([]result, calls)
		hitsBefore := be.hits.Load()
		jobs := make(chan int, calls)
		for i := range calls {
			jobs <- i
		}
		close(jobs)
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				for i := range jobs {
					n := nodes[i%len(nodes)] // round-robin over the gateways
					r, err := gwCall(ctx, n, path, id)
					if err != nil {
						t.Errorf("call %d on node %s: %v", i, n.name, err)
						continue
					}
					rem, ok := remaining(r.header)
					if !ok {
						rem = -1
					}
					results[i] = result{n.name, r.status, rem, r.header.Get("X-RateLimit-Limit"), r.header.Get("Retry-After")}
				}
			})
		}
		wg.Wait()

		var ok, limited int
		var seen []int
		perNode := map[string]int{}
		for i, r := range results {
			if r.limit != fmt.Sprintf("name=default,%d;", limit) {
				t.Errorf("call %d on node %s: X-RateLimit-Limit %q", i, r.node, r.limit)
			}
			switch r.status {
			case http.StatusOK:
				ok++
				perNode[r.node]++
				seen = append(seen, r.remaining)
			case http.StatusTooManyRequests:
				limited++
				if r.remaining != 0 {
					t.Errorf("call %d on node %s: 429 with X-RateLimit-Remaining %d, want 0", i, r.node, r.remaining)
				}
				if s, err := strconv.Atoi(r.retry); err != nil || s <= 0 {
					t.Errorf("call %d on node %s: 429 with Retry-After %q", i, r.node, r.retry)
				}
			default:
				t.Errorf("call %d on node %s: status %d", i, r.node, r.status)
			}
		}
		if ok != limit || limited != limit {
			t.Errorf("%d calls over 3 gateways: %d answered 200 and %d 429, want %d and %d", calls, ok, limited, limit, limit)
		}
		slices.Sort(seen)
		want := make([]int, limit)
		for i := range want {
			want[i] = i
		}
		if !slices.Equal(seen, want) {
			t.Errorf("X-RateLimit-Remaining of the successful calls: %v, want each of 0…%d once", seen, limit-1)
		}
		if got := be.hits.Load() - hitsBefore; got != limit {
			t.Errorf("the backend got %d calls, want %d", got, limit)
		}
		t.Logf("successful calls per gateway: %v", perNode)
	})
}

// containsAll reports whether have holds every one of want.
func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
