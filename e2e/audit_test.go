package e2e_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", to tamper with the audit log

	"gatehouse/client"
	"gatehouse/internal/httpapi"
	"gatehouse/internal/iam"
)

// auditStep is one audited call: the request and what its entry must say.
type auditStep struct {
	action string
	r      req
	status int
	target func(res reply) string // nil: not checked
	rid    string                 // X-Request-Id of the response, once sent
	res    reply
}

func createdID(res reply) string { return path.Base(res.header.Get("Location")) }

// Every state change and every token exchange is in the audit log (SPEC
// §5.3) with who (iam_id and API key), what, on what, how it ended, the
// request id and the source address; never a secret. The log filters and
// pages, and only Administrators read it.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	ctx := t.Context()
	me, err := admin.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	secrets := []string{s.admin.APIKey, tok}

	// Token exchanges, good and bad, at both endpoints. Their entries are
	// written asynchronously; they are checked after a synchronous write.
	unknown, err := iam.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	malformed := s.admin.APIKey[:len(s.admin.APIKey)-1] + flip(s.admin.APIKey[len(s.admin.APIKey)-1])
	secrets = append(secrets, unknown, malformed)
	grantType := "urn:ibm:params:oauth:grant-type:apikey"
	exchanges := []struct {
		name    string
		r       req
		status  int
		outcome string
		message string
	}{
		{"iam-ok", formReq("/identity/token", url.Values{"grant_type": {grantType}, "apikey": {s.admin.APIKey}}), 200, "success", "iam"},
		{"v5-ok", formReq("/apikey", url.Values{"apikey": {s.admin.APIKey}}), 200, "success", "v5"},
		{"iam-malformed", formReq("/identity/token", url.Values{"grant_type": {grantType}, "apikey": {malformed}}), 400, "failure", "iam BXNIM0415E"},
		{"v5-unknown", formReq("/apikey", url.Values{"apikey": {unknown}}), 400, "failure", "v5 BXNIM0415E"},
		{"v5-role-too-high", formReq("/apikey", url.Values{"apikey": {s.admin.APIKey}, "role": {"Owner"}}), 400, "failure", "v5 BXNIM0107E"},
	}
	exchangeRIDs := make([]string, len(exchanges))
	for i, x := range exchanges {
		res := s.do(t, x.r)
		if res.status != x.status {
			t.Fatalf("%s: %d %s", x.name, res.status, res.body)
		}
		exchangeRIDs[i] = res.header.Get("X-Request-Id")
		var body map[string]any
		res.decode(t, &body)
		for _, k := range []string{"access_token", "jwt"} {
			if v, ok := body[k].(string); ok {
				secrets = append(secrets, v)
			}
		}
	}

	// A Reader's refused change is recorded as denied.
	reader := newUser(t, s, admin, "reader", grant{"Reader", ""})
	secrets = append(secrets, reader.Key.APIKey, reader.Token)
	_, err = reader.C.CreateUser(ctx, client.CreateUser{Username: "by-a-reader"})
	denied := wantErr(t, err, http.StatusForbidden, "forbidden")

	// One call of every audited route, by the Administrator.
	const password = "a very secret passphrase"
	const password2 = "another secret passphrase"
	secrets = append(secrets, password, password2)
	steps := map[string]*auditStep{}
	var order []string
	send := func(name, action string, r req, status int, target func(reply) string) *auditStep {
		t.Helper()
		r.token = tok
		if r.body != "" {
			r.ctype = "application/json"
		}
		st := &auditStep{action: action, r: r, status: status, target: target}
		st.res = s.do(t, r)
		if st.res.status != status {
			t.Fatalf("%s: %s %s: %d %s, want %d", name, r.method, r.path, st.res.status, st.res.body, status)
		}
		st.rid = st.res.header.Get("X-Request-Id")
		steps[name] = st
		order = append(order, name)
		return st
	}
	fixed := func(v string) func(reply) string { return func(reply) string { return v } }
	var created struct {
		ID     string `json:"id"`
		APIKey any    `json:"apikey"`
	}
	decodeCreated := func(res reply) {
		created.ID, created.APIKey = "", nil
		res.decode(t, &created)
		switch v := created.APIKey.(type) {
		case string:
			secrets = append(secrets, v)
		case map[string]any:
			secrets = append(secrets, v["apikey"].(string))
		}
	}

	user := send("user.create", "user.create", req{method: "POST", path: "/v1/users",
		body: `{"username":"audited","password":"` + password + `"}`}, 201, createdID)
	decodeCreated(user.res)
	uid := created.ID
	send("user.update", "user.update", req{method: "PATCH", path: "/v1/users/" + uid,
		body: `{"name":"Audited","password":"` + password2 + `"}`}, 200, fixed(uid))
	pol := send("policy.create", "policy.create", req{method: "POST", path: "/v1/policies",
		body: `{"subject":"iam-` + uid + `","role":"Writer"}`}, 201, createdID)
	key := send("apikey.create", "apikey.create", req{method: "POST", path: "/v1/apikeys",
		body: `{"name":"audited-key","iam_id":"iam-` + uid + `"}`}, 201, createdID)
	decodeCreated(key.res)
	kid := created.ID
	send("apikey.update", "apikey.update", req{method: "PUT", path: "/v1/apikeys/" + kid, body: `{"description":"d"}`,
		header: map[string]string{"If-Match": "*"}}, 200, fixed(kid))
	send("apikey.lock", "apikey.lock", req{method: "POST", path: "/v1/apikeys/" + kid + "/lock"}, 204, fixed(kid))
	send("apikey.unlock", "apikey.unlock", req{method: "DELETE", path: "/v1/apikeys/" + kid + "/lock"}, 204, fixed(kid))
	send("apikey.disable", "apikey.disable", req{method: "POST", path: "/v1/apikeys/" + kid + "/disable"}, 204, fixed(kid))
	send("apikey.enable", "apikey.enable", req{method: "DELETE", path: "/v1/apikeys/" + kid + "/disable"}, 204, fixed(kid))
	rot := send("apikey.rotate", "apikey.rotate", req{method: "POST", path: "/v1/apikeys/" + kid + "/rotate", body: `{"grace":"1h"}`}, 201, nil)
	decodeCreated(rot.res)
	newKID := created.ID
	leakedValue := secrets[len(secrets)-1]
	send("apikey.report_leaked", "apikey.report_leaked", req{method: "POST", path: "/v1/apikeys/leaked",
		body: `{"apikeys":["` + leakedValue + `"]}`}, 200, nil)
	send("apikey.delete", "apikey.delete", req{method: "DELETE", path: "/v1/apikeys/" + newKID}, 204, fixed(newKID))
	sid := send("serviceid.create", "serviceid.create", req{method: "POST", path: "/v1/serviceids",
		body: `{"name":"audited-svc","apikey":{"name":"first"}}`}, 201, createdID)
	decodeCreated(sid.res)
	svID := created.ID
	send("serviceid.update", "serviceid.update", req{method: "PUT", path: "/v1/serviceids/" + svID, body: `{"description":"d"}`,
		header: map[string]string{"If-Match": "*"}}, 200, fixed(svID))
	send("serviceid.lock", "serviceid.lock", req{method: "POST", path: "/v1/serviceids/" + svID + "/lock"}, 204, fixed(svID))
	send("serviceid.unlock", "serviceid.unlock", req{method: "DELETE", path: "/v1/serviceids/" + svID + "/lock"}, 204, fixed(svID))
	send("serviceid.delete", "serviceid.delete", req{method: "DELETE", path: "/v1/serviceids/" + svID}, 204, fixed(svID))
	org := send("org.create", "org.create", req{method: "POST", path: "/v1/orgs", body: `{"name":"audited-org","title":"A"}`}, 201, createdID)
	decodeCreated(org.res)
	orgID := created.ID
	send("org.update", "org.update", req{method: "PUT", path: "/v1/orgs/audited-org", body: `{"title":"B"}`,
		header: map[string]string{"If-Match": "*"}}, 200, fixed(orgID))
	// The API Manager: drafts, publishing, consumers. Client secrets join the
	// secrets that must never be in the log.
	bodyID := func(res reply) string {
		var v struct {
			ID string `json:"id"`
		}
		res.decode(t, &v)
		return v.ID
	}
	var cred struct {
		ClientID     string `json:"clientID"`
		ClientSecret string `json:"clientSecret"`
		Credentials  *struct {
			ClientSecret string `json:"clientSecret"`
		} `json:"credentials"`
	}
	secretOf := func(res reply) {
		cred.ClientID, cred.ClientSecret, cred.Credentials = "", "", nil
		res.decode(t, &cred)
		if cred.Credentials != nil {
			cred.ClientSecret = cred.Credentials.ClientSecret
		}
		if cred.ClientSecret == "" {
			t.Fatalf("no client secret in %s", res.body)
		}
		secrets = append(secrets, cred.ClientSecret)
	}
	const (
		orgURL = "/v1/orgs/audited-org"
		sbURL  = orgURL + "/environments/sb"
		appURL = sbURL + "/consumerOrgs/audited-corg/apps/audited-app"
	)
	apiDoc, productDoc := jsonOf(matrixAPIDoc("mx")), jsonOf(matrixProductDoc("audited-product"))
	apiID := bodyID(send("api.create", "api.create", req{method: "POST", path: orgURL + "/apis", body: apiDoc}, 201, bodyID).res)
	send("api.replace", "api.replace", req{method: "PUT", path: orgURL + "/apis/mx:1.0.0", body: apiDoc,
		header: map[string]string{"If-Match": "*"}}, 200, fixed(apiID))
	productID := bodyID(send("product.create", "product.create", req{method: "POST", path: orgURL + "/products", body: productDoc}, 201, bodyID).res)
	send("product.replace", "product.replace", req{method: "PUT", path: orgURL + "/products/audited-product:1.0.0", body: productDoc,
		header: map[string]string{"If-Match": "*"}}, 200, fixed(productID))
	pubID := bodyID(send("product.publish", "product.publish", req{method: "POST", path: sbURL + "/products",
		body: `{"product":"audited-product:1.0.0"}`}, 201, bodyID).res)
	corgID := bodyID(send("consumer_org.create", "consumer_org.create", req{method: "POST", path: sbURL + "/consumerOrgs",
		body: `{"name":"audited-corg","title":"C"}`}, 201, bodyID).res)
	app := send("app.create", "app.create", req{method: "POST", path: sbURL + "/consumerOrgs/audited-corg/apps",
		body: `{"name":"audited-app"}`}, 201, bodyID)
	secretOf(app.res)
	appID := bodyID(app.res)
	clientID := func(res reply) string {
		var v struct {
			ClientID string `json:"clientID"`
		}
		res.decode(t, &v)
		return v.ClientID
	}
	cr := send("credential.create", "credential.create", req{method: "POST", path: appURL + "/credentials"}, 201, clientID)
	secretOf(cr.res)
	cid := cred.ClientID
	secretOf(send("credential.reset_secret", "credential.reset_secret", req{method: "POST", path: appURL + "/credentials/" + cid + "/reset-secret"}, 200, fixed(cid)).res)
	send("credential.delete", "credential.delete", req{method: "DELETE", path: appURL + "/credentials/" + cid}, 204, fixed(cid))
	subID := bodyID(send("subscription.create", "subscription.create", req{method: "POST", path: appURL + "/subscriptions",
		body: `{"product":"audited-product:1.0.0","plan":"gated"}`}, 201, bodyID).res)
	send("subscription.approve", "subscription.approve", req{method: "POST", path: appURL + "/subscriptions/" + subID + "/approve"}, 200, fixed(subID))
	send("subscription.delete", "subscription.delete", req{method: "DELETE", path: appURL + "/subscriptions/" + subID}, 204, fixed(subID))
	send("product.lifecycle", "product.lifecycle", req{method: "PATCH", path: sbURL + "/products/audited-product:1.0.0",
		body: `{"state":"retired"}`}, 200, fixed(pubID))
	send("app.delete", "app.delete", req{method: "DELETE", path: appURL}, 204, fixed(appID))
	send("consumer_org.delete", "consumer_org.delete", req{method: "DELETE", path: sbURL + "/consumerOrgs/audited-corg"}, 204, fixed(corgID))
	send("product.delete", "product.delete", req{method: "DELETE", path: orgURL + "/products/audited-product:1.0.0"}, 204, fixed(productID))
	send("api.delete", "api.delete", req{method: "DELETE", path: orgURL + "/apis/mx:1.0.0"}, 204, fixed(apiID))

	cat := send("catalog.create", "catalog.create", req{method: "POST", path: "/v1/orgs/audited-org/environments",
		body: `{"name":"prod","title":"Prod"}`}, 201, createdID)
	decodeCreated(cat.res)
	send("catalog.delete", "catalog.delete", req{method: "DELETE", path: "/v1/orgs/audited-org/environments/" + created.ID}, 204, fixed(created.ID))
	send("org.delete", "org.delete", req{method: "DELETE", path: "/v1/orgs/" + orgID}, 204, fixed(orgID))
	send("signing_key.rotate", "signing_key.rotate", req{method: "POST", path: "/v1/signing-keys/rotate"}, 201, nil)
	send("policy.delete", "policy.delete", req{method: "DELETE", path: "/v1/policies/" + createdID(pol.res)}, 204, fixed(createdID(pol.res)))
	send("user.delete", "user.delete", req{method: "DELETE", path: "/v1/users/" + uid}, 204, fixed(uid))
	failed := send("user.delete-missing", "user.delete", req{method: "DELETE", path: "/v1/users/User-nobody"}, 404, fixed("User-nobody"))

	all := allAudit(t, admin, client.AuditQuery{})
	byRID := map[string]client.AuditEntry{}
	for _, e := range all {
		if e.RequestID != "" {
			byRID[e.RequestID] = e
		}
	}

	t.Run("ok/every-change-is-recorded", func(t *testing.T) {
		for _, name := range order {
			st := steps[name]
			e, ok := byRID[st.rid]
			if !ok {
				t.Errorf("%s: no entry with request_id %s", name, st.rid)
				continue
			}
			want := "success"
			if st.status >= 400 {
				want = "failure"
			}
			if e.Action != st.action || e.Outcome != want || e.Actor.IAMID != me.IAMID || e.Actor.APIKeyID != me.APIKey.ID ||
				e.SourceIP != "127.0.0.1" || !e.Time.Equal(epoch) || e.Hash == "" {
				t.Errorf("%s: entry %+v", name, e)
			}
			if st.target != nil && e.Target != st.target(st.res) {
				t.Errorf("%s: target %q, want %q", name, e.Target, st.target(st.res))
			}
		}
		if e := byRID[steps["apikey.rotate"].rid]; e.Target != kid && e.Target != newKID {
			t.Errorf("rotation's target %q, want the old or the new key", e.Target)
		}
		if e := byRID[steps["user.update"].rid]; !strings.Contains(e.Message, "password") {
			t.Errorf("a password change is not named in the entry: %+v", e)
		}
		if e := byRID[failed.rid]; !strings.Contains(e.Message, "not_found") {
			t.Errorf("a failed change without its reason: %+v", e)
		}
		// Every audited route of the table was seen succeeding.
		for _, rt := range httpapi.Table() {
			if rt.Action == "" {
				continue
			}
			if !slices.ContainsFunc(all, func(e client.AuditEntry) bool { return e.Action == rt.Action && e.Outcome == "success" }) {
				t.Errorf("%s (%s): no successful entry; this test does not call it", rt.Pattern, rt.Action)
			}
		}
	})
	t.Run("ok/every-exchange-is-recorded", func(t *testing.T) {
		for i, x := range exchanges {
			e, ok := byRID[exchangeRIDs[i]]
			if !ok {
				t.Errorf("%s: no entry with request_id %s", x.name, exchangeRIDs[i])
				continue
			}
			if e.Action != "token.exchange" || e.Outcome != x.outcome || e.Message != x.message || e.SourceIP != "127.0.0.1" {
				t.Errorf("%s: entry %+v", x.name, e)
			}
			if x.outcome == "success" && (e.Actor.IAMID != me.IAMID || e.Actor.APIKeyID != me.APIKey.ID || e.Target != me.APIKey.ID) {
				t.Errorf("%s: a successful exchange without its key and identity: %+v", x.name, e)
			}
		}
	})
	t.Run("ok/denied-attempts-are-recorded", func(t *testing.T) {
		e, ok := byRID[denied.Trace]
		if !ok || e.Action != "user.create" || e.Outcome != "denied" || e.Actor.IAMID != reader.IAMID || e.Actor.APIKeyID != reader.Key.ID {
			t.Errorf("the Reader's refused user.create: %+v (found %v)", e, ok)
		}
	})
	t.Run("ok/no-secret-in-the-log", func(t *testing.T) {
		raw, err := json.Marshal(all)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range secrets {
			if v != "" && strings.Contains(string(raw), v) {
				t.Errorf("the audit log holds a secret (%.12s…)", v)
			}
		}
		for _, v := range []string{"argon2", iam.KeyPrefix} {
			if strings.Contains(string(raw), v) {
				t.Errorf("the audit log mentions %q", v)
			}
		}
	})
	t.Run("ok/chained", func(t *testing.T) {
		for i, e := range all {
			if e.Seq != int64(i+1) || i > 0 && e.PrevHash != all[i-1].Hash {
				t.Fatalf("entry %d: seq %d prev_hash %q; previous hash %q", i, e.Seq, e.PrevHash, all[max(i-1, 0)].Hash)
			}
		}
		v, err := admin.VerifyAudit(ctx)
		if err != nil || !v.OK || v.Entries < int64(len(all)) || v.BrokenAt != 0 || v.Reason != "" || v.Head == "" {
			t.Errorf("verify: %+v %v (%d entries listed)", v, err, len(all))
		}
	})

	t.Run("ok/filters", func(t *testing.T) {
		check := func(name string, q client.AuditQuery, ok func(client.AuditEntry) bool, atLeast int) []client.AuditEntry {
			t.Helper()
			got := allAudit(t, admin, q)
			if len(got) < atLeast {
				t.Errorf("%s: %d entries, want at least %d", name, len(got), atLeast)
			}
			var want int
			for _, e := range all {
				if ok(e) {
					want++
				}
			}
			for _, e := range got {
				if !ok(e) {
					t.Errorf("%s: entry %+v does not match", name, e)
				}
			}
			if len(got) < want {
				t.Errorf("%s: %d entries, but %d of the whole log match", name, len(got), want)
			}
			return got
		}
		check("actor=iam_id", client.AuditQuery{Actor: reader.IAMID}, func(e client.AuditEntry) bool { return e.Actor.IAMID == reader.IAMID }, 1)
		check("actor=apikey", client.AuditQuery{Actor: me.APIKey.ID}, func(e client.AuditEntry) bool { return e.Actor.APIKeyID == me.APIKey.ID }, len(order))
		check("action", client.AuditQuery{Action: "user.create"}, func(e client.AuditEntry) bool { return e.Action == "user.create" }, 3)
		byTarget := check("target", client.AuditQuery{Target: uid}, func(e client.AuditEntry) bool { return e.Target == uid }, 3)
		var actions []string
		for _, e := range byTarget {
			actions = append(actions, e.Action)
		}
		if !slices.Equal(actions, []string{"user.create", "user.update", "user.delete"}) {
			t.Errorf("the life of user %s: %v", uid, actions)
		}
		check("action-and-actor", client.AuditQuery{Action: "user.create", Actor: reader.IAMID},
			func(e client.AuditEntry) bool { return e.Action == "user.create" && e.Actor.IAMID == reader.IAMID }, 1)
	})

	t.Run("ok/time-range", func(t *testing.T) {
		s.clock.Advance(time.Hour)
		later := mustOrg(t, admin, "later")
		mid := epoch.Add(30 * time.Minute)
		after := allAudit(t, admin, client.AuditQuery{Since: mid})
		if len(after) == 0 || !slices.ContainsFunc(after, func(e client.AuditEntry) bool { return e.Target == later.ID }) {
			t.Errorf("since: %+v", after)
		}
		for _, e := range after {
			if e.Time.Before(mid) {
				t.Errorf("since %s: entry of %s", mid, e.Time)
			}
		}
		before := allAudit(t, admin, client.AuditQuery{Until: mid})
		if len(before) != len(all) {
			t.Errorf("until: %d entries, want the %d of the first hour", len(before), len(all))
		}
		if got := allAudit(t, admin, client.AuditQuery{Since: epoch, Until: epoch.Add(time.Second)}); len(got) != len(all) {
			t.Errorf("since..until: %d entries, want %d", len(got), len(all))
		}
		for _, bad := range []string{"since=yesterday", "until=2031-13-01T00:00:00Z"} {
			r := s.do(t, req{method: "GET", path: "/v1/audit?" + bad, token: tok})
			if target := wantAPIError(t, r, http.StatusBadRequest, "validation_failed"); target != strings.Split(bad, "=")[0] {
				t.Errorf("%s: target %q", bad, target)
			}
		}
	})

	t.Run("ok/paging", func(t *testing.T) {
		var paged []client.AuditEntry
		q := client.AuditQuery{Limit: 3}
		for pages := 0; ; pages++ {
			p, err := admin.ListAudit(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if p.Limit != 3 || len(p.Entries) > 3 || (p.Next != "" && len(p.Entries) != 3) {
				t.Fatalf("page %d: limit %d, %d entries, next %q", pages, p.Limit, len(p.Entries), p.Next)
			}
			paged = append(paged, p.Entries...)
			if p.Next == "" {
				break
			}
			if last := p.Entries[len(p.Entries)-1].Seq; !strings.Contains(p.Next, "after="+strconv.FormatInt(last, 10)) ||
				!strings.HasPrefix(p.Next, "/v1/audit?") || !strings.Contains(p.Next, "limit=3") {
				t.Errorf("next %q after seq %d", p.Next, last)
			}
			q.After = p.NextAfter()
			if pages > 1000 {
				t.Fatal("paging never ends")
			}
		}
		whole := allAudit(t, admin, client.AuditQuery{Limit: 1000})
		if len(paged) != len(whole) {
			t.Fatalf("%d entries in pages of 3, %d in one", len(paged), len(whole))
		}
		for i := range paged {
			if paged[i] != whole[i] {
				t.Fatalf("entry %d differs: %+v vs %+v", i, paged[i], whole[i])
			}
		}
		// A filtered listing pages too.
		p, err := admin.ListAudit(ctx, client.AuditQuery{Action: "user.create", Limit: 1})
		if err != nil || len(p.Entries) != 1 || p.Next == "" || !strings.Contains(p.Next, "action=user.create") {
			t.Errorf("filtered page: %+v %v", p, err)
		}
		for _, bad := range []string{"limit=0", "limit=1001", "limit=x", "after=-1", "after=x"} {
			r := s.do(t, req{method: "GET", path: "/v1/audit?" + bad, token: tok})
			wantAPIError(t, r, http.StatusBadRequest, "validation_failed")
		}
	})

	t.Run("fail/administrators-only", func(t *testing.T) {
		manager := newUser(t, s, admin, "manager", grant{"Manager", ""})
		downScoped := s.as(t, s.admin.APIKey, client.TokenOptions{Role: "Manager"})
		for name, c := range map[string]*client.Client{"reader": reader.C, "manager": manager.C, "administrator-token-as-manager": downScoped} {
			_, err := c.ListAudit(ctx, client.AuditQuery{})
			wantErr(t, err, http.StatusForbidden, "forbidden")
			_, err = c.VerifyAudit(ctx)
			wantErr(t, err, http.StatusForbidden, "forbidden")
			_ = name
		}
	})
}

