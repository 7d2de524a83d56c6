package e2e_test

import (
	"net/http"
	"slices"
	"testing"

	"gatehouse/client"
)

// Consumers (SPEC §7): several credentials per app for overlapping rotation,
// and every change to them effective at the gateway at once.
func TestConsumerCredentials(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	ctx := t.Context()
	c := p.newConsumer(t, "sb", weatherProduct, "default")
	path := "/" + p.org + "/sb/weather/current?city=Oslo"
	as := func(id, secret string) reply {
		return p.s.gw(t, gwReq{path: path, header: map[string]string{"X-IBM-Client-Id": id, "X-IBM-Client-Secret": secret}})
	}
	wantFrom(t, as(c.id, c.secret), p.weather)

	second, err := p.admin.AddCredential(ctx, c.ref)
	if err != nil {
		t.Fatalf("add credential: %v", err)
	}
	if second.ClientID == "" || second.ClientID == c.id || len(second.ClientSecret) < 64 {
		t.Fatalf("second credential %+v", second)
	}
	t.Run("ok/both-credentials-work", func(t *testing.T) {
		wantFrom(t, as(c.id, c.secret), p.weather)
		wantFrom(t, as(second.ClientID, second.ClientSecret), p.weather)
		// The pairs do not mix.
		wantGWError(t, as(c.id, second.ClientSecret), http.StatusUnauthorized, "Client secret not valid.")
		creds, err := p.admin.ListCredentials(ctx, c.ref)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, cr := range creds {
			ids = append(ids, cr.ClientID)
			if cr.ClientSecret != "" {
				t.Errorf("a listed credential shows its secret")
			}
		}
		want := []string{c.id, second.ClientID}
		slices.Sort(ids)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("credentials %q, want %q", ids, want)
		}
	})

	t.Run("ok/deleted-credential-stops-at-once", func(t *testing.T) {
		if err := p.admin.DeleteCredential(ctx, c.ref, c.id); err != nil {
			t.Fatal(err)
		}
		wantGWError(t, as(c.id, c.secret), http.StatusUnauthorized, "Client id not registered.")
		wantFrom(t, as(second.ClientID, second.ClientSecret), p.weather)
		err := p.admin.DeleteCredential(ctx, c.ref, c.id)
		wantErr(t, err, http.StatusNotFound, "not_found")
	})

	t.Run("ok/reset-secret-refuses-the-old-at-once", func(t *testing.T) {
		reset, err := p.admin.ResetSecret(ctx, c.ref, second.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if reset.ClientID != second.ClientID || reset.ClientSecret == "" || reset.ClientSecret == second.ClientSecret {
			t.Fatalf("reset: %+v", reset)
		}
		wantGWError(t, as(second.ClientID, second.ClientSecret), http.StatusUnauthorized, "Client secret not valid.")
		wantFrom(t, as(second.ClientID, reset.ClientSecret), p.weather)
	})

	t.Run("fail/credentials-of-another-app-are-not-found", func(t *testing.T) {
		other := p.newConsumer(t, "sb", "", "")
		_, err := p.admin.ResetSecret(ctx, other.ref, second.ClientID)
		wantErr(t, err, http.StatusNotFound, "not_found")
		wantErr(t, p.admin.DeleteCredential(ctx, other.ref, second.ClientID), http.StatusNotFound, "not_found")
	})
}

