package e2e_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/client"
	"gatehouse/internal/iam"
)

// Creating a key: the value once, the record in IAM shape, the headers.
func TestAPIKeyCreate(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	me, err := admin.Me(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	r := s.do(t, req{method: "POST", path: "/v1/apikeys", token: tok, ctype: "application/json",
		body: `{"name":"ci","description":"deploys","action_when_leaked":"delete"}`})
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var k client.APIKey
	r.decode(t, &k)
	value := k.APIKey
	if iam.CheckKey(value) != nil || !strings.HasPrefix(value, iam.KeyPrefix) {
		t.Fatalf("value %q is not a Gatehouse key", value)
	}
	if want := iam.KeyPrefix + "…" + value[len(value)-4:]; k.Hint != want {
		t.Errorf("hint %q, want %q", k.Hint, want)
	}
	if !strings.HasPrefix(k.ID, "ApiKey-") || k.EntityTag == "" || k.Name != "ci" || k.Description != "deploys" ||
		k.ActionWhenLeaked != "delete" || k.IAMID != me.IAMID || k.AccountID != me.AccountID || k.CreatedBy != me.IAMID ||
		k.Locked || k.Disabled || !k.CreatedAt.Equal(epoch) || !k.ModifiedAt.Equal(epoch) || k.ExpiresAt != nil {
		t.Errorf("created key %+v", k)
	}
	if want := "crn:v1:gatehouse:public:iam-identity::a/" + me.AccountID + "::apikey:" + k.ID; k.CRN != want {
		t.Errorf("crn %q, want %q", k.CRN, want)
	}
	if loc := r.header.Get("Location"); loc != "/v1/apikeys/"+k.ID {
		t.Errorf("Location %q", loc)
	}
	if et := r.header.Get("ETag"); et != `"`+k.EntityTag+`"` {
		t.Errorf("ETag %q, entity_tag %q", et, k.EntityTag)
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q on the response holding the value", cc)
	}
	if !strings.Contains(string(r.body), `"created_at":"`+epoch.Format(time.RFC3339)+`"`) {
		t.Errorf("created_at is not RFC 3339 UTC: %s", r.body)
	}

	// The value is never shown again.
	reads := map[string]reply{
		"get":         s.do(t, req{method: "GET", path: "/v1/apikeys/" + k.ID + "?include_history=true&include_activity=true", token: tok}),
		"list":        s.do(t, req{method: "GET", path: "/v1/apikeys?include_history=true", token: tok}),
		"list-acct":   s.do(t, req{method: "GET", path: "/v1/apikeys?scope=account", token: tok}),
		"details":     s.do(t, req{method: "GET", path: "/v1/apikeys/details", token: tok, header: map[string]string{"IAM-ApiKey": value}}),
		"update":      s.do(t, req{method: "PUT", path: "/v1/apikeys/" + k.ID, token: tok, ctype: "application/json", body: `{"name":"ci2"}`, header: map[string]string{"If-Match": "*"}}),
		"get-updated": s.do(t, req{method: "GET", path: "/v1/apikeys/" + k.ID, token: tok}),
	}
	for name, rr := range reads {
		if rr.status != http.StatusOK {
			t.Errorf("%s: %d %s", name, rr.status, rr.body)
		}
		if strings.Contains(string(rr.body), value) || strings.Contains(string(rr.body), `"apikey":`) {
			t.Errorf("%s returns the key value: %s", name, rr.body)
		}
	}
	if et := reads["get"].header.Get("ETag"); et != `"`+k.EntityTag+`"` {
		t.Errorf("GET ETag %q, want %q", et, k.EntityTag)
	}

	// The new key works.
	tokenWorks(t, s, mustToken(t, s, value, client.TokenOptions{}))

	t.Run("ok/imported-value", func(t *testing.T) {
		imported := "legacy-" + strings.Repeat("0123456789", 4)
		k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "imported", APIKey: imported})
		if k.APIKey != imported || k.Hint != "…"+imported[len(imported)-4:] {
			t.Errorf("imported key %+v", k)
		}
		tokenWorks(t, s, mustToken(t, s, imported, client.TokenOptions{}))
		_, err := admin.CreateAPIKey(t.Context(), client.CreateAPIKey{Name: "again", APIKey: imported})
		wantErr(t, err, http.StatusConflict, "already_exists")
	})
	fails := []struct {
		name   string
		in     client.CreateAPIKey
		status int
		code   string
		target string
	}{
		{"fail/no-name", client.CreateAPIKey{}, 400, "validation_failed", "name"},
		{"fail/blank-name", client.CreateAPIKey{Name: "   "}, 400, "validation_failed", "name"},
		{"fail/name-too-long", client.CreateAPIKey{Name: strings.Repeat("n", 129)}, 400, "validation_failed", "name"},
		{"fail/control-character", client.CreateAPIKey{Name: "a\x00b"}, 400, "validation_failed", "name"},
		{"fail/unknown-role", client.CreateAPIKey{Name: "x", Role: "Owner"}, 400, "validation_failed", "role"},
		{"fail/unknown-leak-action", client.CreateAPIKey{Name: "x", ActionWhenLeaked: "panic"}, 400, "validation_failed", "action_when_leaked"},
		{"fail/imported-too-short", client.CreateAPIKey{Name: "x", APIKey: "short"}, 400, "validation_failed", "apikey"},
		{"fail/imported-bad-checksum", client.CreateAPIKey{Name: "x", APIKey: value[:len(value)-1] + flip(value[len(value)-1])}, 400, "validation_failed", "apikey"},
		{"fail/unknown-iam-id", client.CreateAPIKey{Name: "x", IAMID: "iam-User-nobody"}, 400, "validation_failed", "iam_id"},
	}
	for _, tc := range fails {
		t.Run(tc.name, func(t *testing.T) {
			_, err := admin.CreateAPIKey(t.Context(), tc.in)
			if e := wantErr(t, err, tc.status, tc.code); e.Target != tc.target {
				t.Errorf("target %q, want %q", e.Target, tc.target)
			}
		})
	}
}

