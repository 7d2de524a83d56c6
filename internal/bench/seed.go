package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
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

// seeded is what the load generator needs to address the seeded records.
type seeded struct {
	Keys      []string
	ClientIDs []string // one per app
	APIs      int
	Took      time.Duration
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

// seed creates a Gatehouse data directory (what `gatehouse init` makes) and
// writes the keys, their owners and the API Manager records straight into
// the store, in large transactions: the HTTP API would take hours for a
// million keys.
func seed(ctx context.Context, sp seedSpec, progress func(format string, args ...any)) (*seeded, error) {
	start := time.Now()
	cfg := config.Default()
	cfg.DataDir = sp.Dir
	cfg.SigningAlg = sp.Alg
	if err := cfg.Finalize(); err != nil {
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
	out := &seeded{APIs: sp.APIs}

	keys, err := Keys(sp.Seed, sp.Keys)
	if err != nil {
		return nil, err
	}
	out.Keys = keys
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
		progress("  seeded %d/%d keys", hi, len(keys))
	}

	if sp.APIs > 0 && sp.Apps > 0 {
		if err := seedGateway(ctx, st, acct, now, sp, out, progress); err != nil {
			return nil, err
		}
	}
	out.Took = time.Since(start)
	return out, nil
}

func seedGateway(ctx context.Context, st store.Store, acct string, now time.Time, sp seedSpec, out *seeded, progress func(string, ...any)) error {
	org := store.Org{ID: uuid.NewString(), AccountID: acct, Name: benchOrg, Title: "Benchmark", Version: 1,
		CreatedBy: "bench", CreatedAt: now, ModifiedAt: now}
	env := store.Environment{ID: uuid.NewString(), AccountID: acct, OrgID: org.ID, Name: benchCatalog, Title: "Sandbox",
		CreatedBy: "bench", CreatedAt: now, ModifiedAt: now}
	if err := st.CreateOrg(ctx, org, []store.Environment{env}); err != nil {
		return fmt.Errorf("seed org: %w", err)
	}
	corg := store.ConsumerOrg{ID: uuid.NewString(), AccountID: acct, OrgID: org.ID, EnvID: env.ID, Name: "consumers",
		Title: "Consumers", CreatedBy: "bench", CreatedAt: now}
	if err := st.CreateConsumerOrg(ctx, corg); err != nil {
		return fmt.Errorf("seed consumer org: %w", err)
	}
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
		if _, err := st.PutPublication(ctx, env.ID, prod.Name, prod.Version, func(*store.Publication) (store.Publication, error) {
			return store.Publication{ID: uuid.NewString(), AccountID: acct, OrgID: org.ID, EnvID: env.ID,
				ProductName: prod.Name, ProductVersion: prod.Version, State: apim.StatePublished, Snapshot: raw, Rev: 1,
				PublishedBy: "bench", PublishedAt: now, ModifiedAt: now}, nil
		}); err != nil {
			return fmt.Errorf("seed publication: %w", err)
		}
	}
	progress("  seeded %d APIs in %d products", sp.APIs, products)
	out.ClientIDs = make([]string, sp.Apps)
	for lo := 0; lo < sp.Apps; lo += importBatch / 2 {
		hi := min(lo+importBatch/2, sp.Apps)
		var b store.Import
		for i := lo; i < hi; i++ {
			a := store.App{ID: uuid.NewString(), AccountID: acct, OrgID: org.ID, EnvID: env.ID, ConsumerOrgID: corg.ID,
				Name: "app-" + strconv.Itoa(i), CreatedBy: "bench", CreatedAt: now}
			cid := fmt.Sprintf("bench%027d", i)
			out.ClientIDs[i] = cid
			b.Apps = append(b.Apps, a)
			b.Credentials = append(b.Credentials, store.Credential{ClientID: cid, AppID: a.ID, EnvID: env.ID,
				SecretDigest: apim.SecretDigest("unused-secret-" + cid), SecretHint: cid[len(cid)-4:], CreatedAt: now, ModifiedAt: now})
			b.Subscriptions = append(b.Subscriptions, store.Subscription{ID: uuid.NewString(), AccountID: acct, OrgID: org.ID,
				EnvID: env.ID, AppID: a.ID, ConsumerOrgID: corg.ID, ProductName: "product-" + strconv.Itoa(i%products),
				ProductVersion: "1.0.0", Plan: "default", Approved: true, State: apim.SubActive, CreatedBy: "bench", CreatedAt: now})
		}
		if err := st.Import(ctx, b); err != nil {
			return fmt.Errorf("seed apps: %w", err)
		}
		progress("  seeded %d/%d apps", hi, sp.Apps)
	}
	return nil
}
