package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/store"
)

// RunSharedTests runs the part of the contract that only a database shared
// by several nodes can break: what the store promises across Store
// instances, not only across goroutines. newStores must return n fresh
// Stores opened on one new, empty database (each closed by its own cleanup);
// they stand for n nodes of a cluster.
func RunSharedTests(t *testing.T, newStores func(t *testing.T, n int) []store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, newStores func(t *testing.T, n int) []store.Store)
	}{
		{"shared/bootstrap-one-node-wins", testSharedBootstrap},
		{"shared/updates-are-compare-and-swap-across-nodes", testSharedUpdates},
		{"shared/change-log-tail-misses-nothing", testSharedChangeTail},
		{"shared/audit-chain-never-forks-across-nodes", testSharedAudit},
		{"shared/cascades-race-creates-without-orphans", testSharedCascades},
		{"shared/changed-fires-for-another-nodes-change", testSharedChanged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStores) })
	}
}

func testSharedBootstrap(t *testing.T, newStores func(*testing.T, int) []store.Store) {
	nodes := newStores(t, 3)
	const perNode = 4
	n := len(nodes) * perNode
	bs := make([]store.Bootstrap, n)
	errs := make([]error, n)
	for i := range bs {
		bs[i] = newBootstrap(newUUID()[:8] + acct[8:])
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = nodes[i%len(nodes)].Bootstrap(t.Context(), bs[i])
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("Bootstrap succeeded twice (calls %d and %d, on nodes %d and %d)", winner, i, winner%len(nodes), i%len(nodes))
		case err == nil:
			winner = i
		default:
			wantErr(t, "losing Bootstrap", err, store.ErrAlreadyExists)
		}
	}
	if winner < 0 {
		t.Fatal("no Bootstrap succeeded")
	}
	for i, s := range nodes {
		as, err := s.ListAccounts(t.Context())
		wantErr(t, fmt.Sprintf("ListAccounts on node %d", i), err, nil)
		wantEqual(t, fmt.Sprintf("accounts seen by node %d", i), as, []store.Account{bs[winner].Account})
	}
	for i, b := range bs {
		if i == winner {
			continue
		}
		_, err := nodes[0].GetUser(t.Context(), b.User.ID)
		wantErr(t, "GetUser(a losing admin)", err, store.ErrNotFound)
	}
	// Exactly the winner's four changes.
	wantEqual(t, "changes", changesSince(t, nodes[0], 0), sortedChanges(
		change{store.ChangeAccount, bs[winner].Account.ID}, change{store.ChangeUser, bs[winner].User.IAMID},
		change{store.ChangePolicy, bs[winner].User.IAMID}, change{store.ChangeAPIKey, bs[winner].APIKey.ID}))
}

func testSharedUpdates(t *testing.T, newStores func(*testing.T, int) []store.Store) {
	nodes := newStores(t, 3)
	const perNode = 20
	k := newAPIKey("iam-User-a", "counter")
	k.Description = "0"
	mustCreateAPIKey(t, nodes[0], k)

	start := make(chan struct{})
	var wg sync.WaitGroup
	for n, s := range nodes {
		for i := range perNode {
			mark := fmt.Sprintf("node-%d-%d", n, i)
			wg.Go(func() {
				<-start
				_, err := s.UpdateAPIKey(t.Context(), k.ID, func(v *store.APIKey) error {
					c, err := strconv.Atoi(v.Description)
					if err != nil {
						return err
					}
					v.Description = strconv.Itoa(c + 1)
					v.History = append(v.History, store.HistoryEntry{Time: t0, IAMID: "iam-User-a", Action: "touch", Message: mark})
					return nil
				})
				if err != nil {
					t.Errorf("update %s: %v", mark, err)
				}
			})
		}
	}
	close(start)
	wg.Wait()

	total := len(nodes) * perNode
	for n, s := range nodes {
		got := mustGetAPIKey(t, s, k.ID)
		wantEqual(t, fmt.Sprintf("counter seen by node %d", n), got.Description, strconv.Itoa(total))
		wantEqual(t, fmt.Sprintf("version seen by node %d", n), got.Version, k.Version+int64(total))
		seen := map[string]int{}
		for _, h := range got.History {
			seen[h.Message]++
		}
		wantEqual(t, "history entries", len(got.History), total)
		for mark, c := range seen {
			if c != 1 {
				t.Errorf("update %s recorded %d times, want once", mark, c)
			}
		}
	}
}