// Listing: the IAM envelope, every page walked, every key once and in order.
func TestAPIKeyListPagination(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	const n = 25
	// Names in an order unrelated to creation order; distinct creation times.
	created := map[string]time.Time{"admin": epoch}
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(n) {
		s.clock.Advance(time.Second)
		k := mustCreateKey(t, admin, client.CreateAPIKey{Name: fmt.Sprintf("key-%02d", i)})
		created[k.Name] = k.CreatedAt
	}
	byName := make([]string, 0, len(created))
	for name := range created {
		byName = append(byName, name)
	}
	slices.Sort(byName)
	byCreated := slices.Clone(byName)
	slices.SortFunc(byCreated, func(a, b string) int { return created[a].Compare(created[b]) })

	cases := []struct {
		name, sort, order, scope string
		want                     []string
	}{
		{"name-asc", "name", "asc", "", byName},
		{"name-desc", "name", "desc", "", reversed(byName)},
		{"created-asc", "created_at", "asc", "", byCreated},
		{"created-desc", "created_at", "desc", "", reversed(byCreated)},
		{"default-order-is-created-asc", "", "", "", byCreated},
		{"account-scope", "name", "", "account", byName},
	}
	for _, tc := range cases {
		t.Run("ok/"+tc.name, func(t *testing.T) {
			o := client.ListAPIKeysOptions{PageSize: 7, Sort: tc.sort, Order: tc.order, Scope: tc.scope}
			var got []string
			for page := 0; ; page++ {
				l, err := admin.ListAPIKeys(t.Context(), o)
				if err != nil {
					t.Fatal(err)
				}
				if l.Offset != page*7 || l.Limit != 7 || !strings.HasPrefix(l.First, "/v1/apikeys") || strings.Contains(l.First, "pagetoken") {
					t.Errorf("page %d: offset %d limit %d first %q", page, l.Offset, l.Limit, l.First)
				}
				for _, k := range l.APIKeys {
					got = append(got, k.Name)
				}
				last := (page+1)*7 >= len(tc.want)
				if last != (l.Next == "") {
					t.Fatalf("page %d: next %q with %d of %d keys seen", page, l.Next, len(got), len(tc.want))
				}
				if last {
					break
				}
				if len(l.APIKeys) != 7 {
					t.Fatalf("page %d has %d keys", page, len(l.APIKeys))
				}
				o.PageToken = l.NextPageToken()
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("order\n got %v\nwant %v", got, tc.want)
			}
		})
	}
	t.Run("ok/default-page-size-20", func(t *testing.T) {
		l, err := admin.ListAPIKeys(t.Context(), client.ListAPIKeysOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if l.Limit != 20 || len(l.APIKeys) != 20 || l.Next == "" {
			t.Errorf("limit %d, %d keys, next %q", l.Limit, len(l.APIKeys), l.Next)
		}
	})
	t.Run("fail/pagetoken-of-another-query", func(t *testing.T) {
		l, err := admin.ListAPIKeys(t.Context(), client.ListAPIKeysOptions{PageSize: 5, Sort: "name"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = admin.ListAPIKeys(t.Context(), client.ListAPIKeysOptions{PageSize: 5, Sort: "created_at", PageToken: l.NextPageToken()})
		if e := wantErr(t, err, 400, "validation_failed"); e.Target != "pagetoken" {
			t.Errorf("target %q", e.Target)
		}
	})
	for _, bad := range []string{"pagesize=0", "pagesize=101", "pagesize=ten", "sort=id", "order=up", "scope=world", "pagetoken=%25%25"} {
		t.Run("fail/"+bad, func(t *testing.T) {
			r := s.do(t, req{method: "GET", path: "/v1/apikeys?" + bad, token: mustToken(t, s, s.admin.APIKey, client.TokenOptions{})})
			if target := wantAPIError(t, r, 400, "validation_failed"); target != strings.Split(bad, "=")[0] {
				t.Errorf("target %q", target)
			}
		})
	}
	t.Run("fail/reader-lists-account", func(t *testing.T) {
		_, err := s.as(t, s.admin.APIKey, client.TokenOptions{Role: "Reader"}).ListAPIKeys(t.Context(), client.ListAPIKeysOptions{Scope: "account"})
		wantErr(t, err, http.StatusForbidden, "forbidden")
	})
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// PUT needs If-Match (SPEC §4): 428 without, 412 stale, "*" or the current tag.
func TestAPIKeyUpdateETag(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "etag"})
	name := func(v string) client.UpdateAPIKey { return client.UpdateAPIKey{Name: &v} }

	_, err := admin.UpdateAPIKey(t.Context(), k.ID, "", name("x"))
	wantErr(t, err, http.StatusPreconditionRequired, "precondition_required")
	_, err = admin.UpdateAPIKey(t.Context(), k.ID, `"999"`, name("x"))
	wantErr(t, err, http.StatusPreconditionFailed, "precondition_failed")

	s.clock.Advance(time.Minute)
	u, err := admin.UpdateAPIKey(t.Context(), k.ID, `"`+k.EntityTag+`"`, name("renamed"))
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "renamed" || u.EntityTag == k.EntityTag || !u.ModifiedAt.Equal(s.clock.Now()) || !u.CreatedAt.Equal(k.CreatedAt) {
		t.Errorf("updated %+v", u)
	}
	// The old tag is stale now.
	_, err = admin.UpdateAPIKey(t.Context(), k.ID, k.EntityTag, name("again"))
	wantErr(t, err, http.StatusPreconditionFailed, "precondition_failed")

	desc, leak := "new description", "none"
	u2, err := admin.UpdateAPIKey(t.Context(), k.ID, "*", client.UpdateAPIKey{Description: &desc, ActionWhenLeaked: &leak})
	if err != nil {
		t.Fatal(err)
	}
	if u2.Name != "renamed" || u2.Description != desc || u2.ActionWhenLeaked != "none" || u2.EntityTag == u.EntityTag {
		t.Errorf("after If-Match *: %+v", u2)
	}

	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	r := s.do(t, req{method: "GET", path: "/v1/apikeys/" + k.ID, token: tok})
	if r.header.Get("ETag") != `"`+u2.EntityTag+`"` {
		t.Errorf("ETag %q after update, want %q", r.header.Get("ETag"), u2.EntityTag)
	}
	// If-Match compares strongly: a weak form of the current tag does not match
	// (RFC 9110 §13.1.1), the current tag anywhere in a list does.
	r = s.do(t, req{method: "PUT", path: "/v1/apikeys/" + k.ID, token: tok, ctype: "application/json", body: `{"description":""}`,
		header: map[string]string{"If-Match": `"nope", W/"` + u2.EntityTag + `"`}})
	if r.status != http.StatusPreconditionFailed {
		t.Errorf("If-Match with only a weak current tag: %d, want 412", r.status)
	}
	r = s.do(t, req{method: "PUT", path: "/v1/apikeys/" + k.ID, token: tok, ctype: "application/json", body: `{"description":""}`,
		header: map[string]string{"If-Match": `"nope", "` + u2.EntityTag + `"`}})
	if r.status != http.StatusOK || r.header.Get("ETag") == `"`+u2.EntityTag+`"` {
		t.Errorf("If-Match list: %d ETag %q", r.status, r.header.Get("ETag"))
	}
	// expires_at is set with an RFC 3339 time and cleared with "".
	future := s.clock.Now().Add(2 * time.Hour)
	futureStr, empty := future.Format(time.RFC3339), ""
	if u, err := admin.UpdateAPIKey(t.Context(), k.ID, "*", client.UpdateAPIKey{ExpiresAt: &futureStr}); err != nil || u.ExpiresAt == nil || !u.ExpiresAt.Equal(future) {
		t.Errorf("set expires_at: %+v, %v", u, err)
	}
	if u, err := admin.UpdateAPIKey(t.Context(), k.ID, "*", client.UpdateAPIKey{ExpiresAt: &empty}); err != nil || u.ExpiresAt != nil {
		t.Errorf("clear expires_at: %+v, %v", u, err)
	}
	past := s.clock.Now().Add(-time.Second).Format(time.RFC3339)
	_, err = admin.UpdateAPIKey(t.Context(), k.ID, "*", client.UpdateAPIKey{ExpiresAt: &past})
	wantErr(t, err, http.StatusBadRequest, "validation_failed")
	_, err = admin.UpdateAPIKey(t.Context(), "ApiKey-00000000-0000-0000-0000-000000000000", "*", name("x"))
	wantErr(t, err, http.StatusNotFound, "not_found")
}

// A locked key still logs in but cannot be changed or deleted (SPEC §2.3).
func TestAPIKeyLock(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "locked"})
	if err := admin.LockAPIKey(t.Context(), k.ID, true); err != nil {
		t.Fatal(err)
	}
	got, err := admin.GetAPIKey(t.Context(), k.ID, false, false)
	if err != nil || !got.Locked {
		t.Fatalf("after lock: %+v, %v", got, err)
	}
	tokenWorks(t, s, mustToken(t, s, k.APIKey, client.TokenOptions{}))

	name := "x"
	_, err = admin.UpdateAPIKey(t.Context(), k.ID, "*", client.UpdateAPIKey{Name: &name})
	wantErr(t, err, http.StatusConflict, "entity_locked")
	wantErr(t, admin.DeleteAPIKey(t.Context(), k.ID), http.StatusConflict, "entity_locked")
	_, err = admin.RotateAPIKey(t.Context(), k.ID, "1h")
	wantErr(t, err, http.StatusConflict, "entity_locked")
	if after, _ := admin.GetAPIKey(t.Context(), k.ID, false, false); after.Name != "locked" || after.EntityTag != got.EntityTag {
		t.Errorf("a refused change changed the key: %+v", after)
	}

	if err := admin.LockAPIKey(t.Context(), k.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UpdateAPIKey(t.Context(), k.ID, "*", client.UpdateAPIKey{Name: &name}); err != nil {
		t.Fatalf("update after unlock: %v", err)
	}
	if err := admin.DeleteAPIKey(t.Context(), k.ID); err != nil {
		t.Fatalf("delete after unlock: %v", err)
	}
}

// Disabling refuses exchanges and the tokens already issued, at once.
func TestAPIKeyDisable(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "disable-me"})
	live := mustToken(t, s, k.APIKey, client.TokenOptions{})
	tokenWorks(t, s, live)

	if err := admin.DisableAPIKey(t.Context(), k.ID, true); err != nil {
		t.Fatal(err)
	}
	tokenRefused(t, s, live)
	exchangeRefused(t, s, k.APIKey)
	if got, _ := admin.GetAPIKey(t.Context(), k.ID, false, false); !got.Disabled {
		t.Errorf("GET shows disabled=%v", got.Disabled)
	}
	_, err := admin.RotateAPIKey(t.Context(), k.ID, "")
	wantErr(t, err, http.StatusConflict, "conflict")

	if err := admin.DisableAPIKey(t.Context(), k.ID, false); err != nil {
		t.Fatal(err)
	}
	tokenWorks(t, s, mustToken(t, s, k.APIKey, client.TokenOptions{}))
	// Locked keys can still be disabled: that is how one reacts to a leak.
	if err := admin.LockAPIKey(t.Context(), k.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := admin.DisableAPIKey(t.Context(), k.ID, true); err != nil {
		t.Errorf("disable a locked key: %v", err)
	}
}

