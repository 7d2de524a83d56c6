package iam_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gatehouse/client"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
	"gatehouse/internal/store/sqlite"
)

func openStore(t testing.TB, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// mustKeyFileInStore reads the key file and checks its key is the stored admin key.
func mustKeyFileInStore(t *testing.T, st store.Store, file string) {
	t.Helper()
	kf, err := client.ReadKeyFile(file)
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	if _, err := st.GetAPIKeyByDigest(context.Background(), iam.Digest(kf.APIKey)); err != nil {
		t.Fatalf("the key in %s is not in the store: %v", file, err)
	}
	if tmps, _ := filepath.Glob(file + ".*.tmp"); len(tmps) != 0 {
		t.Fatalf("temporary files left: %v", tmps)
	}
}

// Two processes bootstrapping one database at once (init and serve, or two
// cluster nodes): exactly one creates the account, and the key file holds
// the key that was committed.
func TestBootstrapRaceLeavesTheCommittedKeyInTheFile(t *testing.T) {
	for i := range 15 {
		dir := t.TempDir()
		db, file := filepath.Join(dir, "g.db"), filepath.Join(dir, "admin-apikey.json")
		stores := []store.Store{openStore(t, db), openStore(t, db)}
		made := make([]bool, len(stores))
		errs := make([]error, len(stores))
		var wg sync.WaitGroup
		for n, st := range stores {
			wg.Go(func() { made[n], errs[n] = iam.Bootstrap(context.Background(), st, iam.BootstrapOptions{File: file}) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: Bootstrap: %v", i, err)
			}
		}
		if made[0] == made[1] {
			t.Fatalf("round %d: made = %v, want exactly one bootstrap", i, made)
		}
		mustKeyFileInStore(t, stores[0], file)
	}
}

// A crash after the commit and before the rename leaves the key in a
// temporary file; the next start finishes it, and drops uncommitted ones.
func TestBootstrapFinishesAKeyFileLeftByACrash(t *testing.T) {
	dir := t.TempDir()
	db, file := filepath.Join(dir, "g.db"), filepath.Join(dir, "admin-apikey.json")
	st := openStore(t, db)
	if made, err := iam.Bootstrap(context.Background(), st, iam.BootstrapOptions{File: file}); err != nil || !made {
		t.Fatalf("Bootstrap = %v, %v", made, err)
	}
	committed, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// As if the process died before renaming: the key is in a temporary file.
	if err := os.Rename(file, file+".12345.tmp"); err != nil {
		t.Fatal(err)
	}
	stray := iam.NewKeyFile("admin", "", "gatehouse_never-committed-0000000000000000000000000000", "ApiKey-x", time.Now(), false)
	if err := os.WriteFile(file+".999.tmp", stray.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	if made, err := iam.Bootstrap(context.Background(), st, iam.BootstrapOptions{File: file}); err != nil || made {
		t.Fatalf("second Bootstrap = %v, %v; want no new bootstrap", made, err)
	}
	got, err := os.ReadFile(file)
	if err != nil || string(got) != string(committed) {
		t.Fatalf("key file after recovery = %q, %v; want the committed key back", got, err)
	}
	mustKeyFileInStore(t, st, file)
}