// Editing or removing an entry of the audit log in the database is detected
// by GET /v1/audit/verify, which names the first entry that does not fit.
func TestAuditTamperingIsDetected(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := startServer(t, withClock(clk))
	admin := s.asAdmin(t)
	for i := range 6 {
		mustUser(t, admin, client.CreateUser{Username: "user-" + strconv.Itoa(i)})
	}
	all := allAudit(t, admin, client.AuditQuery{})
	if len(all) < 6 {
		t.Fatalf("%d entries", len(all))
	}
	if v, err := admin.VerifyAudit(t.Context()); err != nil || !v.OK {
		t.Fatalf("verify before tampering: %+v %v", v, err)
	}
	edited, removed := all[len(all)/2], all[len(all)/2+1]
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	dbPath := s.cfg.SQLitePath()

	// tamper runs SQL on the stopped server's database, past the triggers
	// that keep the table append-only (someone with the file can drop them).
	tamper := func(stmts ...string) {
		t.Helper()
		db, err := sql.Open("sqlite", dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range stmts {
			if _, err := db.ExecContext(t.Context(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	restart := func() *server {
		t.Helper()
		return startServer(t, withDataDir(s.DataDir), withClock(clk))
	}
	verify := func(s *server) client.AuditVerification {
		t.Helper()
		v, err := s.asAdmin(t).VerifyAudit(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return *v
	}

	seq := strconv.FormatInt(edited.Seq, 10)
	tamper("DROP TRIGGER IF EXISTS audit_log_no_update",
		"UPDATE audit_log SET target = 'User-forged' WHERE seq = "+seq)
	s2 := restart()
	if v := verify(s2); v.OK || v.BrokenAt != edited.Seq || v.Reason == "" {
		t.Errorf("after editing entry %d: %+v", edited.Seq, v)
	}
	if err := s2.stop(t); err != nil {
		t.Fatal(err)
	}

	// Put the edit back, remove the next entry instead.
	tamper("DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete",
		"UPDATE audit_log SET target = '"+edited.Target+"' WHERE seq = "+seq,
		"DELETE FROM audit_log WHERE seq = "+strconv.FormatInt(removed.Seq, 10))
	s3 := restart()
	if v := verify(s3); v.OK || v.BrokenAt != removed.Seq || v.Reason == "" {
		t.Errorf("after removing entry %d: %+v", removed.Seq, v)
	}
}