// Expiry: refused at creation in the past; once reached, exchange and live
// tokens are refused though the token's own exp is later.
func TestAPIKeyExpiry(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	for name, at := range map[string]time.Time{"past": s.clock.Now().Add(-time.Hour), "now": s.clock.Now()} {
		t.Run("fail/expires-at-"+name, func(t *testing.T) {
			_, err := admin.CreateAPIKey(t.Context(), client.CreateAPIKey{Name: "x", ExpiresAt: &at})
			if e := wantErr(t, err, http.StatusBadRequest, "validation_failed"); e.Target != "expires_at" {
				t.Errorf("target %q", e.Target)
			}
		})
	}
	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	r := s.do(t, req{method: "POST", path: "/v1/apikeys", token: tok, ctype: "application/json", body: `{"name":"x","expires_at":"tomorrow"}`})
	if wantAPIError(t, r, 400, "validation_failed") != "expires_at" {
		t.Error("a malformed expires_at is not named")
	}

	at := s.clock.Now().Add(30 * time.Minute)
	k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "expiring", ExpiresAt: &at})
	if k.ExpiresAt == nil || !k.ExpiresAt.Equal(at) {
		t.Errorf("expires_at %v, want %v", k.ExpiresAt, at)
	}
	live := mustToken(t, s, k.APIKey, client.TokenOptions{}) // exp is 1h away
	tokenWorks(t, s, live)
	s.clock.Advance(30*time.Minute - time.Second)
	tokenWorks(t, s, live)
	s.clock.Advance(time.Second)
	exchangeRefused(t, s, k.APIKey)
	tokenRefused(t, s, live)
	_, err := admin.RotateAPIKey(t.Context(), k.ID, "1h")
	wantErr(t, err, http.StatusConflict, "conflict")
}

