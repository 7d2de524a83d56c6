package e2e_test

import (
	"bytes"
	"net/http"
	"slices"
	"testing"

	"gatehouse/client"
)

// Product lifecycle (SPEC §7): deprecated products keep their subscriptions
// and take no new ones; retired ones are not served; publishing again brings
// them back; a new version lives alongside.
func TestProductLifecycle(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	ctx := t.Context()
	mgr := newUser(t, p.s, p.admin, uniq("manager"), grant{"Manager", p.org})
	c := p.newConsumer(t, "sb", weatherProduct, "default")
	weather := "/" + p.org + "/sb/weather/current?city=Oslo"
	pets := "/" + p.org + "/sb/petstore/pets?client_id=" + c.id
	wantFrom(t, p.call(t, c, weather), p.weather)

	t.Run("ok/deprecated-keeps-subscriptions", func(t *testing.T) {
		pub, err := mgr.C.SetPublicationState(ctx, p.org, "sb", weatherProduct, client.StateDeprecated)
		if err != nil || pub.State != client.StateDeprecated {
			t.Fatalf("deprecate: %+v, %v", pub, err)
		}
		wantFrom(t, p.call(t, c, weather), p.weather)
		wantFrom(t, p.call(t, c, pets), p.pets)
		late := p.newConsumer(t, "sb", "", "")
		_, err = p.admin.Subscribe(ctx, late.ref, weatherProduct, "default")
		wantErr(t, err, http.StatusConflict, "conflict")
		wantGWError(t, p.call(t, late, weather), http.StatusUnauthorized, "Client id not subscribed.")
		dep, err := p.admin.ListPublications(ctx, p.org, "sb", client.StateDeprecated)
		if err != nil || len(dep) != 1 || dep[0].Name+":"+dep[0].Version != weatherProduct {
			t.Errorf("deprecated publications %+v, %v", dep, err)
		}
	})

	t.Run("ok/retired-is-not-served", func(t *testing.T) {
		pub, err := mgr.C.SetPublicationState(ctx, p.org, "sb", weatherProduct, client.StateRetired)
		if err != nil || pub.State != client.StateRetired {
			t.Fatalf("retire: %+v, %v", pub, err)
		}
		wantGWError(t, p.call(t, c, weather), http.StatusNotFound, "No resources match requested URI")
		wantGWError(t, p.call(t, c, pets), http.StatusNotFound, "No resources match requested URI")
		// Another product of the catalog is untouched.
		wantFrom(t, p.s.gw(t, gwReq{path: "/" + p.org + "/sb/status/health"}), p.status)
		// Only publishing again brings it back.
		_, err = mgr.C.SetPublicationState(ctx, p.org, "sb", weatherProduct, client.StatePublished)
		wantErr(t, err, http.StatusConflict, "conflict")
		_, err = mgr.C.SetPublicationState(ctx, p.org, "sb", weatherProduct, "gone")
		wantErr(t, err, http.StatusBadRequest, "validation_failed")
	})

	t.Run("ok/republished-routes-again", func(t *testing.T) {
		mustPublish(t, mgr.C, p.org, "sb", weatherProduct)
		wantFrom(t, p.call(t, c, weather), p.weather) // the old subscription works again
		wantFrom(t, p.call(t, c, pets), p.pets)
	})

	t.Run("ok/new-version-alongside", func(t *testing.T) {
		doc := exampleDoc(t, "weather-product.yaml", "  version: 1.0.0\n", "  version: 2.0.0\n")
		d := mustCreateProduct(t, p.admin, p.org, doc, client.ContentTypeYAML)
		if d.Ref() != "weather-product:2.0.0" {
			t.Fatalf("product %s", d.Ref())
		}
		mustPublish(t, mgr.C, p.org, "sb", "weather-product:2.0.0")
		pubs, err := p.admin.ListPublications(ctx, p.org, "sb")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, pub := range pubs {
			got = append(got, pub.Name+":"+pub.Version+" "+pub.State)
		}
		slices.Sort(got)
		want := []string{"status-product:1.0.0 published", "weather-product:1.0.0 published", "weather-product:2.0.0 published"}
		if !slices.Equal(got, want) {
			t.Errorf("publications %q, want %q", got, want)
		}
		v2 := p.newConsumer(t, "sb", "weather-product:2.0.0", "default")
		wantFrom(t, p.call(t, v2, weather), p.weather)
		wantFrom(t, p.call(t, c, weather), p.weather)
		// Each version counts its own subscriptions' limits.
		wantLimits(t, p.call(t, v2, weather), map[string]int64{"default": 100}, map[string]int64{"default": 98})
		// Retiring 1.0.0 leaves 2.0.0 serving the same API.
		if _, err := mgr.C.SetPublicationState(ctx, p.org, "sb", weatherProduct, client.StateRetired); err != nil {
			t.Fatal(err)
		}
		wantFrom(t, p.call(t, v2, weather), p.weather)
		wantGWError(t, p.call(t, c, weather), http.StatusUnauthorized, "Client id not subscribed.")
	})
}

// Publishing snapshots the product and its APIs: later edits to the drafts
// change nothing live until republished.
func TestPublishedSnapshotIgnoresDraftEdits(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	ctx := t.Context()
	c := p.newConsumer(t, "sb", weatherProduct, "default")
	path := "/" + p.org + "/sb/weather/current?city=Oslo"
	moved := newBackend(t, "weather-moved")

	doc, err := p.admin.GetAPI(ctx, p.org, "weather:1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc.Body, p.weatherDoc(t)) || doc.ContentType != client.ContentTypeYAML || doc.EntityTag == "" {
		t.Fatalf("GET weather: %s, ETag %q, the document as imported?\n%s", doc.ContentType, doc.EntityTag, doc.Body)
	}
	edited := bytes.ReplaceAll(doc.Body, []byte(p.weather.URL), []byte(moved.URL))
	_, err = p.admin.ReplaceAPI(ctx, p.org, "weather:1.0.0", "", edited, client.ContentTypeYAML)
	wantErr(t, err, http.StatusPreconditionRequired, "precondition_required")
	_, err = p.admin.ReplaceAPI(ctx, p.org, "weather:1.0.0", `"stale"`, edited, client.ContentTypeYAML)
	wantErr(t, err, http.StatusPreconditionFailed, "precondition_failed")
	if _, err := p.admin.ReplaceAPI(ctx, p.org, "weather:1.0.0", doc.EntityTag, edited, client.ContentTypeYAML); err != nil {
		t.Fatalf("replace weather: %v", err)
	}
	if now, err := p.admin.GetAPI(ctx, p.org, "weather:1.0.0"); err != nil || !bytes.Equal(now.Body, edited) || now.EntityTag == doc.EntityTag {
		t.Fatalf("the draft is not the edited document (ETag %q → %q): %v", doc.EntityTag, now.EntityTag, err)
	}

	wantFrom(t, p.call(t, c, path), p.weather)
	if moved.count() != 0 {
		t.Fatal("a draft edit reached the gateway before republishing")
	}
	mustPublish(t, p.admin, p.org, "sb", weatherProduct)
	wantFrom(t, p.call(t, c, path), moved)
	if got := moved.last(t); got.Path != "/v2/current" || got.RawQuery != "city=Oslo" {
		t.Errorf("moved backend got %s?%s", got.Path, got.RawQuery)
	}
	// The subscription and its counts survive the republish.
	wantLimits(t, p.call(t, c, path), map[string]int64{"default": 100}, map[string]int64{"default": 97})
}