// Deleting an app or a consumer org unregisters their client ids at once;
// the flat listings follow.
func TestConsumerDeletionAndListings(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	ctx := t.Context()
	path := "/" + p.org + "/sb/weather/current?city=Oslo"
	a1 := p.newConsumer(t, "sb", weatherProduct, "default")
	a2 := p.newApp(t, "sb", a1.ref.ConsumerOrg, weatherProduct, "forecast-only")
	b1 := p.newConsumer(t, "sb", weatherProduct, "gold")
	for _, c := range []*consumer{a1, b1} {
		if got, err := p.admin.GetConsumerOrg(ctx, p.org, "sb", c.ref.ConsumerOrg); err != nil || got.Name != c.ref.ConsumerOrg {
			t.Fatalf("consumer org %s: %+v, %v", c.ref.ConsumerOrg, got, err)
		}
	}

	appIDs := func(apps []client.App) []string {
		var out []string
		for _, a := range apps {
			out = append(out, a.ID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	t.Run("ok/flat-listings", func(t *testing.T) {
		apps, _, err := p.admin.ListConsumerApps(ctx, p.org, "sb", client.PageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := appIDs(apps), sorted(a1.app.ID, a2.app.ID, b1.app.ID); !slices.Equal(got, want) {
			t.Errorf("consumerApps %q, want %q", got, want)
		}
		inA, _, err := p.admin.ListApps(ctx, p.org, "sb", a1.ref.ConsumerOrg, client.PageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := appIDs(inA), sorted(a1.app.ID, a2.app.ID); !slices.Equal(got, want) {
			t.Errorf("apps of %s %q, want %q", a1.ref.ConsumerOrg, got, want)
		}
		subs, _, err := p.admin.ListCatalogSubscriptions(ctx, p.org, "sb", client.PageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range subs {
			got = append(got, s.AppID+" "+s.Product+" "+s.Plan+" "+s.State)
		}
		slices.Sort(got)
		want := sorted(a1.app.ID+" "+weatherProduct+" default active", a2.app.ID+" "+weatherProduct+" forecast-only active", b1.app.ID+" "+weatherProduct+" gold pending")
		if !slices.Equal(got, want) {
			t.Errorf("subscriptions %q, want %q", got, want)
		}
		// Paging the flat listing with limit and Link.
		var paged []client.App
		o := client.PageOptions{Limit: 2}
		for range 10 {
			page, next, err := p.admin.ListConsumerApps(ctx, p.org, "sb", o)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > 2 {
				t.Fatalf("page of %d apps with limit 2", len(page))
			}
			paged = append(paged, page...)
			if o.After = next; next == "" {
				break
			}
		}
		if !slices.Equal(appIDs(paged), appIDs(apps)) {
			t.Errorf("paged consumerApps %q, unpaged %q", appIDs(paged), appIDs(apps))
		}
	})

	t.Run("ok/unsubscribe-stops-at-once", func(t *testing.T) {
		c := p.newApp(t, "sb", a1.ref.ConsumerOrg, weatherProduct, "default")
		wantFrom(t, p.call(t, c, path), p.weather)
		if err := p.admin.Unsubscribe(ctx, c.ref, c.sub.ID); err != nil {
			t.Fatal(err)
		}
		wantGWError(t, p.call(t, c, path), http.StatusUnauthorized, "Client id not subscribed.")
		subs, _, err := p.admin.ListSubscriptions(ctx, c.ref, client.PageOptions{})
		if err != nil || len(subs) != 0 {
			t.Errorf("subscriptions after unsubscribing: %+v, %v", subs, err)
		}
		if err := p.admin.DeleteApp(ctx, c.ref); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ok/deleted-app-is-not-registered", func(t *testing.T) {
		wantFrom(t, p.call(t, a1, path), p.weather)
		if err := p.admin.DeleteApp(ctx, a1.ref); err != nil {
			t.Fatal(err)
		}
		wantGWError(t, p.call(t, a1, path), http.StatusUnauthorized, "Client id not registered.")
		_, err := p.admin.GetApp(ctx, a1.ref)
		wantErr(t, err, http.StatusNotFound, "not_found")
		// Its sibling is untouched.
		wantFrom(t, p.call(t, a2, "/"+p.org+"/sb/weather/forecast/Oslo"), p.weather)
	})

	t.Run("ok/deleted-consumer-org-is-not-registered", func(t *testing.T) {
		if err := p.admin.DeleteConsumerOrg(ctx, p.org, "sb", a1.ref.ConsumerOrg); err != nil {
			t.Fatal(err)
		}
		wantGWError(t, p.call(t, a2, "/"+p.org+"/sb/weather/forecast/Oslo"), http.StatusUnauthorized, "Client id not registered.")
		_, err := p.admin.GetConsumerOrg(ctx, p.org, "sb", a1.ref.ConsumerOrg)
		wantErr(t, err, http.StatusNotFound, "not_found")
		apps, _, err := p.admin.ListConsumerApps(ctx, p.org, "sb", client.PageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := appIDs(apps); !slices.Equal(got, []string{b1.app.ID}) {
			t.Errorf("consumerApps after the deletions %q, want only %s", got, b1.app.ID)
		}
		subs, _, err := p.admin.ListCatalogSubscriptions(ctx, p.org, "sb", client.PageOptions{})
		if err != nil || len(subs) != 1 || subs[0].AppID != b1.app.ID {
			t.Errorf("subscriptions after the deletions: %+v, %v", subs, err)
		}
	})
}