// Deleting revokes the live tokens at once.
func TestAPIKeyDelete(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "delete-me"})
	live := mustToken(t, s, k.APIKey, client.TokenOptions{})
	tokenWorks(t, s, live)
	r := s.do(t, req{method: "DELETE", path: "/v1/apikeys/" + k.ID, token: mustToken(t, s, s.admin.APIKey, client.TokenOptions{})})
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("DELETE: %d %q", r.status, r.body)
	}
	tokenRefused(t, s, live)
	exchangeRefused(t, s, k.APIKey)
	_, err := admin.GetAPIKey(t.Context(), k.ID, false, false)
	wantErr(t, err, http.StatusNotFound, "not_found")
	wantErr(t, admin.DeleteAPIKey(t.Context(), k.ID), http.StatusNotFound, "not_found")
}

// Rotation: a new key with the same settings; the old one until the grace ends.
func TestAPIKeyRotate(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	old := mustCreateKey(t, admin, client.CreateAPIKey{Name: "rotating", Description: "d", Role: "Writer", ActionWhenLeaked: "none"})
	oldTok := mustToken(t, s, old.APIKey, client.TokenOptions{})

	s.clock.Advance(time.Minute)
	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	r := s.do(t, req{method: "POST", path: "/v1/apikeys/" + old.ID + "/rotate", token: tok, ctype: "application/json", body: `{"grace":"1h"}`})
	if r.status != http.StatusCreated {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	var n client.APIKey
	r.decode(t, &n)
	if n.ID == old.ID || n.APIKey == "" || n.APIKey == old.APIKey || n.Name != old.Name || n.Description != old.Description ||
		n.Role != "Writer" || n.ActionWhenLeaked != "none" || !n.CreatedAt.Equal(s.clock.Now()) {
		t.Errorf("rotated key %+v", n)
	}
	if r.header.Get("Location") != "/v1/apikeys/"+n.ID {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	oldNow, err := admin.GetAPIKey(t.Context(), old.ID, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if end := s.clock.Now().Add(time.Hour); oldNow.ExpiresAt == nil || !oldNow.ExpiresAt.Equal(end) {
		t.Errorf("old key expires_at %v, want %v", oldNow.ExpiresAt, end)
	}
	if h := oldNow.History; len(h) == 0 || h[len(h)-1].Action != "rotated" || !strings.Contains(h[len(h)-1].Message, n.ID) {
		t.Errorf("old key history %+v", h)
	}

	// During the grace period both keys work.
	tokenWorks(t, s, oldTok)
	tokenWorks(t, s, mustToken(t, s, old.APIKey, client.TokenOptions{}))
	tokenWorks(t, s, mustToken(t, s, n.APIKey, client.TokenOptions{}))

	s.clock.Advance(time.Hour + time.Second)
	exchangeRefused(t, s, old.APIKey)
	tokenRefused(t, s, oldTok)
	newTok := mustToken(t, s, n.APIKey, client.TokenOptions{})
	tokenWorks(t, s, newTok)
	if claims := jwtPart(t, newTok, 1); claims["apikey_id"] != n.ID {
		t.Errorf("new token apikey_id %v, want %s", claims["apikey_id"], n.ID)
	}
	admin = s.asAdmin(t) // the first admin token has expired too

	t.Run("fail/locked", func(t *testing.T) {
		k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "locked"})
		if err := admin.LockAPIKey(t.Context(), k.ID, true); err != nil {
			t.Fatal(err)
		}
		_, err := admin.RotateAPIKey(t.Context(), k.ID, "1h")
		wantErr(t, err, http.StatusConflict, "entity_locked")
	})
	for _, grace := range []string{"forever", "-1h", "31d"} {
		t.Run("fail/grace-"+grace, func(t *testing.T) {
			_, err := admin.RotateAPIKey(t.Context(), n.ID, grace)
			if e := wantErr(t, err, http.StatusBadRequest, "validation_failed"); e.Target != "grace" {
				t.Errorf("target %q", e.Target)
			}
		})
	}
	t.Run("ok/default-grace-24h", func(t *testing.T) {
		k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "default-grace"})
		if _, err := admin.RotateAPIKey(t.Context(), k.ID, ""); err != nil {
			t.Fatal(err)
		}
		got, _ := admin.GetAPIKey(t.Context(), k.ID, false, false)
		if end := s.clock.Now().Add(24 * time.Hour); got.ExpiresAt == nil || !got.ExpiresAt.Equal(end) {
			t.Errorf("expires_at %v, want %v", got.ExpiresAt, end)
		}
	})
}

