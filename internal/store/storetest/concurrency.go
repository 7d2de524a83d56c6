package storetest

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/store"
)

func testConcurrentUpdates(t *testing.T, s store.Store) {
	const n = 50
	k := newAPIKey("iam-User-a", "counter")
	k.Description = "0"
	mustCreateAPIKey(t, s, k)

	// Each update reads the counter and writes it back plus one, and leaves
	// its own mark: a lost or doubled update shows in both.
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := s.UpdateAPIKey(t.Context(), k.ID, func(v *store.APIKey) error {
				c, err := strconv.Atoi(v.Description)
				if err != nil {
					return err
				}
				v.Description = strconv.Itoa(c + 1)
				v.History = append(v.History, store.HistoryEntry{Time: t0, IAMID: "iam-User-a", Action: "touch", Message: strconv.Itoa(i)})
				return nil
			})
			if err != nil {
				t.Errorf("update %d: %v", i, err)
			}
		})
	}
	wg.Wait()

	got := mustGetAPIKey(t, s, k.ID)
	wantEqual(t, "counter", got.Description, strconv.Itoa(n))
	wantEqual(t, "version", got.Version, k.Version+n)
	seen := map[string]int{}
	for _, h := range got.History {
		seen[h.Message]++
	}
	for i := range n {
		if c := seen[strconv.Itoa(i)]; c != 1 {
			t.Errorf("update %d recorded %d times, want once", i, c)
		}
	}
	wantEqual(t, "history entries", len(got.History), n)
}

func testConcurrentUsername(t *testing.T, s store.Store) {
	const n = 32
	users := make([]store.User, n)
	errs := make([]error, n)
	for i := range users {
		users[i] = newUser("same")
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.CreateUser(t.Context(), users[i]) })
	}
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("two users named %q created (calls %d and %d)", "same", winner, i)
		case err == nil:
			winner = i
		default:
			wantErr(t, "losing CreateUser", err, store.ErrAlreadyExists)
		}
	}
	if winner < 0 {
		t.Fatal("no CreateUser succeeded")
	}
	got, err := s.GetUserByUsername(t.Context(), acct, "same")
	wantErr(t, "GetUserByUsername", err, nil)
	wantEqual(t, "user", got, users[winner])
}

func testConcurrentCreates(t *testing.T, s store.Store) {
	const n = 64
	keys := make([]store.APIKey, n)
	for i := range keys {
		keys[i] = newAPIKey(fmt.Sprint("iam-User-", i%4), fmt.Sprint("key-", i))
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := s.CreateAPIKey(t.Context(), keys[i]); err != nil {
				t.Errorf("CreateAPIKey %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	listed := mustListAPIKeys(t, s, store.APIKeyQuery{AccountID: acct, Limit: 1000})
	wantEqual(t, "keys listed", len(listed), n)
	for _, k := range keys {
		got, err := s.GetAPIKeyByDigest(t.Context(), k.Digest)
		wantErr(t, "GetAPIKeyByDigest", err, nil)
		wantEqual(t, "key", got, k)
	}
}

func testConcurrentPaging(t *testing.T, s store.Store) {
	const (
		existing = 60
		writers  = 4
		perWrite = 25
		limit    = 7
	)
	pre := map[string]bool{}
	for i := range existing {
		k := newAPIKey("iam-User-a", fmt.Sprintf("key-%03d", i))
		k.CreatedAt = t0.Add(time.Duration(i) * time.Second)
		pre[mustCreateAPIKey(t, s, k).ID] = true
	}

	// Writers insert keys whose names fall between the existing ones, so the
	// walk meets inserts both behind and ahead of its cursor.
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range perWrite {
				k := newAPIKey("iam-User-a", fmt.Sprintf("key-%03d-%d", (i*writers+w)%existing, w))
				if err := s.CreateAPIKey(t.Context(), k); err != nil {
					t.Errorf("CreateAPIKey: %v", err)
					return
				}
			}
		})
	}
	defer wg.Wait() // also when the walk fails: writers use t
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	walk := func() {
		seen := map[string]bool{}
		prevName, prevID := "", ""
		q := store.APIKeyQuery{AccountID: acct, IAMID: "iam-User-a", SortBy: "name", Limit: limit}
		for {
			page := mustListAPIKeys(t, s, q)
			for _, k := range page {
				if seen[k.ID] {
					t.Fatalf("key %s (%s) returned twice in one walk", k.ID, k.Name)
				}
				seen[k.ID] = true
				// Go compares strings in byte order, as the listing sorts names.
				if k.Name < prevName || k.Name == prevName && k.ID <= prevID {
					t.Fatalf("key %s/%s listed after %s/%s", k.Name, k.ID, prevName, prevID)
				}
				prevName, prevID = k.Name, k.ID
			}
			if len(page) < limit {
				break
			}
			last := page[len(page)-1]
			q.After = &store.APIKeyCursor{Name: last.Name, CreatedAt: last.CreatedAt, ID: last.ID}
		}
		for id := range pre {
			if !seen[id] {
				t.Fatalf("walk missed key %s, which existed before it started", id)
			}
		}
	}

	close(start)
	for walking := true; walking; {
		select {
		case <-done:
			walking = false // one last walk over the final state below
		default:
		}
		walk()
	}
	if got := len(mustListAPIKeys(t, s, store.APIKeyQuery{AccountID: acct, Limit: 1000})); got != existing+writers*perWrite && !t.Failed() {
		t.Fatalf("%d keys after the inserts, want %d", got, existing+writers*perWrite)
	}
}
