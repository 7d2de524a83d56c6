package e2e_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gatehouse/client"
)

var serviceIDRE = regexp.MustCompile(`^ServiceId-(` + uuidRE + `)$`)

// A service ID with its first key: the value once, a token of sub_type
// ServiceId, no access until a policy grants it (and then at once, on the
// live token's next request), If-Match on PUT, locking, and deletion that
// kills its tokens (SPEC §5.1).
func TestServiceIDLifecycle(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	ctx := t.Context()
	me, err := admin.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}

	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	r := s.do(t, req{method: "POST", path: "/v1/serviceids", token: tok, ctype: "application/json",
		body: `{"name":"ci-bot","description":"deploys","apikey":{"name":"ci-key","description":"first"}}`})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var sv client.ServiceID
	r.decode(t, &sv)
	m := serviceIDRE.FindStringSubmatch(sv.ID)
	if m == nil || sv.IAMID != "iam-ServiceId-"+m[1] || sv.AccountID != me.AccountID || sv.Name != "ci-bot" ||
		sv.Description != "deploys" || sv.Locked || sv.CreatedBy != me.IAMID || sv.EntityTag == "" ||
		sv.CRN != "crn:v1:gatehouse:public:iam-identity::a/"+me.AccountID+"::serviceid:"+sv.ID {
		t.Errorf("created service id %+v", sv)
	}
	if sv.APIKey == nil || sv.APIKey.APIKey == "" || sv.APIKey.IAMID != sv.IAMID || sv.APIKey.Name != "ci-key" {
		t.Fatalf("first key %+v", sv.APIKey)
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q on the response holding a key value", cc)
	}
	value := sv.APIKey.APIKey
	for _, path := range []string{"/v1/serviceids/" + sv.ID, "/v1/serviceids", "/v1/apikeys/" + sv.APIKey.ID, "/v1/apikeys?scope=account"} {
		r := s.do(t, req{method: "GET", path: path, token: tok})
		if r.status != http.StatusOK || strings.Contains(string(r.body), value) {
			t.Errorf("GET %s: %d, or it shows the key value again: %s", path, r.status, r.body)
		}
	}
	if l, err := admin.ListServiceIDs(ctx, client.ListOptions{}); err != nil || len(l.ServiceIDs) != 1 || l.ServiceIDs[0].ID != sv.ID || l.Limit != 20 {
		t.Errorf("list: %+v %v", l, err)
	}

	// Without any policy the service ID has no access at all: its key is
	// refused like any bad key (SPEC §2.3: an owner without access has no
	// working tokens).
	exchangeRefused(t, s, value)

	// A first policy, on an org only: now the key exchanges, and the token
	// says ServiceId.
	org := mustOrg(t, admin, "deploy-target")
	orgPol := mustPolicy(t, admin, sv.IAMID, grant{"Reader", org.Name})
	svTok := mustToken(t, s, value, client.TokenOptions{})
	claims := jwtPart(t, svTok, 1)
	if claims["sub_type"] != "ServiceId" || claims["iam_id"] != sv.IAMID || claims["sub"] != sv.IAMID || claims["apikey_id"] != sv.APIKey.ID {
		t.Errorf("claims %v", claims)
	}
	if _, ok := claims["email"]; ok {
		t.Errorf("a service ID's token has an email claim: %v", claims)
	}
	svc := s.client().WithToken(svTok)
	who, err := svc.Me(ctx)
	if err != nil || who.SubType != "ServiceId" || who.IAMID != sv.IAMID || who.ID != sv.ID || who.Name != "ci-bot" ||
		who.APIKey.ID != sv.APIKey.ID || len(who.Orgs) != 1 || who.Orgs[0].Name != org.Name ||
		len(who.Roles) != 1 || who.Roles[0] != (client.RoleAt{Scope: "org", Org: org.ID, OrgName: org.Name, Role: "Reader"}) {
		t.Errorf("/v1/me of the service id: %+v %v", who, err)
	}
	// It reads itself; nothing on the account until a policy grants it.
	if got, err := svc.GetServiceID(ctx, sv.ID); err != nil || got.ID != sv.ID {
		t.Errorf("the service id reading itself: %+v %v", got, err)
	}
	_, err = svc.ListUsers(ctx, client.ListOptions{})
	wantErr(t, err, http.StatusForbidden, "forbidden")
	_, err = svc.CreateAPIKey(ctx, client.CreateAPIKey{Name: "more"})
	wantErr(t, err, http.StatusForbidden, "forbidden")

	// The grant takes effect on the live token's next request.
	pol := mustPolicy(t, admin, sv.IAMID, grant{"Writer", ""})
	if _, err := svc.ListUsers(ctx, client.ListOptions{}); err != nil {
		t.Errorf("the live token after a Writer policy: %v", err)
	}
	second := mustCreateKey(t, svc, client.CreateAPIKey{Name: "second"})
	if second.IAMID != sv.IAMID {
		t.Errorf("a service id's own key belongs to %s", second.IAMID)
	}

	t.Run("fail/put-needs-if-match", func(t *testing.T) {
		_, err := admin.UpdateServiceID(ctx, sv.ID, "", client.UpdateServiceID{Name: ptr("renamed")})
		wantErr(t, err, http.StatusPreconditionRequired, "precondition_required")
		_, err = admin.UpdateServiceID(ctx, sv.ID, `"999"`, client.UpdateServiceID{Name: ptr("renamed")})
		wantErr(t, err, http.StatusPreconditionFailed, "precondition_failed")
	})
	t.Run("ok/put-with-the-current-tag", func(t *testing.T) {
		cur, err := admin.GetServiceID(ctx, sv.ID)
		if err != nil {
			t.Fatal(err)
		}
		u, err := admin.UpdateServiceID(ctx, sv.ID, cur.EntityTag, client.UpdateServiceID{Name: ptr("ci-bot-2"), Description: ptr("")})
		if err != nil || u.Name != "ci-bot-2" || u.Description != "" || u.EntityTag == cur.EntityTag {
			t.Fatalf("update: %+v %v", u, err)
		}
		_, err = admin.UpdateServiceID(ctx, sv.ID, cur.EntityTag, client.UpdateServiceID{Name: ptr("stale")})
		wantErr(t, err, http.StatusPreconditionFailed, "precondition_failed")
	})
	t.Run("fail/locked-cannot-change-or-go", func(t *testing.T) {
		if err := admin.LockServiceID(ctx, sv.ID, true); err != nil {
			t.Fatal(err)
		}
		if got, _ := admin.GetServiceID(ctx, sv.ID); !got.Locked {
			t.Errorf("not locked: %+v", got)
		}
		_, err := admin.UpdateServiceID(ctx, sv.ID, "*", client.UpdateServiceID{Name: ptr("x")})
		wantErr(t, err, http.StatusConflict, "entity_locked")
		wantErr(t, admin.DeleteServiceID(ctx, sv.ID), http.StatusConflict, "entity_locked")
		tokenWorks(t, s, svTok) // its keys keep working
		if err := admin.LockServiceID(ctx, sv.ID, false); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ok/delete-kills-tokens-keys-and-policies", func(t *testing.T) {
		if err := admin.DeleteServiceID(ctx, sv.ID); err != nil {
			t.Fatal(err)
		}
		tokenRefused(t, s, svTok)
		exchangeRefused(t, s, value)
		exchangeRefused(t, s, second.APIKey)
		_, err := admin.GetServiceID(ctx, sv.ID)
		wantErr(t, err, http.StatusNotFound, "not_found")
		for _, p := range []*client.Policy{pol, orgPol} {
			_, err = admin.GetPolicy(ctx, p.ID)
			wantErr(t, err, http.StatusNotFound, "not_found")
		}
		if keys := listAll(t, admin, client.ListAPIKeysOptions{IAMID: sv.IAMID}); len(keys) != 0 {
			t.Errorf("keys of the deleted service id: %+v", keys)
		}
	})
	t.Run("fail/invalid", func(t *testing.T) {
		_, err := admin.CreateServiceID(ctx, client.CreateServiceID{})
		if e := wantErr(t, err, http.StatusBadRequest, "validation_failed"); e.Target != "name" {
			t.Errorf("target %q", e.Target)
		}
		_, err = admin.CreateServiceID(ctx, client.CreateServiceID{Name: "x", APIKey: &client.CreateAPIKey{Name: "k", Role: "Owner"}})
		if e := wantErr(t, err, http.StatusBadRequest, "validation_failed"); e.Target != "apikey.role" {
			t.Errorf("target %q", e.Target)
		}
		if l := allServiceIDs(t, admin); len(l) != 0 {
			t.Errorf("refused creations left service ids: %+v", l)
		}
	})
}

