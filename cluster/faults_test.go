//go:build unix

package cluster_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/client"
	"gatehouse/internal/testenv"
)

// maxAnswer is the longest any request may take while a server the nodes
// depend on is down: the nodes bound store connections to 3 s and requests
// to 30 s, so an answer later than this is a hang.
const maxAnswer = 10 * time.Second

// minOutage is how long TestPostgresOutage keeps PostgreSQL down.
const minOutage = 3 * time.Second

// --- PostgreSQL outage ----------------------------------------------------------

// Phases of an outage, as seen by the traffic.
const (
	phaseBefore     int32 = iota // the server is up
	phaseDown                    // stopped
	phaseRecovering              // started again, the nodes not yet seen ready
	phaseAfter                   // the nodes are ready and take writes
)

var phaseNames = [...]string{"before", "down", "recovering", "after"}

// call is one request of the background traffic.
type call struct {
	what         string // exchange, me, gateway-a, gateway-b
	phase, endAt int32  // the phase when it was sent and when it was answered
	status       int
	code         string // the error code of the body, if any
	took         time.Duration
	err          error
}

// traffic runs requests against the nodes until stopped and keeps every
// answer.
type traffic struct {
	phase  atomic.Int32
	mu     sync.Mutex
	calls  []call
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// errorCode reads the code of an error body of either shape (IAM identity
// or IAM token), or "".
func errorCode(err error) string {
	var e *client.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// startTraffic exchanges key and reads /v1/me with tok on a, and calls the
// gateway path of a and b with clientID, in a loop, until stop.
func startTraffic(a, b *node, key, tok, path, clientID string) *traffic {
	tr := &traffic{}
	ctx, cancel := context.WithCancel(context.Background())
	tr.cancel = cancel
	add := func(c call) {
		c.endAt = tr.phase.Load()
		tr.mu.Lock()
		tr.calls = append(tr.calls, c)
		tr.mu.Unlock()
	}
	tr.done.Go(func() {
		for ctx.Err() == nil {
			ph, start := tr.phase.Load(), time.Now()
			_, err := a.client().IAMToken(ctx, key, client.TokenOptions{})
			if ctx.Err() != nil {
				return
			}
			add(call{what: "exchange", phase: ph, status: statusOr200(err), code: errorCode(err), took: time.Since(start), err: transportErr(err)})

			ph, start = tr.phase.Load(), time.Now()
			_, err = as(a, tok).Me(ctx)
			if ctx.Err() != nil {
				return
			}
			add(call{what: "me", phase: ph, status: statusOr200(err), code: errorCode(err), took: time.Since(start), err: transportErr(err)})

			for _, n := range []*node{a, b} {
				ph = tr.phase.Load()
				r, err := gwCall(ctx, n, path, clientID)
				if ctx.Err() != nil {
					return
				}
				add(call{what: "gateway-" + n.name, phase: ph, status: r.status, took: r.took, err: err})
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	return tr
}

// statusOr200 is the status of an SDK call's error (200 when it succeeded).
func statusOr200(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return client.StatusOf(err)
}

// transportErr keeps err only when the server did not answer at all.
func transportErr(err error) error {
	if err == nil || client.StatusOf(err) != 0 {
		return nil
	}
	return err
}

func (tr *traffic) stop() []call {
	tr.cancel()
	tr.done.Wait()
	return tr.calls
}

// listeners counts the sessions of database dbURL on the server of admin
// whose last statement was the change listener's LISTEN.
func listeners(ctx context.Context, admin, dbURL string) (int, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return 0, err
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = $1 AND query = 'LISTEN gatehouse_changes'`, strings.TrimPrefix(u.Path, "/")).Scan(&n)
	return n, err
}

// TestPostgresOutage stops the cluster's PostgreSQL while traffic runs
// (docs/cluster.md, "What happens when something fails"): the nodes say
// they are not ready, refuse management calls and unknown keys with 503
// (never 500, 400 or a hang), keep serving the gateway from their snapshot,
// and recover by themselves when it is back, change listener included.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	pg := testenv.StartPostgres(t) // private: this test stops it
	db := pg.NewDatabase()
	c := newCluster(t, db, testenv.RedisURL(t))
	nodes := c.startAll("a", "b")
	a, b := nodes[0], nodes[1]
	ctx := context.Background()
	kf := adminKey(t, nodes...)
	adminA := as(a, token(t, a, kf.APIKey))
	adminB := as(b, token(t, b, kf.APIKey))
	// Tokens minted while PostgreSQL is up, for the calls while it is down.
	admins := map[*node]*client.Client{a: adminA, b: adminB}

	be := newBackend(t)
	p := newProvider(t, adminA, "acme", be.URL)
	product := p.product(t, "open", "1000000/1hour")
	p.publish(t, product)
	app, id := p.app(t, "app")
	at := p.subscribe(t, app, product)
	path := p.echoPath()
	propagation(t, "subscribe on a → 200", at, gwProbe(b, path, id, is(200)))

	// seen: node a has exchanged it and verified its token. unseen was
	// made on b and never shown to a; gone was made and deleted on b.
	seen := mustCreateKey(t, adminA, "seen")
	seenTok := token(t, a, seen.APIKey)
	mustMe(t, a, seenTok, seen.ID)
	readerTok, err := a.client().IAMToken(ctx, seen.APIKey, client.TokenOptions{Role: "Reader"})
	if err != nil {
		t.Fatal(err)
	}
	mustMe(t, a, readerTok.AccessToken, seen.ID)
	unseen := mustCreateKey(t, adminB, "unseen")
	gone := mustCreateKey(t, adminB, "gone")
	if err := adminB.DeleteAPIKey(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := listeners(ctx, pg.URL(), db); err != nil || n != 2 {
		t.Fatalf("before the outage: %d sessions listen for changes (%v), want 2 (one a node)", n, err)
	}

	tr := startTraffic(a, b, seen.APIKey, seenTok, path, id)
	time.Sleep(200 * time.Millisecond) // some traffic with the database up, as a baseline
	// The phase changes before the server does, so that no call made while
	// it stops is held to the "before" rules.
	tr.phase.Store(phaseDown)
	pg.Stop()
	downAt := time.Now()

	// waitFor polls check every 100 ms until it holds or within passed.
	waitFor := func(what string, within time.Duration, check func() (bool, string)) time.Duration {
		t.Helper()
		start := time.Now()
		var last string
		for time.Since(start) < within {
			ok, seen := check()
			if ok {
				return time.Since(start)
			}
			last = seen
			time.Sleep(100 * time.Millisecond) // polling a node's state; nothing to synchronise on
		}
		t.Errorf("%s: not within %v (last: %s)", what, within, last)
		return within
	}
	readyz := func(n *node, want int) func() (bool, string) {
		return func() (bool, string) {
			code, what := status(ctx, "GET", n.mgmtURL()+"/readyz", nil)
			return code == want, what
		}
	}

	t.Run("while-down", func(t *testing.T) {
		for _, n := range nodes {
			d := waitFor("node "+n.name+" /readyz 503", maxAnswer, readyz(n, http.StatusServiceUnavailable))
			t.Logf("node %s: /readyz 503 after %v", n.name, d.Round(time.Millisecond))
		}
		for _, n := range nodes {
			start := time.Now()
			_, err := admins[n].CreateAPIKey(ctx, client.CreateAPIKey{Name: "while-down"})
			took := time.Since(start)
			if client.StatusOf(err) != http.StatusServiceUnavailable || errorCode(err) != "unavailable" || took > maxAnswer {
				t.Errorf("POST /v1/apikeys on node %s while PostgreSQL is down: %v after %v; want 503 unavailable within %v", n.name, err, took, maxAnswer)
			}
		}
		// Tokens of a key node a has seen verify from its cache: a Reader
		// token is refused for what its role forbids (403), not for the
		// store (503); a forged one is refused as ever (401).
		if _, err := as(a, readerTok.AccessToken).CreateAPIKey(ctx, client.CreateAPIKey{Name: "reader"}); client.StatusOf(err) != http.StatusForbidden {
			t.Errorf("POST /v1/apikeys with a Reader token while PostgreSQL is down: %v, want 403 (token verified from the cache)", err)
		}
		if _, err := as(a, forged(seenTok)).Me(ctx); client.StatusOf(err) != http.StatusUnauthorized {
			t.Errorf("GET /v1/me with a forged token while PostgreSQL is down: %v, want 401", err)
		}
		for _, k := range []*client.APIKey{unseen, gone} {
			start := time.Now()
			_, err := a.client().IAMToken(ctx, k.APIKey, client.TokenOptions{})
			took := time.Since(start)
			if client.StatusOf(err) != http.StatusServiceUnavailable || errorCode(err) != "BXNIM0503E" || took > maxAnswer {
				t.Errorf("exchange of key %q (never seen by node a) while PostgreSQL is down: %v after %v; want 503 BXNIM0503E", k.Name, err, took)
			}
		}
		for _, n := range nodes {
			r, err := gwCall(ctx, n, path, id)
			if err != nil || r.status != http.StatusOK {
				t.Errorf("node %s's gateway while PostgreSQL is down: %d %v, want 200 from its snapshot", n.name, r.status, err)
			}
		}
		// An outage of a few seconds, so that the traffic meets the nodes'
		// background work failing too (change log, activity, analytics).
		time.Sleep(minOutage - time.Since(downAt))
		for _, n := range nodes {
			if code, what := status(ctx, "GET", n.mgmtURL()+"/readyz", nil); code != http.StatusServiceUnavailable {
				t.Errorf("node %s is ready again while PostgreSQL is still down: %s", n.name, what)
			}
		}
	})
	t.Logf("PostgreSQL was down for %v", time.Since(downAt).Round(time.Millisecond))

	tr.phase.Store(phaseRecovering)
	pg.Start()
	upAt := time.Now()

	// Recovery is automatic and bounded: 15 s covers the pool's connect
	// timeout (3 s) several times over.
	const recovery = 15 * time.Second
	t.Run("recovers", func(t *testing.T) {
		for _, n := range nodes {
			waitFor("node "+n.name+" /readyz 200 after PostgreSQL is back", recovery-time.Since(upAt), readyz(n, http.StatusOK))
			t.Logf("node %s: /readyz 200 %v after PostgreSQL was started", n.name, time.Since(upAt).Round(time.Millisecond))
		}
		for _, n := range nodes {
			admin := admins[n]
			waitFor("node "+n.name+" takes writes after PostgreSQL is back", recovery-time.Since(upAt), func() (bool, string) {
				_, err := admin.CreateAPIKey(ctx, client.CreateAPIKey{Name: "after-recovery-" + n.name})
				if err != nil {
					return false, err.Error()
				}
				return true, ""
			})
		}
		tr.phase.Store(phaseAfter)
		// A change made right away holds on b within a second too, while
		// b's listener may still be reconnecting (with a backoff of up to
		// 2 s): polling the change log is the safety net.
		revokeOnA := func(kind, name string) {
			t.Helper()
			k := mustCreateKey(t, adminA, name)
			tok := token(t, a, k.APIKey)
			mustMe(t, b, tok, k.ID)
			if err := adminA.DisableAPIKey(ctx, k.ID, true); err != nil {
				t.Fatalf("disable after recovery: %v", err)
			}
			propagation(t, kind, time.Now(), refusedOn(b, tok))
		}
		revokeOnA("revocation right after PG recovery", "right-after-recovery")
		// The listeners re-subscribed: one LISTEN session a node again.
		waitFor("each node listens for changes again", recovery-time.Since(upAt), func() (bool, string) {
			n, err := listeners(ctx, pg.URL(), db)
			if err != nil {
				return false, err.Error()
			}
			return n == 2, fmt.Sprintf("%d listening sessions", n)
		})
		t.Logf("recovered %v after PostgreSQL was started", time.Since(upAt).Round(time.Millisecond))

		// A change made on a after the recovery holds on b within a second.
		for i := range 3 {
			revokeOnA("revocation after PG recovery", fmt.Sprintf("after-recovery-%d", i))
		}
	})

	time.Sleep(200 * time.Millisecond) // some traffic after the recovery, to hold it to the baseline
	calls := tr.stop()
	t.Run("traffic", func(t *testing.T) {
		counts := map[string]map[string]int{} // what → "phase status" → n
		for _, c := range calls {
			key := fmt.Sprintf("%s %d", phaseNames[c.phase], c.status)
			if c.code != "" {
				key += " " + c.code
			}
			if counts[c.what] == nil {
				counts[c.what] = map[string]int{}
			}
			counts[c.what][key]++
			if c.err != nil {
				t.Errorf("%s (%s): no answer: %v", c.what, phaseNames[c.phase], c.err)
				continue
			}
			if c.took > maxAnswer {
				t.Errorf("%s (%s): answered after %v", c.what, phaseNames[c.phase], c.took)
			}
			steady := c.phase == c.endAt && (c.phase == phaseBefore || c.phase == phaseAfter)
			switch {
			case strings.HasPrefix(c.what, "gateway"):
				if c.status != http.StatusOK {
					t.Errorf("%s (%s): %d, want 200 in every phase", c.what, phaseNames[c.phase], c.status)
				}
			case steady && c.status != http.StatusOK:
				t.Errorf("%s (%s): %d %s, want 200 while PostgreSQL is up", c.what, phaseNames[c.phase], c.status, c.code)
			case c.status != http.StatusOK && c.status != http.StatusServiceUnavailable:
				t.Errorf("%s (%s): %d %s; want 200 or 503", c.what, phaseNames[c.phase], c.status, c.code)
			case c.what == "exchange" && c.status == http.StatusServiceUnavailable && c.code != "BXNIM0503E":
				t.Errorf("exchange (%s): 503 with code %q, want BXNIM0503E", phaseNames[c.phase], c.code)
			case c.what == "me" && c.status == http.StatusServiceUnavailable && c.code != "unavailable":
				t.Errorf("me (%s): 503 with code %q, want unavailable", phaseNames[c.phase], c.code)
			}
		}
		for what, m := range counts {
			t.Logf("traffic %s: %v", what, m)
		}
		for _, what := range []string{"exchange", "me", "gateway-a", "gateway-b"} {
			down := 0
			for k, n := range counts[what] {
				if strings.HasPrefix(k, "down ") {
					down += n
				}
			}
			if down == 0 {
				t.Errorf("no %s call was made while PostgreSQL was down", what)
			}
		}
	})
}

// forged is tok with one character of its signature changed.
func forged(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 5
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// --- Redis outage -------------------------------------------------------------

// fallbacks reads gatehouse_ratelimit_redis_fallbacks_total from n's /metrics.
func fallbacks(t *testing.T, n *node) float64 {
	t.Helper()
	r, err := send(context.Background(), "GET", n.mgmtURL()+"/metrics", nil, nil)
	if err != nil || r.status != http.StatusOK {
		t.Fatalf("GET /metrics on node %s: %d %v", n.name, r.status, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "gatehouse_ratelimit_redis_fallbacks_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("node %s: metric line %q", n.name, sc.Text())
			}
			return f
		}
	}
	t.Fatalf("node %s's /metrics has no gatehouse_ratelimit_redis_fallbacks_total", n.name)
	return 0
}

// TestRedisOutage stops the cluster's Redis: the gateways keep answering
// with limits per node, each logs it once and counts it in a metric, and
// once Redis is back (after the 5 s retry interval) counting is shared
// again.
func TestRedisOutage(t *testing.T) {
	t.Parallel()
	rd := testenv.StartRedis(t) // private: this test stops it
	c := newCluster(t, testenv.PostgresURL(t), rd.URL())
	nodes := c.startAll("a", "b")
	a, b := nodes[0], nodes[1]
	kf := adminKey(t, nodes...)
	adminA := as(a, token(t, a, kf.APIKey))

	// A week window: no window edge during the test (see TestCluster).
	const limit = 1000
	be := newBackend(t)
	p := newProvider(t, adminA, "acme", be.URL)
	product := p.product(t, "metered", strconv.Itoa(limit)+"/1week")
	p.publish(t, product)
	app, id := p.app(t, "app")
	at := p.subscribe(t, app, product)
	path := p.echoPath()
	propagation(t, "subscribe on a → 200", at, gwProbe(b, path, id, is(200)))

	// callOn calls the gateway of n and returns X-RateLimit-Remaining.
	callOn := func(n *node) int {
		t.Helper()
		r, err := gwCall(context.Background(), n, path, id)
		if err != nil || r.status != http.StatusOK {
			t.Fatalf("node %s's gateway: %d %v %s, want 200", n.name, r.status, err, r.body)
		}
		// Redis calls are bounded to 200 ms; 2 s leaves room for a loaded
		// machine and still tells an answer from a hang.
		if r.took > 2*time.Second {
			t.Errorf("node %s's gateway took %v", n.name, r.took)
		}
		rem, ok := remaining(r.header)
		if !ok {
			t.Fatalf("node %s: X-RateLimit-Remaining %q", n.name, r.header.Get("X-RateLimit-Remaining"))
		}
		return rem
	}
	// shared wants a count made through a to be seen through b, and back.
	shared := func(when string) {
		t.Helper()
		ra := callOn(a)
		if rb := callOn(b); rb != ra-1 {
			t.Errorf("%s: remaining %d after a call through a, then %d through b; want %d (one count)", when, ra, rb, ra-1)
		}
		if ra2 := callOn(a); ra2 != ra-2 {
			t.Errorf("%s: remaining %d through a after calls through a and b, want %d", when, ra2, ra-2)
		}
	}
	shared("with Redis up")

	rd.Stop()
	downAt := time.Now()
	// Keep calling for longer than the retry interval (5 s, fixed), so
	// that a retry of Redis fails during the outage, which must not be
	// logged or counted as a new one. Each node now counts on its own,
	// from zero: its fallback counters were never used.
	next := map[string]int{"a": limit - 1, "b": limit - 1}
	for time.Since(downAt) < 5500*time.Millisecond {
		for _, n := range nodes {
			if got := callOn(n); got != next[n.name] {
				t.Errorf("Redis down, node %s: remaining %d, want %d (its own count)", n.name, got, next[n.name])
			}
			next[n.name]--
		}
		time.Sleep(100 * time.Millisecond) // pacing the calls over the retry interval
	}
	for _, n := range nodes {
		if got := n.log.count("Redis unreachable"); got != 1 {
			t.Errorf("node %s logged Redis unreachable %d times during one outage, want once", n.name, got)
		}
		if got := fallbacks(t, n); got != 1 {
			t.Errorf("node %s: gatehouse_ratelimit_redis_fallbacks_total %v after one outage, want 1", n.name, got)
		}
	}

	rd.Start() // empty: it keeps nothing on disk
	upAt := time.Now()
	// Each node tries Redis again 5 s after its last failure; calls keep
	// being answered meanwhile. 8 s bounds the wait.
	for a.log.count("Redis back") == 0 || b.log.count("Redis back") == 0 {
		if time.Since(upAt) > 8*time.Second {
			t.Fatalf("the nodes did not use Redis again within 8s of its start (a: %d, b: %d records)",
				a.log.count("Redis back"), b.log.count("Redis back"))
		}
		for _, n := range nodes {
			callOn(n)
		}
		time.Sleep(100 * time.Millisecond) // pacing the calls until the retry
	}
	t.Logf("Redis was down %v; counting was shared again %v after it was started",
		upAt.Sub(downAt).Round(time.Millisecond), time.Since(upAt).Round(time.Millisecond))
	shared("after Redis came back")
	for _, n := range nodes {
		if got := n.log.count("Redis unreachable"); got != 1 {
			t.Errorf("node %s logged Redis unreachable %d times, want once", n.name, got)
		}
	}
}

// --- kill -9 mid-write ---------------------------------------------------------

// TestKill9MidWrite kills a node with SIGKILL while it creates keys as fast
// as it can: every creation it acknowledged is there, whole, through
// another node, and exchanges; the ones in flight are there whole or not
// at all; the node starts again on the same database.
func TestKill9MidWrite(t *testing.T) {
	t.Parallel()
	c := newCluster(t, testenv.PostgresURL(t), testenv.RedisURL(t))
	nodes := c.startAll("a", "b")
	a, b := nodes[0], nodes[1]
	kf := adminKey(t, nodes...)
	adminA := as(a, token(t, a, kf.APIKey))
	adminB := as(b, token(t, b, kf.APIKey))

	type ack struct{ id, name, value string }
	var (
		mu         sync.Mutex
		acked      = map[string]ack{} // by id
		attempted  sync.Map           // names sent
		killing    atomic.Bool
		unexpected []error
	)
	acks := make(chan struct{}, 100000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const workers = 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				name := fmt.Sprintf("w%d-%04d", w, i)
				attempted.Store(name, true)
				k, err := adminA.CreateAPIKey(ctx, client.CreateAPIKey{Name: name})
				if err != nil {
					if !killing.Load() {
						mu.Lock()
						unexpected = append(unexpected, err)
						mu.Unlock()
					}
					return
				}
				mu.Lock()
				acked[k.ID] = ack{k.ID, k.Name, k.APIKey}
				mu.Unlock()
				acks <- struct{}{}
			}
		})
	}
	for range 40 {
		select {
		case <-acks:
		case <-time.After(60 * time.Second):
			killing.Store(true)
			cancel()
			wg.Wait()
			t.Fatalf("creations stalled: %v", unexpected)
		}
	}
	killing.Store(true)
	a.kill9() // the workers are in the middle of requests
	cancel()
	wg.Wait()
	for _, err := range unexpected {
		t.Errorf("a creation failed before the kill: %v", err)
	}
	t.Logf("%d creations acknowledged before kill -9", len(acked))

	// check reads the keys through n: every acknowledged key whole, and
	// the ones in flight at the kill whole too.
	check := func(n *node, admin *client.Client) {
		t.Helper()
		listed := map[string]client.APIKey{}
		names := map[string]string{}
		for _, k := range listAll(t, admin) {
			if _, dup := listed[k.ID]; dup {
				t.Errorf("node %s lists key %s twice", n.name, k.ID)
			}
			if other, dup := names[k.Name]; dup {
				t.Errorf("node %s: two keys named %q: %s and %s", n.name, k.Name, other, k.ID)
			}
			listed[k.ID], names[k.Name] = k, k.ID
			if !strings.HasPrefix(k.ID, "ApiKey-") || k.Name == "" || k.Hint == "" || k.IAMID == "" ||
				k.AccountID == "" || k.EntityTag == "" || k.CreatedAt.IsZero() || k.ModifiedAt.IsZero() {
				t.Errorf("node %s lists a half-written key: %+v", n.name, k)
			}
		}
		if _, ok := listed[kf.UUID]; !ok {
			t.Errorf("node %s does not list the admin key", n.name)
		}
		for _, w := range acked {
			k, ok := listed[w.id]
			if !ok {
				t.Errorf("key %s (%s) was acknowledged with a 201 and node %s does not list it", w.name, w.id, n.name)
				continue
			}
			if k.Name != w.name || k.Disabled || k.Locked {
				t.Errorf("key %s on node %s: %+v", w.id, n.name, k)
			}
			if got, err := admin.GetAPIKey(context.Background(), w.id, false, false); err != nil || got.Name != w.name {
				t.Errorf("get acknowledged key %s on node %s: %+v, %v", w.id, n.name, got, err)
			}
			tok, err := n.client().IAMToken(context.Background(), w.value, client.TokenOptions{})
			if err != nil {
				t.Errorf("acknowledged key %s does not exchange on node %s: %v", w.name, n.name, err)
				continue
			}
			mustMe(t, n, tok.AccessToken, w.id)
		}
		inFlight := 0
		for id, k := range listed {
			if _, ok := acked[id]; ok || id == kf.UUID {
				continue
			}
			if _, ok := attempted.Load(k.Name); !ok {
				t.Errorf("node %s lists a key nobody created: %+v", n.name, k)
				continue
			}
			inFlight++
		}
		// At most one creation per worker was in flight at the kill.
		if inFlight > workers || len(listed) != 1+len(acked)+inFlight {
			t.Errorf("node %s lists %d keys: the admin key, %d acknowledged and %d unacknowledged (at most %d were in flight)",
				n.name, len(listed), len(acked), inFlight, workers)
		}
		t.Logf("node %s: %d keys listed, %d created by requests killed in flight", n.name, len(listed), inFlight)
	}
	check(b, adminB)

	// a starts again on the same database and data directory, bootstraps
	// nothing, and works as a node of the cluster.
	a2 := c.start("a")
	if n := a2.log.count("bootstrap"); n != 0 {
		t.Errorf("the restarted node logged %d bootstrap records", n)
	}
	if n := a2.log.count("signing key created"); n != 0 {
		t.Errorf("the restarted node created %d signing keys", n)
	}
	admin2 := as(a2, token(t, a2, kf.APIKey))
	check(a2, admin2)
	k := mustCreateKey(t, admin2, "after-restart")
	mustMe(t, b, token(t, b, k.APIKey), k.ID)
}