// GET /v1/apikeys/details finds a key by its value in the IAM-ApiKey header.
func TestAPIKeyDetails(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "details"})
	got, err := admin.GetAPIKeyDetails(t.Context(), k.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != k.ID || got.Name != "details" || got.APIKey != "" || got.Activity == nil {
		t.Errorf("details %+v", got)
	}
	unknown, _ := iam.GenerateKey(nil)
	for name, v := range map[string]string{"unknown": unknown, "malformed": "gatehouse_nope"} {
		t.Run("fail/"+name, func(t *testing.T) {
			_, err := admin.GetAPIKeyDetails(t.Context(), v)
			wantErr(t, err, http.StatusNotFound, "not_found")
		})
	}
	t.Run("fail/no-header", func(t *testing.T) {
		r := s.do(t, req{method: "GET", path: "/v1/apikeys/details", token: mustToken(t, s, s.admin.APIKey, client.TokenOptions{})})
		if wantAPIError(t, r, 400, "validation_failed") != "IAM-ApiKey" {
			t.Error("the missing header is not named")
		}
	})
}

// Reporting leaked keys applies each key's action_when_leaked (SPEC §2.3).
func TestAPIKeyLeaked(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	dis := mustCreateKey(t, admin, client.CreateAPIKey{Name: "leak-disable"}) // the default action
	del := mustCreateKey(t, admin, client.CreateAPIKey{Name: "leak-delete", ActionWhenLeaked: "delete"})
	none := mustCreateKey(t, admin, client.CreateAPIKey{Name: "leak-none", ActionWhenLeaked: "none"})
	lockedDel := mustCreateKey(t, admin, client.CreateAPIKey{Name: "leak-delete-locked", ActionWhenLeaked: "delete"})
	if err := admin.LockAPIKey(t.Context(), lockedDel.ID, true); err != nil {
		t.Fatal(err)
	}
	if dis.ActionWhenLeaked != "disable" {
		t.Errorf("default action_when_leaked %q", dis.ActionWhenLeaked)
	}
	toks := map[string]string{}
	for _, k := range []*client.APIKey{dis, del, none, lockedDel} {
		toks[k.ID] = mustToken(t, s, k.APIKey, client.TokenOptions{})
	}
	unknown, _ := iam.GenerateKey(nil)
	values := []string{dis.APIKey, del.APIKey, none.APIKey, lockedDel.APIKey, unknown, "not-a-key", strings.Repeat("z", 40)}

	body, _ := json.Marshal(map[string][]string{"apikeys": values})
	r := s.do(t, req{method: "POST", path: "/v1/apikeys/leaked", token: mustToken(t, s, s.admin.APIKey, client.TokenOptions{}), ctype: "application/json", body: string(body)})
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, v := range values {
		if strings.Contains(string(r.body), v) {
			t.Errorf("the response echoes a reported value: %s", r.body)
		}
	}
	var out struct {
		Results []client.LeakResult `json:"results"`
	}
	r.decode(t, &out)
	want := []client.LeakResult{
		{Index: 0, Matched: true, ID: dis.ID, Hint: dis.Hint, Action: "disabled"},
		{Index: 1, Matched: true, ID: del.ID, Hint: del.Hint, Action: "deleted"},
		{Index: 2, Matched: true, ID: none.ID, Hint: none.Hint, Action: "none"},
		{Index: 3, Matched: true, ID: lockedDel.ID, Hint: lockedDel.Hint, Action: "disabled"},
		{Index: 4}, {Index: 5}, {Index: 6},
	}
	if !slices.Equal(out.Results, want) {
		t.Errorf("results\n got %+v\nwant %+v", out.Results, want)
	}

	t.Run("disable", func(t *testing.T) {
		tokenRefused(t, s, toks[dis.ID])
		exchangeRefused(t, s, dis.APIKey)
		if got, _ := admin.GetAPIKey(t.Context(), dis.ID, false, true); !got.Disabled || got.History[len(got.History)-1].Action != "reported-leaked" {
			t.Errorf("after report: %+v", got)
		}
	})
	t.Run("delete", func(t *testing.T) {
		tokenRefused(t, s, toks[del.ID])
		exchangeRefused(t, s, del.APIKey)
		_, err := admin.GetAPIKey(t.Context(), del.ID, false, false)
		wantErr(t, err, http.StatusNotFound, "not_found")
	})
	t.Run("none", func(t *testing.T) {
		tokenWorks(t, s, toks[none.ID])
		tokenWorks(t, s, mustToken(t, s, none.APIKey, client.TokenOptions{}))
	})
	t.Run("delete-locked-is-disabled", func(t *testing.T) {
		tokenRefused(t, s, toks[lockedDel.ID])
		if got, err := admin.GetAPIKey(t.Context(), lockedDel.ID, false, false); err != nil || !got.Disabled {
			t.Errorf("after report: %+v, %v", got, err)
		}
	})
	for name, b := range map[string]string{"empty": `{"apikeys":[]}`, "missing": `{}`, "too-many": `{"apikeys":[` + strings.Repeat(`"x",`, 100) + `"x"]}`} {
		t.Run("fail/"+name, func(t *testing.T) {
			r := s.do(t, req{method: "POST", path: "/v1/apikeys/leaked", token: mustToken(t, s, s.admin.APIKey, client.TokenOptions{}), ctype: "application/json", body: b})
			wantAPIError(t, r, 400, "validation_failed")
		})
	}
}