// Policies (SPEC §5.1, §5.2): granting and removing take effect on the next
// request of live tokens; one policy per subject and scope; listing filters
// and visibility.
func TestPolicies(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	ctx := t.Context()
	a := mustOrg(t, admin, "alpha")
	b := mustOrg(t, admin, "bravo")
	me, err := admin.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}

	mgrA := newUser(t, s, admin, "mgr-a", grant{"Manager", a.Name})
	writerA := newUser(t, s, admin, "writer-a", grant{"Writer", a.ID})
	readerB := newUser(t, s, admin, "reader-b", grant{"Reader", b.Name})
	acctReader := newUser(t, s, admin, "acct-reader", grant{"Reader", ""})

	t.Run("ok/policy-record", func(t *testing.T) {
		p := writerA.Policies[0]
		if !strings.HasPrefix(p.ID, "Policy-") || p.Subject != writerA.IAMID || p.Role != "Writer" || p.Resource.Org != a.ID ||
			p.Resource.OrgName != "alpha" || p.Resource.AccountID != me.AccountID || p.CreatedBy != me.IAMID || !p.CreatedAt.Equal(epoch) {
			t.Errorf("policy %+v", p)
		}
		got, err := admin.GetPolicy(ctx, p.ID)
		if err != nil || *got != *p {
			t.Errorf("GET: %+v %v, want %+v", got, err, p)
		}
		acct := acctReader.Policies[0]
		if acct.Resource.Org != "" || acct.Resource.OrgName != "" {
			t.Errorf("account-wide policy %+v", acct)
		}
	})
	t.Run("fail/one-policy-per-subject-and-scope", func(t *testing.T) {
		_, err := admin.CreatePolicy(ctx, client.CreatePolicy{Subject: readerB.IAMID, Role: "Writer", Org: b.ID})
		wantErr(t, err, http.StatusConflict, "already_exists")
		_, err = admin.CreatePolicy(ctx, client.CreatePolicy{Subject: acctReader.IAMID, Role: "Reader"})
		wantErr(t, err, http.StatusConflict, "already_exists")
	})
	t.Run("fail/invalid", func(t *testing.T) {
		for _, tc := range []struct {
			in     client.CreatePolicy
			status int
			code   string
			target string
		}{
			{client.CreatePolicy{Subject: "iam-User-nobody", Role: "Reader"}, 400, "validation_failed", "subject"},
			{client.CreatePolicy{Role: "Reader"}, 400, "validation_failed", "subject"},
			{client.CreatePolicy{Subject: readerB.IAMID, Role: "Owner"}, 400, "validation_failed", "role"},
			{client.CreatePolicy{Subject: readerB.IAMID, Role: "Reader", Org: "no-such-org"}, 404, "not_found", ""},
		} {
			_, err := admin.CreatePolicy(ctx, tc.in)
			if e := wantErr(t, err, tc.status, tc.code); e.Target != tc.target {
				t.Errorf("%+v: target %q, want %q", tc.in, e.Target, tc.target)
			}
		}
	})
	t.Run("ok/list-filters", func(t *testing.T) {
		all := allPolicies(t, admin, client.ListPoliciesOptions{})
		if len(all) != 5 { // the bootstrap admin's and the four above
			t.Errorf("%d policies: %+v", len(all), all)
		}
		bySubject := allPolicies(t, admin, client.ListPoliciesOptions{Subject: readerB.IAMID})
		if len(bySubject) != 1 || bySubject[0].ID != readerB.Policies[0].ID {
			t.Errorf("subject filter: %+v", bySubject)
		}
		for _, ref := range []string{a.Name, a.ID} {
			byOrg := allPolicies(t, admin, client.ListPoliciesOptions{Org: ref})
			if want := policyIDs([]client.Policy{*mgrA.Policies[0], *writerA.Policies[0]}); !slices.Equal(policyIDs(byOrg), want) {
				t.Errorf("org=%s: %v, want %v", ref, policyIDs(byOrg), want)
			}
		}
		if both := allPolicies(t, admin, client.ListPoliciesOptions{Org: a.Name, Subject: readerB.IAMID}); len(both) != 0 {
			t.Errorf("org and subject: %+v", both)
		}
		// Paging through a filtered listing.
		l, err := admin.ListPolicies(ctx, client.ListPoliciesOptions{ListOptions: client.ListOptions{PageSize: 1}, Org: a.Name})
		if err != nil || len(l.Policies) != 1 || l.NextPageToken() == "" {
			t.Fatalf("page 1: %+v %v", l, err)
		}
		l2, err := admin.ListPolicies(ctx, client.ListPoliciesOptions{ListOptions: client.ListOptions{PageSize: 1, PageToken: l.NextPageToken()}, Org: a.Name})
		if err != nil || len(l2.Policies) != 1 || l2.Policies[0].ID == l.Policies[0].ID || l2.Offset != 1 {
			t.Fatalf("page 2: %+v %v", l2, err)
		}
	})
	t.Run("ok/visibility", func(t *testing.T) {
		// A Manager of alpha sees alpha's policies (its own among them), nobody else's.
		seen := allPolicies(t, mgrA.C, client.ListPoliciesOptions{})
		if want := policyIDs([]client.Policy{*mgrA.Policies[0], *writerA.Policies[0]}); !slices.Equal(policyIDs(seen), want) {
			t.Errorf("alpha's Manager sees %v, want %v", policyIDs(seen), want)
		}
		for _, hidden := range []*client.Policy{readerB.Policies[0], acctReader.Policies[0]} {
			_, err := mgrA.C.GetPolicy(ctx, hidden.ID)
			wantErr(t, err, http.StatusNotFound, "not_found")
		}
		_, err := mgrA.C.ListPolicies(ctx, client.ListPoliciesOptions{Org: b.Name})
		wantErr(t, err, http.StatusNotFound, "not_found")
		// A Writer sees only its own.
		if seen := allPolicies(t, writerA.C, client.ListPoliciesOptions{}); !slices.Equal(policyIDs(seen), []string{writerA.Policies[0].ID}) {
			t.Errorf("a Writer sees %v", policyIDs(seen))
		}
		// An account Reader is not a Manager of anything: its own only.
		if seen := allPolicies(t, acctReader.C, client.ListPoliciesOptions{}); !slices.Equal(policyIDs(seen), []string{acctReader.Policies[0].ID}) {
			t.Errorf("an account Reader sees %v", policyIDs(seen))
		}
	})
	t.Run("ok/org-manager-grants-and-removes-in-its-org", func(t *testing.T) {
		u := mustUser(t, admin, client.CreateUser{Username: "newcomer"})
		p, err := mgrA.C.CreatePolicy(ctx, client.CreatePolicy{Subject: u.IAMID, Role: "Manager", Org: a.Name})
		if err != nil || p.CreatedBy != mgrA.IAMID {
			t.Fatalf("grant: %+v %v", p, err)
		}
		if err := mgrA.C.DeletePolicy(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ok/removing-a-policy-takes-effect-on-the-next-request", func(t *testing.T) {
		alsoB := mustPolicy(t, admin, writerA.IAMID, grant{"Reader", b.Name})
		if _, err := writerA.C.GetOrg(ctx, a.Name); err != nil {
			t.Fatalf("before: %v", err)
		}
		k := mustCreateKey(t, writerA.C, client.CreateAPIKey{Name: "while-a-writer"})
		if err := admin.DeletePolicy(ctx, writerA.Policies[0].ID); err != nil {
			t.Fatal(err)
		}
		// The same live token: alpha is gone from its view, and as a mere
		// Reader it can no longer manage its keys.
		_, err := writerA.C.GetOrg(ctx, a.Name)
		wantErr(t, err, http.StatusNotFound, "not_found")
		if orgs := allOrgs(t, writerA.C); !slices.Equal(orgNames(orgs), []string{"bravo"}) {
			t.Errorf("orgs visible: %v, want bravo only", orgNames(orgs))
		}
		_, err = writerA.C.CreateAPIKey(ctx, client.CreateAPIKey{Name: "after"})
		wantErr(t, err, http.StatusForbidden, "forbidden")
		wantErr(t, writerA.C.DeleteAPIKey(ctx, k.ID), http.StatusForbidden, "forbidden")
		wantErr(t, admin.DeletePolicy(ctx, writerA.Policies[0].ID), http.StatusNotFound, "not_found")

		// Without any policy left, its live token stops working (SPEC §2.3).
		if err := admin.DeletePolicy(ctx, alsoB.ID); err != nil {
			t.Fatal(err)
		}
		tokenRefused(t, s, writerA.Token)
		exchangeRefused(t, s, k.APIKey)

		// Granting again works at once too.
		mustPolicy(t, admin, writerA.IAMID, grant{"Writer", a.Name})
		if _, err := writerA.C.GetOrg(ctx, a.Name); err != nil {
			t.Errorf("after granting again: %v", err)
		}
	})
}
