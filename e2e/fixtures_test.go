package e2e_test

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"gatehouse/client"
)

// nameSeq makes names unique within the test binary.
var nameSeq atomic.Int64

// uniq returns prefix-N, a fresh lowercase name (valid as a username, an org
// or a catalog name).
func uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, nameSeq.Add(1)) }

// grant is a policy to give: Role on Org (name or id; "" is the whole account).
type grant struct{ Role, Org string }

// identity is a user or service ID of the account with one API key and a
// client holding a live token of that key.
type identity struct {
	IAMID    string
	ID       string // User-… or ServiceId-…
	Username string // users only
	Key      *client.APIKey
	Token    string
	C        *client.Client
	Policies []*client.Policy
}

func mustUser(t *testing.T, admin *client.Client, in client.CreateUser) *client.User {
	t.Helper()
	u, err := admin.CreateUser(t.Context(), in)
	if err != nil {
		t.Fatalf("create user %q: %v", in.Username, err)
	}
	return u
}

func mustPolicy(t *testing.T, c *client.Client, subject string, g grant) *client.Policy {
	t.Helper()
	p, err := c.CreatePolicy(t.Context(), client.CreatePolicy{Subject: subject, Role: g.Role, Org: g.Org})
	if err != nil {
		t.Fatalf("grant %s on %q to %s: %v", g.Role, g.Org, subject, err)
	}
	return p
}

func mustOrg(t *testing.T, admin *client.Client, name string) *client.Org {
	t.Helper()
	o, err := admin.CreateOrg(t.Context(), name, "Org "+name)
	if err != nil {
		t.Fatalf("create org %q: %v", name, err)
	}
	return o
}

func mustEnv(t *testing.T, c *client.Client, org, name string) *client.Environment {
	t.Helper()
	e, err := c.CreateEnvironment(t.Context(), org, name, "Catalog "+name)
	if err != nil {
		t.Fatalf("create catalog %q in %q: %v", name, org, err)
	}
	return e
}

// newUser creates a user (no password) with the grants, an uncapped API key
// made for it by the admin, and a token of that key.
func newUser(t *testing.T, s *server, admin *client.Client, username string, grants ...grant) *identity {
	t.Helper()
	u := mustUser(t, admin, client.CreateUser{Username: username, Name: "User " + username, Email: username + "@example.com"})
	id := &identity{IAMID: u.IAMID, ID: u.ID, Username: u.Username}
	for _, g := range grants {
		id.Policies = append(id.Policies, mustPolicy(t, admin, u.IAMID, g))
	}
	id.Key = mustCreateKey(t, admin, client.CreateAPIKey{Name: username + "-key", IAMID: u.IAMID})
	id.Token = mustToken(t, s, id.Key.APIKey, client.TokenOptions{})
	id.C = s.client().WithToken(id.Token)
	return id
}

// newServiceID creates a service ID with a first key, the grants and a token.
func newServiceID(t *testing.T, s *server, admin *client.Client, name string, grants ...grant) *identity {
	t.Helper()
	v, err := admin.CreateServiceID(t.Context(), client.CreateServiceID{Name: name, APIKey: &client.CreateAPIKey{Name: name + "-key"}})
	if err != nil {
		t.Fatalf("create service id %q: %v", name, err)
	}
	if v.APIKey == nil || v.APIKey.APIKey == "" {
		t.Fatalf("service id %q: no first key value in %+v", name, v)
	}
	id := &identity{IAMID: v.IAMID, ID: v.ID, Key: v.APIKey}
	for _, g := range grants {
		id.Policies = append(id.Policies, mustPolicy(t, admin, v.IAMID, g))
	}
	id.Token = mustToken(t, s, id.Key.APIKey, client.TokenOptions{})
	id.C = s.client().WithToken(id.Token)
	return id
}

// allUsers walks every page of the user listing.
func allUsers(t *testing.T, c *client.Client) []client.User {
	t.Helper()
	var out []client.User
	o := client.ListOptions{PageSize: 100}
	for range 1000 {
		l, err := c.ListUsers(t.Context(), o)
		if err != nil {
			t.Fatalf("list users: %v", err)
		}
		out = append(out, l.Users...)
		if o.PageToken = l.NextPageToken(); o.PageToken == "" {
			return out
		}
	}
	t.Fatal("user listing never ends")
	return nil
}

func allServiceIDs(t *testing.T, c *client.Client) []client.ServiceID {
	t.Helper()
	var out []client.ServiceID
	o := client.ListOptions{PageSize: 100}
	for range 1000 {
		l, err := c.ListServiceIDs(t.Context(), o)
		if err != nil {
			t.Fatalf("list service ids: %v", err)
		}
		out = append(out, l.ServiceIDs...)
		if o.PageToken = l.NextPageToken(); o.PageToken == "" {
			return out
		}
	}
	t.Fatal("service id listing never ends")
	return nil
}

func allPolicies(t *testing.T, c *client.Client, o client.ListPoliciesOptions) []client.Policy {
	t.Helper()
	var out []client.Policy
	if o.PageSize == 0 {
		o.PageSize = 100
	}
	for range 1000 {
		l, err := c.ListPolicies(t.Context(), o)
		if err != nil {
			t.Fatalf("list policies: %v", err)
		}
		out = append(out, l.Policies...)
		if o.PageToken = l.NextPageToken(); o.PageToken == "" {
			return out
		}
	}
	t.Fatal("policy listing never ends")
	return nil
}

func allOrgs(t *testing.T, c *client.Client) []client.Org {
	t.Helper()
	var out []client.Org
	o := client.ListOrgsOptions{Limit: 1000}
	for range 1000 {
		orgs, next, err := c.ListOrgs(t.Context(), o)
		if err != nil {
			t.Fatalf("list orgs: %v", err)
		}
		out = append(out, orgs...)
		if o.After = next; next == "" {
			return out
		}
	}
	t.Fatal("org listing never ends")
	return nil
}

// orgNames lists the names of orgs.
func orgNames(orgs []client.Org) []string {
	out := make([]string, len(orgs))
	for i, o := range orgs {
		out[i] = o.Name
	}
	return out
}

// allAudit walks every page of the audit log matching q.
func allAudit(t *testing.T, admin *client.Client, q client.AuditQuery) []client.AuditEntry {
	t.Helper()
	var out []client.AuditEntry
	for range 100_000 {
		p, err := admin.ListAudit(t.Context(), q)
		if err != nil {
			t.Fatalf("list audit: %v", err)
		}
		out = append(out, p.Entries...)
		if q.After = p.NextAfter(); q.After == 0 {
			return out
		}
	}
	t.Fatal("audit listing never ends")
	return nil
}

// policyIDs lists the ids of policies, sorted.
func policyIDs(ps []client.Policy) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	slices.Sort(out)
	return out
}