// Activity is exact right after the exchanges, without waiting for a flush.
func TestAPIKeyActivity(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "busy", Role: "Writer"})
	idle := mustCreateKey(t, admin, client.CreateAPIKey{Name: "idle"})
	const n = 7
	var last time.Time
	for i := range n {
		s.clock.Advance(time.Minute)
		last = s.clock.Now()
		if i%2 == 0 {
			_, err := s.client().V5Token(t.Context(), k.APIKey, client.TokenOptions{})
			if err != nil {
				t.Fatal(err)
			}
		} else {
			mustToken(t, s, k.APIKey, client.TokenOptions{})
		}
	}
	// Failed exchanges do not count.
	s.clock.Advance(time.Minute)
	_, err := s.client().IAMToken(t.Context(), k.APIKey, client.TokenOptions{Role: "Administrator"})
	wantErr(t, err, http.StatusBadRequest, "BXNIM0107E")

	check := func(t *testing.T, where string, a *client.Activity, count int64, at time.Time) {
		t.Helper()
		if a == nil {
			t.Fatalf("%s: no activity", where)
		}
		if a.AuthnCount != count {
			t.Errorf("%s: authn_count %d, want %d", where, a.AuthnCount, count)
		}
		switch {
		case at.IsZero() && a.LastAuthn != nil:
			t.Errorf("%s: last_authn %v for an unused key", where, a.LastAuthn)
		case !at.IsZero() && (a.LastAuthn == nil || !a.LastAuthn.Equal(at)):
			t.Errorf("%s: last_authn %v, want %v", where, a.LastAuthn, at)
		}
	}
	got, err := admin.GetAPIKey(t.Context(), k.ID, true, false)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "get", got.Activity, n, last)
	details, err := admin.GetAPIKeyDetails(t.Context(), k.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "details", details.Activity, n, last)
	gotIdle, _ := admin.GetAPIKey(t.Context(), idle.ID, true, false)
	check(t, "get idle", gotIdle.Activity, 0, time.Time{})
	for _, lk := range listAll(t, admin, client.ListAPIKeysOptions{IncludeActivity: true}) {
		switch lk.ID {
		case k.ID:
			check(t, "list", lk.Activity, n, last)
		case idle.ID:
			check(t, "list idle", lk.Activity, 0, time.Time{})
		}
	}
	if plain, _ := admin.GetAPIKey(t.Context(), k.ID, false, false); plain.Activity != nil {
		t.Errorf("activity without include_activity: %+v", plain.Activity)
	}
}