// testSharedChangeTail: two nodes write while a third tails the change log
// the way a node follows it, by the last Seq seen. If changes could commit
// out of Seq order, the tail would sooner or later pass a Seq whose change
// commits afterwards, and never see it.
func testSharedChangeTail(t *testing.T, newStores func(*testing.T, int) []store.Store) {
	nodes := newStores(t, 3)
	writers, reader := nodes[:2], nodes[2]
	const perWriter, rounds = 4, 15

	start := make(chan struct{})
	var wg sync.WaitGroup
	for n, s := range writers {
		for w := range perWriter {
			wg.Go(func() {
				<-start
				for i := range rounds {
					// Transactions of several changes (an org with its
					// catalogs) and of one (a key), from both nodes.
					o := newOrg(fmt.Sprintf("org-%d-%d-%d", n, w, i))
					envs := []store.Environment{newEnv(o, "sb"), newEnv(o, "prod"), newEnv(o, "dev")}
					if err := s.CreateOrg(t.Context(), o, envs); err != nil {
						t.Errorf("CreateOrg: %v", err)
						return
					}
					if err := s.CreateAPIKey(t.Context(), newAPIKey("iam-User-a", o.Name)); err != nil {
						t.Errorf("CreateAPIKey: %v", err)
						return
					}
				}
			})
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	seen := map[int64]bool{}
	var after int64
	tail := func() {
		cs, err := reader.Changes(t.Context(), after, 50)
		if err != nil {
			t.Fatalf("Changes(%d): %v", after, err)
		}
		for _, c := range cs {
			if c.Seq <= after {
				t.Fatalf("Changes(%d) returned Seq %d", after, c.Seq)
			}
			seen[c.Seq], after = true, c.Seq
		}
	}
	close(start)
	for tailing := true; tailing; {
		select {
		case <-done:
			tailing = false
		default:
		}
		tail()
	}
	wg.Wait()
	for last := int64(-1); last != after; {
		last = after
		tail()
	}

	all, err := reader.Changes(t.Context(), 0, 100000)
	wantErr(t, "Changes", err, nil)
	wantEqual(t, "changes logged", len(all), len(writers)*perWriter*rounds*5)
	for _, c := range all {
		if !seen[c.Seq] {
			t.Fatalf("the tail never saw change %d (%s %s): it committed after a later Seq had been read", c.Seq, c.Kind, c.Key)
		}
	}
}

func testSharedAudit(t *testing.T, newStores func(*testing.T, int) []store.Store) {
	nodes := newStores(t, 3)
	const perNode, perBatch = 5, 4
	start := make(chan struct{})
	var wg sync.WaitGroup
	for n, s := range nodes {
		for w := range perNode {
			writer := fmt.Sprintf("node-%d-writer-%d", n, w)
			wg.Go(func() {
				batch := make([]store.AuditEntry, perBatch)
				for i := range batch {
					batch[i] = newAuditEntry("token.exchange", writer)
					batch[i].Message = strconv.Itoa(i)
				}
				<-start
				if err := s.AppendAudit(t.Context(), batch, sealChain); err != nil {
					t.Errorf("AppendAudit from %s: %v", writer, err)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	log := mustListAudit(t, nodes[1], store.AuditQuery{Limit: 1000})
	wantEqual(t, "entries", len(log), len(nodes)*perNode*perBatch)
	wantChain(t, log)
	for i := 0; i < len(log); i += perBatch {
		for j, e := range log[i : i+perBatch] {
			if e.Target != log[i].Target || e.Message != strconv.Itoa(j) {
				t.Fatalf("entry %d (%s, %s) breaks %s's batch", e.Seq, e.Target, e.Message, log[i].Target)
			}
		}
	}
}

// testSharedCascades races deletes of parents on one node against creates
// of children under them on the others. Whichever goes first, no child may
// survive its parent: the create must either fail with ErrNotFound or have
// its record deleted with the rest.
func testSharedCascades(t *testing.T, newStores func(*testing.T, int) []store.Store) {
	nodes := newStores(t, 3)
	ctx := t.Context()
	const rounds = 12
	// race runs the functions at once and fails on an error other than
	// ErrNotFound.
	race := func(fns ...func() error) {
		t.Helper()
		start := make(chan struct{})
		errs := make([]error, len(fns))
		var wg sync.WaitGroup
		for i, fn := range fns {
			wg.Go(func() { <-start; errs[i] = fn() })
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("racing call: %v", err)
			}
		}
	}
	for r := range rounds {
		o, envs := mustCreateOrg(t, nodes[0], newOrg(fmt.Sprint("acme-", r)), "sb", "prod")
		sb, prod := envs[0], envs[1]
		c := mustCreateConsumerOrg(t, nodes[0], newConsumerOrg(sb, "climbers"))
		a, _ := mustCreateApp(t, nodes[0], c, "ropes")

		// An app, deleted while credentials and subscriptions are added.
		race(
			func() error { return nodes[0].DeleteApp(ctx, a.ID) },
			func() error { return nodes[1].CreateCredential(ctx, newCredential(a)) },
			func() error { return nodes[2].CreateSubscription(ctx, newSubscription(a, "climbon", "1.0.0")) },
		)
		wantEqual(t, "credentials of the deleted app", len(mustListCredentials(t, nodes[0], a.ID)), 0)
		wantEqual(t, "subscriptions of the deleted app", len(mustListSubscriptions(t, nodes[0], store.ConsumerQuery{AppID: a.ID})), 0)

		// A catalog, deleted while apps are created in its consumer org and
		// consumer orgs in it.
		b, _ := mustCreateApp(t, nodes[0], c, "harness")
		race(
			func() error { return nodes[0].DeleteEnvironment(ctx, o.ID, sb.ID) },
			func() error { x, first := newApp(c, "belay"); return nodes[1].CreateApp(ctx, x, first) },
			func() error { return nodes[2].CreateCredential(ctx, newCredential(b)) },
			func() error { return nodes[2].CreateConsumerOrg(ctx, newConsumerOrg(sb, "hikers")) },
			func() error {
				_, err := nodes[1].PutPublication(ctx, sb.ID, "climbon", "1.0.0", func(*store.Publication) (store.Publication, error) {
					return newPublication(sb, "climbon", "1.0.0"), nil
				})
				return err
			},
		)
		wantEqual(t, "consumer orgs of the deleted catalog", len(mustListConsumerOrgs(t, nodes[0], sb.ID)), 0)
		wantEqual(t, "apps of the deleted catalog", len(mustListApps(t, nodes[0], store.ConsumerQuery{EnvID: sb.ID})), 0)
		wantEqual(t, "credentials of the deleted catalog's app", len(mustListCredentials(t, nodes[0], b.ID)), 0)
		wantEqual(t, "publications of the deleted catalog", len(mustListPublications(t, nodes[0], store.PublicationQuery{EnvID: sb.ID})), 0)

		// An org, deleted while catalogs are added to it and consumer orgs
		// to its remaining catalog.
		race(
			func() error { return nodes[0].DeleteOrg(ctx, o.ID, nil) },
			func() error { return nodes[1].CreateEnvironment(ctx, newEnv(o, "staging")) },
			func() error { return nodes[2].CreateConsumerOrg(ctx, newConsumerOrg(prod, "walkers")) },
		)
		wantEqual(t, "environments of the deleted org", len(mustListEnvs(t, nodes[0], o.ID)), 0)
		wantEqual(t, "consumer orgs of the deleted org's catalog", len(mustListConsumerOrgs(t, nodes[0], prod.ID)), 0)

		st, err := nodes[1].GatewayState(ctx, acct)
		wantErr(t, "GatewayState", err, nil)
		wantErr(t, "gateway state after the races", consistent(st), nil)
		if len(st.Apps)+len(st.Credentials)+len(st.Subscriptions)+len(st.Envs)+len(st.Publications) != 0 {
			t.Fatalf("round %d left records behind: %+v", r, st)
		}
	}
}

func mustListConsumerOrgs(t *testing.T, s store.Store, envID string) []store.ConsumerOrg {
	t.Helper()
	cs, err := s.ListConsumerOrgs(t.Context(), envID, store.Page{Limit: 1000})
	if err != nil {
		t.Fatalf("ListConsumerOrgs(%s): %v", envID, err)
	}
	return cs
}

// changedWait bounds the wait for a notification. It is generous: a
// notification normally arrives within milliseconds, and the test only
// fails when none comes at all.
const changedWait = 10 * time.Second

// testSharedChanged: a change committed by one node wakes the Changed
// channel of another. Backends that are not store.Notifiers skip it.
func testSharedChanged(t *testing.T, newStores func(*testing.T, int) []store.Store) {
	nodes := newStores(t, 2)
	n, ok := nodes[0].(store.Notifier)
	if !ok {
		t.Skipf("%T is not a store.Notifier", nodes[0])
	}
	ch := n.Changed()
	// The first value says the listener is connected (and that changes may
	// have been missed before): from then on nothing is.
	WaitChanged(t, ch, "the listener to connect")

	mustCreateUser(t, nodes[1], newUser("alice"))
	WaitChanged(t, ch, "a user created on the other node")

	// A failed mutation commits nothing: whatever it wakes (nothing, here),
	// the next change still does.
	_, err := nodes[1].UpdateUser(t.Context(), "no-such-user", func(*store.User) error { return nil })
	wantErr(t, "UpdateUser(missing)", err, store.ErrNotFound)
	k := mustCreateAPIKey(t, nodes[1], newAPIKey("iam-User-a", "key"))
	WaitChanged(t, ch, "a key created on the other node")
	wantErr(t, "DeleteAPIKey", nodes[1].DeleteAPIKey(t.Context(), k.ID, nil), nil)
	WaitChanged(t, ch, "a key deleted on the other node")
}

// WaitChanged waits, at most a few seconds, for a value from a
// store.Notifier's Changed channel, and fails the test when none comes.
func WaitChanged(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), changedWait)
	defer cancel()
	select {
	case <-ch:
	case <-ctx.Done():
		t.Fatalf("Changed did not fire within %v for %s", changedWait, what)
	}
}
