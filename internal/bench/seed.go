package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"gatehouse/internal/apidef"
	"gatehouse/internal/apim"
	"gatehouse/internal/app"
	"gatehouse/internal/config"
	"gatehouse/internal/iam"
	"gatehouse/internal/ratelimit"
	"gatehouse/internal/store"
	"gatehouse/internal/store/sqlite"
)

// Seeding shape: how the records spread over owners and products.
const (
	keysPerOwner    = 1000 // API keys per service ID
	apisPerProduct  = 100  // APIs per published product
	importBatch     = 20000
	benchOrg        = "bench"
	benchCatalog    = "sb"
	clientIDHeader  = "X-IBM-Client-Id"
	benchOperation  = "/hello"
	benchPlanLimits = 1 << 40 // a hard limit per hour that is counted on every call but never reached
)

// Keys returns n API keys in Gatehouse's format, the same for the same seed
// in every process (the token reference rebuilds the set from the seed).
func Keys(seed uint64, n int) ([]string, error) {
	r := rand.NewChaCha8([32]byte{0: byte(seed), 1: byte(seed >> 8), 2: byte(seed >> 16), 3: byte(seed >> 24)})
	out := make([]string, n)
	for i := range out {
		k, err := iam.GenerateKey(r)
		if err != nil {
			return nil, err
		}
		out[i] = k
	}
	return out, nil
}

// seedSpec is the content of one data directory.
type seedSpec struct {
	Dir     string
	Seed    uint64
	Keys    int
	APIs    int
	Apps    int
	Alg     string
	Backend string // the URL every seeded API proxies to
}

// keySet holds keys of one length in a single string. However many keys it
// holds, it is one object for the collector, which never scans it: the load
// generator shares the CPUs with the server it measures, so its own garbage
// collection must not grow with the key count (1M separate strings made
// every collection of the 1M-key run mark 1M objects, which the 1k-key run
// it is compared with did not).
type keySet struct {
	all  string
	size int
}

func packKeys(keys []string) (keySet, error) {
	if len(keys) == 0 {
		return keySet{}, nil
	}
	var b strings.Builder
	b.Grow(len(keys) * len(keys[0]))
	for _, k := range keys {
		if len(k) != len(keys[0]) {
			return keySet{}, errors.New("bench: keys of different lengths")
		}
		b.WriteString(k)
	}
	return keySet{all: b.String(), size: len(keys[0])}, nil
}

// Len is the number of keys.
func (k keySet) Len() int {
	if k.size == 0 {
		return 0
	}
	return len(k.all) / k.size
}

// At is key i, without allocating.
func (k keySet) At(i int) string { return k.all[i*k.size : (i+1)*k.size] }

// seeded is what the load generator needs to address the seeded records.
type seeded struct {
	Keys      keySet
	ClientIDs []string // one per app
	APIs      int
	Took      time.Duration
	Reused    bool // seeded by an earlier run (Options.Reuse)
}

// apiOf returns the index of the API that app i calls on its r-th draw: one
// of the APIs of the product the app is subscribed to.
func (s *seeded) apiOf(i int, r *rand.Rand) int {
	products := (s.APIs + apisPerProduct - 1) / apisPerProduct
	p := i % products
	first := p * apisPerProduct
	n := min(apisPerProduct, s.APIs-first)
	return first + r.IntN(n)
}

// seedMarker is written next to a seeded data directory (name + ".seed.json")
// so that a later run with Options.Reuse can use it again.
type seedMarker struct {
	Format   int     `json:"format"` // seedFormat when written
	Seed     uint64  `json:"seed"`
	Keys     int     `json:"keys"`
	APIs     int     `json:"apis"`
	Apps     int     `json:"apps"`
	Alg      string  `json:"alg"`
	Account  string  `json:"account"`
	Env      string  `json:"env,omitempty"`
	Org      string  `json:"org,omitempty"`
	SeedSecs float64 `json:"seed_seconds"`
}

