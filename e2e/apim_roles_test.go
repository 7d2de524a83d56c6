package e2e_test

import (
	"net/http"
	"testing"

	"gatehouse/client"
)

// Roles in the API Manager (SPEC §5.2): Writers draft APIs and products and
// manage consumers; only Managers publish, change lifecycles and approve;
// Readers read. (The authorization matrix checks every route for every
// principal; this is the provider's workflow in those terms.)
func TestAPIManagerRoles(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	ctx := t.Context()
	writer := newUser(t, p.s, p.admin, uniq("writer"), grant{"Writer", p.org})
	manager := newUser(t, p.s, p.admin, uniq("manager"), grant{"Manager", p.org})
	reader := newUser(t, p.s, p.admin, uniq("reader"), grant{"Reader", p.org})
	b := newBackend(t, "roles")

	// A Writer drafts an API and a product and sets a consumer up…
	mustImportAPI(t, writer.C, p.org, publicAPIDoc("roles", "/roles", b.URL, 0), client.ContentTypeYAML)
	mustCreateProduct(t, writer.C, p.org, productDoc("roles-product", "1.0.0", []string{"roles: roles:1.0.0"}, `  default: {title: D, approval: true}
`), client.ContentTypeYAML)
	corg, err := writer.C.CreateConsumerOrg(ctx, p.org, "sb", uniq("corg"), "")
	if err != nil {
		t.Fatalf("Writer creates a consumer org: %v", err)
	}
	app, err := writer.C.CreateApp(ctx, p.org, "sb", corg.Name, uniq("app"), "")
	if err != nil || app.Credentials == nil {
		t.Fatalf("Writer creates an app: %+v, %v", app, err)
	}
	ref := client.AppRef{Org: p.org, Env: "sb", ConsumerOrg: corg.Name, App: app.Name}
	if _, err := writer.C.AddCredential(ctx, ref); err != nil {
		t.Fatalf("Writer adds a credential: %v", err)
	}

	// …but cannot publish, change a lifecycle or approve.
	_, err = writer.C.Publish(ctx, p.org, "sb", "roles-product:1.0.0")
	wantErr(t, err, http.StatusForbidden, "forbidden")
	_, err = writer.C.SetPublicationState(ctx, p.org, "sb", weatherProduct, client.StateDeprecated)
	wantErr(t, err, http.StatusForbidden, "forbidden")
	_, err = writer.C.CreateEnvironment(ctx, p.org, "writers-catalog", "")
	wantErr(t, err, http.StatusForbidden, "forbidden")
	wantGWError(t, p.s.gw(t, gwReq{path: "/" + p.org + "/sb/roles/ping"}), http.StatusNotFound, "No resources match requested URI")

	// A Manager publishes; the Writer subscribes (pending), the Writer cannot
	// approve, the Manager can.
	mustPublish(t, manager.C, p.org, "sb", "roles-product:1.0.0")
	wantFrom(t, p.s.gw(t, gwReq{path: "/" + p.org + "/sb/roles/ping"}), b)
	sub := mustSubscribe(t, writer.C, ref, "weather-product:1.0.0", "gold")
	_, err = writer.C.Approve(ctx, ref, sub.ID)
	wantErr(t, err, http.StatusForbidden, "forbidden")
	if s, err := manager.C.Approve(ctx, ref, sub.ID); err != nil || s.State != client.SubscriptionActive {
		t.Fatalf("Manager approves: %+v, %v", s, err)
	}
	if _, err := manager.C.SetPublicationState(ctx, p.org, "sb", "roles-product:1.0.0", client.StateDeprecated); err != nil {
		t.Fatalf("Manager deprecates: %v", err)
	}

	// A Reader reads everything and changes nothing.
	if _, _, err := reader.C.ListAPIs(ctx, p.org, client.PageOptions{}); err != nil {
		t.Errorf("Reader lists APIs: %v", err)
	}
	if _, err := reader.C.GetAPI(ctx, p.org, "roles:1.0.0"); err != nil {
		t.Errorf("Reader reads an API: %v", err)
	}
	if _, err := reader.C.ListPublications(ctx, p.org, "sb"); err != nil {
		t.Errorf("Reader lists publications: %v", err)
	}
	if _, _, err := reader.C.ListConsumerApps(ctx, p.org, "sb", client.PageOptions{}); err != nil {
		t.Errorf("Reader lists apps: %v", err)
	}
	if _, err := reader.C.ListEvents(ctx, p.org, "sb", client.EventQuery{}); err != nil {
		t.Errorf("Reader lists events: %v", err)
	}
	if _, err := reader.C.Analytics(ctx, p.org, "sb", client.AnalyticsQuery{}); err != nil {
		t.Errorf("Reader reads analytics: %v", err)
	}
	_, err = reader.C.ImportAPI(ctx, p.org, publicAPIDoc("nope", "/nope", b.URL, 0), client.ContentTypeYAML)
	wantErr(t, err, http.StatusForbidden, "forbidden")
	_, err = reader.C.CreateConsumerOrg(ctx, p.org, "sb", uniq("corg"), "")
	wantErr(t, err, http.StatusForbidden, "forbidden")
	_, err = reader.C.ResetSecret(ctx, ref, app.Credentials.ClientID)
	wantErr(t, err, http.StatusForbidden, "forbidden")
	wantErr(t, reader.C.DeleteApp(ctx, ref), http.StatusForbidden, "forbidden")

	// Someone without a role in the org is told it does not exist.
	stranger := newUser(t, p.s, p.admin, uniq("stranger"), grant{"Manager", mustOrg(t, p.admin, uniq("elsewhere")).Name})
	_, _, err = stranger.C.ListAPIs(ctx, p.org, client.PageOptions{})
	wantErr(t, err, http.StatusNotFound, "not_found")
	_, err = stranger.C.ListEvents(ctx, p.org, "sb", client.EventQuery{})
	wantErr(t, err, http.StatusNotFound, "not_found")
}