// History records who did what, when (include_history=true).
func TestAPIKeyHistory(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	me, _ := admin.Me(t.Context())
	k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "audited"})
	name := "audited-2"
	steps := []func() error{
		func() error {
			_, err := admin.UpdateAPIKey(t.Context(), k.ID, "*", client.UpdateAPIKey{Name: &name})
			return err
		},
		func() error { return admin.LockAPIKey(t.Context(), k.ID, true) },
		func() error { return admin.LockAPIKey(t.Context(), k.ID, false) },
		func() error { return admin.DisableAPIKey(t.Context(), k.ID, true) },
		func() error { return admin.DisableAPIKey(t.Context(), k.ID, false) },
	}
	for _, step := range steps {
		s.clock.Advance(time.Minute)
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := admin.GetAPIKey(t.Context(), k.ID, false, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"created", "updated", "locked", "unlocked", "disabled", "enabled"}
	var actions []string
	for i, h := range got.History {
		actions = append(actions, h.Action)
		if h.IAMID != me.IAMID || !h.Timestamp.Equal(epoch.Add(time.Duration(i)*time.Minute)) {
			t.Errorf("history[%d] = %+v", i, h)
		}
	}
	if !slices.Equal(actions, want) {
		t.Errorf("history actions %v, want %v", actions, want)
	}
	if plain, _ := admin.GetAPIKey(t.Context(), k.ID, false, false); plain.History != nil {
		t.Errorf("history without include_history: %+v", plain.History)
	}
}

// A Reader-capped key reads and never writes (SPEC §5.2).
func TestReaderCappedKey(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	rk := mustCreateKey(t, admin, client.CreateAPIKey{Name: "reader", Role: "Reader"})
	if rk.Role != "Reader" {
		t.Fatalf("role %q", rk.Role)
	}
	victim := mustCreateKey(t, admin, client.CreateAPIKey{Name: "victim"})
	reader := s.as(t, rk.APIKey, client.TokenOptions{})

	me, err := reader.Me(t.Context())
	if err != nil || !slices.Equal(me.Roles, []client.RoleAt{{Scope: "account", Role: "Reader"}}) {
		t.Fatalf("me: %+v, %v", me, err)
	}
	if _, err := reader.ListAPIKeys(t.Context(), client.ListAPIKeysOptions{}); err != nil {
		t.Errorf("list: %v", err)
	}
	if _, err := reader.GetAPIKey(t.Context(), victim.ID, true, true); err != nil {
		t.Errorf("get: %v", err)
	}
	if _, err := reader.GetAPIKeyDetails(t.Context(), victim.APIKey); err != nil {
		t.Errorf("details: %v", err)
	}

	name := "pwned"
	writes := map[string]func() error{
		"create": func() error { _, err := reader.CreateAPIKey(t.Context(), client.CreateAPIKey{Name: "x"}); return err },
		"create-reader": func() error {
			_, err := reader.CreateAPIKey(t.Context(), client.CreateAPIKey{Name: "x", Role: "Reader"})
			return err
		},
		"update": func() error {
			_, err := reader.UpdateAPIKey(t.Context(), victim.ID, "*", client.UpdateAPIKey{Name: &name})
			return err
		},
		"delete":         func() error { return reader.DeleteAPIKey(t.Context(), victim.ID) },
		"delete-own-key": func() error { return reader.DeleteAPIKey(t.Context(), rk.ID) },
		"lock":           func() error { return reader.LockAPIKey(t.Context(), victim.ID, true) },
		"unlock":         func() error { return reader.LockAPIKey(t.Context(), victim.ID, false) },
		"disable":        func() error { return reader.DisableAPIKey(t.Context(), victim.ID, true) },
		"enable":         func() error { return reader.DisableAPIKey(t.Context(), victim.ID, false) },
		"rotate":         func() error { _, err := reader.RotateAPIKey(t.Context(), victim.ID, "1h"); return err },
		"report-leaked":  func() error { _, err := reader.ReportLeakedAPIKeys(t.Context(), []string{victim.APIKey}); return err },
		"rotate-signing": func() error { _, err := reader.RotateSigningKey(t.Context(), false); return err },
	}
	before := listAll(t, admin, client.ListAPIKeysOptions{Scope: "account", IncludeHistory: true})
	for name, write := range writes {
		t.Run("fail/reader-key-cannot-"+name, func(t *testing.T) {
			wantErr(t, write(), http.StatusForbidden, "forbidden")
		})
	}
	if after := listAll(t, admin, client.ListAPIKeysOptions{Scope: "account", IncludeHistory: true}); !keysEqual(before, after) {
		t.Errorf("refused writes changed the keys")
	}
	t.Run("fail/reader-key-cannot-mint-writer-token", func(t *testing.T) {
		_, err := s.client().IAMToken(t.Context(), rk.APIKey, client.TokenOptions{Role: "Writer"})
		wantErr(t, err, http.StatusBadRequest, "BXNIM0107E")
	})
}