// seedFormat changes when what seed writes changes, so that --reuse seeds
// stores written by an older version again (2: every key's activity stored).
const seedFormat = 2

func (m seedMarker) sameContent(sp seedSpec) bool {
	return m.Format == seedFormat && m.Seed == sp.Seed && m.Keys == sp.Keys && m.APIs == sp.APIs && m.Apps == sp.Apps && m.Alg == sp.Alg
}

// seed creates a Gatehouse data directory (what `gatehouse init` makes) and
// writes the keys, their owners and the API Manager records straight into
// the store, in large transactions: the HTTP API would take hours for a
// million keys. With reuse, a directory seeded earlier with the same content
// is used as it is, but for its publications, which are written again to
// proxy to this run's backend.
func seed(ctx context.Context, sp seedSpec, reuse bool, progress func(format string, args ...any)) (*seeded, error) {
	start := time.Now()
	cfg := config.Default()
	cfg.DataDir = sp.Dir
	cfg.SigningAlg = sp.Alg
	if err := cfg.Finalize(); err != nil {
		return nil, err
	}
	out := &seeded{APIs: sp.APIs}
	keys, err := Keys(sp.Seed, sp.Keys)
	if err != nil {
		return nil, err
	}
	if out.Keys, err = packKeys(keys); err != nil {
		return nil, err
	}
	markerFile := filepath.Clean(sp.Dir) + ".seed.json"
	if reuse {
		var m seedMarker
		if data, err := os.ReadFile(markerFile); err == nil && json.Unmarshal(data, &m) == nil && m.sameContent(sp) {
			progress("  reusing the store seeded earlier in %s", sp.Dir)
			if err := reseedPublications(ctx, cfg, m, sp, out); err != nil {
				return nil, err
			}
			out.Took = time.Duration(m.SeedSecs * float64(time.Second))
			out.Reused = true
			return out, nil
		}
	}
	if err := os.RemoveAll(sp.Dir); err != nil {
		return nil, err
	}
	if err := os.Remove(markerFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if _, err := app.Init(ctx, cfg, app.Options{LogOutput: io.Discard}); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	st, err := sqlite.Open(ctx, cfg.SQLitePath(), sqlite.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	accounts, err := st.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	acct := accounts[0].ID
	now := time.Now().UTC().Truncate(time.Microsecond)

	owners := (sp.Keys + keysPerOwner - 1) / keysPerOwner
	for o := range owners {
		sid := store.ServiceID{
			ID: "ServiceId-bench-" + strconv.Itoa(o), IAMID: "iam-ServiceId-bench-" + strconv.Itoa(o), AccountID: acct,
			Name: "bench-" + strconv.Itoa(o), CreatedBy: "bench", CreatedAt: now, ModifiedAt: now, Version: 1,
		}
		if err := st.CreateServiceID(ctx, sid, nil); err != nil {
			return nil, fmt.Errorf("seed service id: %w", err)
		}
		if err := st.CreatePolicy(ctx, store.Policy{ID: "Policy-" + uuid.NewString(), AccountID: acct, Subject: sid.IAMID,
			Role: iam.Reader.String(), CreatedBy: "bench", CreatedAt: now}); err != nil {
			return nil, fmt.Errorf("seed policy: %w", err)
		}
	}
	for lo := 0; lo < len(keys); lo += importBatch {
		hi := min(lo+importBatch, len(keys))
		batch := make([]store.APIKey, 0, hi-lo)
		for i := lo; i < hi; i++ {
			batch = append(batch, store.APIKey{
				ID: "ApiKey-" + uuid.NewString(), AccountID: acct, IAMID: "iam-ServiceId-bench-" + strconv.Itoa(i/keysPerOwner),
				Name: "bench-" + strconv.Itoa(i), Digest: iam.Digest(keys[i]), Hint: iam.Hint(keys[i]),
				ActionWhenLeaked: iam.LeakDisable, CreatedBy: "bench", CreatedAt: now, ModifiedAt: now, Version: 1,
			})
		}
		if err := st.Import(ctx, store.Import{APIKeys: batch}); err != nil {
			return nil, fmt.Errorf("seed keys: %w", err)
		}
		// Every key has been used once, as in a store that has served a
		// while: its activity is stored, so that the runs update activity
		// rows that exist rather than fill an empty table.
		used := make([]store.APIKeyActivity, len(batch))
		for i, k := range batch {
			used[i] = store.APIKeyActivity{ID: k.ID, Count: 1, Last: now}
		}
		if err := st.RecordAPIKeyActivity(ctx, used); err != nil {
			return nil, fmt.Errorf("seed key activity: %w", err)
		}
		progress("  seeded %d/%d keys", hi, len(keys))
	}

	m := seedMarker{Format: seedFormat, Seed: sp.Seed, Keys: sp.Keys, APIs: sp.APIs, Apps: sp.Apps, Alg: sp.Alg, Account: acct}
	if sp.APIs > 0 && sp.Apps > 0 {
		if m.Org, m.Env, err = seedGateway(ctx, st, acct, now, sp, out, progress); err != nil {
			return nil, err
		}
	}
	out.Took = time.Since(start)
	m.SeedSecs = out.Took.Seconds()
	if err := st.Close(); err != nil {
		return nil, err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(markerFile, data, 0o600); err != nil {
		return nil, err
	}
	return out, nil
}

// reseedPublications points the publications of a reused store at this
// run's backend and rebuilds the client ids the load generator uses.
func reseedPublications(ctx context.Context, cfg config.Config, m seedMarker, sp seedSpec, out *seeded) error {
	if sp.APIs == 0 || sp.Apps == 0 {
		return nil
	}
	st, err := sqlite.Open(ctx, cfg.SQLitePath(), sqlite.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := seedPublications(ctx, st, m.Account, m.Org, m.Env, now, sp); err != nil {
		return err
	}
	out.ClientIDs = make([]string, sp.Apps)
	for i := range out.ClientIDs {
		out.ClientIDs[i] = clientID(i)
	}
	return st.Close()
}

func clientID(i int) string { return fmt.Sprintf("bench%027d", i) }

func seedGateway(ctx context.Context, st store.Store, acct string, now time.Time, sp seedSpec, out *seeded, progress func(string, ...any)) (orgID, envID string, err error) {
	org := store.Org{ID: uuid.NewString(), AccountID: acct, Name: benchOrg, Title: "Benchmark", Version: 1,
		CreatedBy: "bench", CreatedAt: now, ModifiedAt: now}
	env := store.Environment{ID: uuid.NewString(), AccountID: acct, OrgID: org.ID, Name: benchCatalog, Title: "Sandbox",
		CreatedBy: "bench", CreatedAt: now, ModifiedAt: now}
	if err := st.CreateOrg(ctx, org, []store.Environment{env}); err != nil {
		return "", "", fmt.Errorf("seed org: %w", err)
	}
	corg := store.ConsumerOrg{ID: uuid.NewString(), AccountID: acct, OrgID: org.ID, EnvID: env.ID, Name: "consumers",
		Title: "Consumers", CreatedBy: "bench", CreatedAt: now}
	if err := st.CreateConsumerOrg(ctx, corg); err != nil {
		return "", "", fmt.Errorf("seed consumer org: %w", err)
	}
	if err := seedPublications(ctx, st, acct, org.ID, env.ID, now, sp); err != nil {
		return "", "", err
	}
	products := (sp.APIs + apisPerProduct - 1) / apisPerProduct
	progress("  seeded %d APIs in %d products", sp.APIs, products)
	out.ClientIDs = make([]string, sp.Apps)
	for lo := 0; lo < sp.Apps; lo += importBatch / 2 {
		hi := min(lo+importBatch/2, sp.Apps)
		var b store.Import
		for i := lo; i < hi; i++ {
			a := store.App{ID: uuid.NewString(), AccountID: acct, OrgID: org.ID, EnvID: env.ID, ConsumerOrgID: corg.ID,
				Name: "app-" + strconv.Itoa(i), CreatedBy: "bench", CreatedAt: now}
			cid := clientID(i)
			out.ClientIDs[i] = cid
			b.Apps = append(b.Apps, a)
			b.Credentials = append(b.Credentials, store.Credential{ClientID: cid, AppID: a.ID, EnvID: env.ID,
				SecretDigest: apim.SecretDigest("unused-secret-" + cid), SecretHint: cid[len(cid)-4:], CreatedAt: now, ModifiedAt: now})
			b.Subscriptions = append(b.Subscriptions, store.Subscription{ID: uuid.NewString(), AccountID: acct, OrgID: org.ID,
				EnvID: env.ID, AppID: a.ID, ConsumerOrgID: corg.ID, ProductName: "product-" + strconv.Itoa(i%products),
				ProductVersion: "1.0.0", Plan: "default", Approved: true, State: apim.SubActive, CreatedBy: "bench", CreatedAt: now})
		}
		if err := st.Import(ctx, b); err != nil {
			return "", "", fmt.Errorf("seed apps: %w", err)
		}
		progress("  seeded %d/%d apps", hi, sp.Apps)
	}
	return org.ID, env.ID, nil
}

// seedPublications publishes the products of the seeded APIs, every API
// proxying to sp.Backend; publishing again replaces them.
func seedPublications(ctx context.Context, st store.Store, acct, orgID, envID string, now time.Time, sp seedSpec) error {
	products := (sp.APIs + apisPerProduct - 1) / apisPerProduct
	plan := apidef.Plan{Name: "default", Title: "Default", Limits: []apidef.Limit{
		{Name: "default", Rate: ratelimit.Rate{Count: benchPlanLimits, Window: time.Hour}, Hard: true}}}
	for p := range products {
		prod := apidef.Product{Name: "product-" + strconv.Itoa(p), Version: "1.0.0", Title: "Product",
			APIs: map[string]string{}, Plans: map[string]apidef.Plan{"default": plan}}
		snap := apim.Snapshot{Product: prod, APIs: map[string]apidef.API{}}
		for a := p * apisPerProduct; a < min((p+1)*apisPerProduct, sp.APIs); a++ {
			api := apidef.API{
				Name: "api-" + strconv.Itoa(a), Version: "1.0.0", Title: "API", BasePath: "/a" + strconv.Itoa(a),
				Properties: map[string]string{"target-url": sp.Backend}, TargetURL: "$(target-url)", Timeout: 60 * time.Second,
				Security:   apidef.Security{ClientID: &apidef.Param{In: "header", Name: clientIDHeader}},
				Operations: []apidef.Operation{{Method: "GET", Path: benchOperation}},
			}
			key := "a" + strconv.Itoa(a)
			prod.APIs[key] = api.ID()
			snap.APIs[key] = api
		}
		snap.Product = prod
		raw, err := json.Marshal(snap)
		if err != nil {
			return err
		}
		if _, err := st.PutPublication(ctx, envID, prod.Name, prod.Version, func(old *store.Publication) (store.Publication, error) {
			p := store.Publication{ID: uuid.NewString(), AccountID: acct, OrgID: orgID, EnvID: envID,
				ProductName: prod.Name, ProductVersion: prod.Version, State: apim.StatePublished, Snapshot: raw, Rev: 1,
				PublishedBy: "bench", PublishedAt: now, ModifiedAt: now}
			if old != nil {
				p.ID, p.Rev = old.ID, old.Rev+1
			}
			return p, nil
		}); err != nil {
			return fmt.Errorf("seed publication: %w", err)
		}
	}
	return nil
}