// keysEqual compares two listings field by field.
func keysEqual(a, b []client.APIKey) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// Nobody creates a key above their own effective role (SPEC §5.2).
func TestNoEscalation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	writer := s.as(t, s.admin.APIKey, client.TokenOptions{Role: "Writer"})
	for _, role := range []string{"Administrator", "Manager"} {
		t.Run("fail/writer-token-creates-"+role, func(t *testing.T) {
			_, err := writer.CreateAPIKey(t.Context(), client.CreateAPIKey{Name: "x", Role: role})
			wantErr(t, err, http.StatusForbidden, "forbidden")
		})
	}
	t.Run("ok/writer-token-creates-writer", func(t *testing.T) {
		k := mustCreateKey(t, writer, client.CreateAPIKey{Name: "w", Role: "Writer"})
		if k.Role != "Writer" {
			t.Errorf("role %q", k.Role)
		}
	})
	t.Run("ok/writer-token-key-is-capped-at-writer", func(t *testing.T) {
		k := mustCreateKey(t, writer, client.CreateAPIKey{Name: "implicit"})
		if k.Role != "Writer" {
			t.Errorf("a key created by a Writer token has role %q, want the cap Writer", k.Role)
		}
		_, err := s.client().IAMToken(t.Context(), k.APIKey, client.TokenOptions{Role: "Administrator"})
		wantErr(t, err, http.StatusBadRequest, "BXNIM0107E")
		c := s.as(t, k.APIKey, client.TokenOptions{})
		_, err = c.RotateSigningKey(t.Context(), false)
		wantErr(t, err, http.StatusForbidden, "forbidden")
	})
	t.Run("fail/writer-token-rotates-uncapped-key", func(t *testing.T) {
		k := mustCreateKey(t, s.asAdmin(t), client.CreateAPIKey{Name: "uncapped"})
		_, err := writer.RotateAPIKey(t.Context(), k.ID, "1h")
		wantErr(t, err, http.StatusForbidden, "forbidden")
	})
	t.Run("fail/writer-token-lists-account", func(t *testing.T) {
		_, err := writer.ListAPIKeys(t.Context(), client.ListAPIKeysOptions{Scope: "account"})
		wantErr(t, err, http.StatusForbidden, "forbidden")
	})
}

// 64 concurrent creations over HTTP: all 201, no 5xx, no lock errors (SPEC §12).
func TestConcurrentKeyCreation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	const n = 64
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		ids      = map[string]bool{}
		vals     = map[string]bool{}
		failures []string
	)
	for i := range n {
		wg.Go(func() {
			r, err := s.send(t.Context(), req{method: "POST", path: "/v1/apikeys", token: tok, ctype: "application/json",
				body: fmt.Sprintf(`{"name":"c-%02d"}`, i)})
			var k client.APIKey
			if err == nil && r.status == http.StatusCreated {
				err = json.Unmarshal(r.body, &k)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				failures = append(failures, err.Error())
			case r.status != http.StatusCreated:
				failures = append(failures, fmt.Sprintf("%d %s", r.status, r.body))
			default:
				ids[k.ID], vals[k.APIKey] = true, true
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d creations failed, first: %s", len(failures), n, failures[0])
	}
	if len(ids) != n || len(vals) != n {
		t.Fatalf("%d distinct ids and %d distinct values, want %d", len(ids), len(vals), n)
	}
	all := listAll(t, admin, client.ListAPIKeysOptions{PageSize: 100})
	if len(all) != n+1 {
		t.Errorf("listing has %d keys, want %d", len(all), n+1)
	}
	for _, k := range all {
		if k.Name != "admin" && !ids[k.ID] {
			t.Errorf("unexpected key %s", k.ID)
		}
	}
	// Every value works, and the metrics saw no 5xx.
	for v := range vals {
		mustToken(t, s, v, client.TokenOptions{})
	}
	if m := s.do(t, req{method: "GET", path: "/metrics"}); strings.Contains(string(m.body), `code="5`) {
		t.Errorf("metrics report a 5xx")
	}
	// The harness checks the log for "database is locked" when the test ends.
}
