package e2e_test

import (
	"net/http"
	"testing"

	"gatehouse/client"
)

// auditOf returns the audit entry of a request, found by its request id among
// the entries of actor and action (written before the response left).
func auditOf(t *testing.T, admin *client.Client, actor, action, requestID string) client.AuditEntry {
	t.Helper()
	for _, e := range allAudit(t, admin, client.AuditQuery{Actor: actor, Action: action}) {
		if e.RequestID == requestID {
			return e
		}
	}
	t.Fatalf("no audit entry for %s by %s with request id %s", action, actor, requestID)
	return client.AuditEntry{}
}

// No escalation (SPEC §5.2): nobody grants a policy, creates a key or mints a
// token above their own effective role; only Administrators act on other
// identities' keys. Every attempt is refused, changes nothing, and a refused
// change is in the audit log as denied.
func TestEscalationAttemptsAreRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	orgA := mustOrg(t, admin, uniq("esc-a"))
	orgB := mustOrg(t, admin, uniq("esc-b"))

	acctManager := newUser(t, s, admin, uniq("acct-manager"), grant{"Manager", ""})
	orgManager := newUser(t, s, admin, uniq("org-manager"), grant{"Manager", orgA.Name})
	writer := newUser(t, s, admin, uniq("writer"), grant{"Writer", ""})
	boss := newUser(t, s, admin, uniq("boss"), grant{"Administrator", ""})
	victim := newUser(t, s, admin, uniq("victim"), grant{"Writer", ""})
	orgAdmin := newUser(t, s, admin, uniq("org-admin"), grant{"Administrator", orgA.ID})
	svc := newServiceID(t, s, admin, uniq("svc"), grant{"Writer", orgA.Name})
	bystander := mustUser(t, admin, client.CreateUser{Username: uniq("bystander")})
	bootstrap, err := admin.Me(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	adminPolicies := allPolicies(t, admin, client.ListPoliciesOptions{Subject: bootstrap.IAMID})
	if len(adminPolicies) != 1 || adminPolicies[0].Role != "Administrator" || adminPolicies[0].Resource.Org != "" {
		t.Fatalf("bootstrap admin's policies: %+v", adminPolicies)
	}

	ctx := t.Context()
	cases := []struct {
		name    string
		actor   *identity
		c       *client.Client // default: actor.C
		action  string         // audited action of a refused change ("" for reads)
		attempt func(c *client.Client) error
		status  int
		code    string
	}{
		{"fail/account-manager-grants-self-administrator-account-wide", acctManager, nil, "policy.create", func(c *client.Client) error {
			_, err := c.CreatePolicy(ctx, client.CreatePolicy{Subject: acctManager.IAMID, Role: "Administrator"})
			return err
		}, 403, "forbidden"},
		{"fail/org-manager-grants-self-administrator-account-wide", orgManager, nil, "policy.create", func(c *client.Client) error {
			_, err := c.CreatePolicy(ctx, client.CreatePolicy{Subject: orgManager.IAMID, Role: "Administrator"})
			return err
		}, 403, "forbidden"},
		{"fail/org-manager-grants-self-administrator-in-its-org", orgManager, nil, "policy.create", func(c *client.Client) error {
			_, err := c.CreatePolicy(ctx, client.CreatePolicy{Subject: orgManager.IAMID, Role: "Administrator", Org: orgA.Name})
			return err
		}, 403, "forbidden"},
		{"fail/org-manager-grants-administrator-in-its-org", orgManager, nil, "policy.create", func(c *client.Client) error {
			_, err := c.CreatePolicy(ctx, client.CreatePolicy{Subject: bystander.IAMID, Role: "Administrator", Org: orgA.ID})
			return err
		}, 403, "forbidden"},
		{"fail/account-manager-grants-administrator-in-an-org", acctManager, nil, "policy.create", func(c *client.Client) error {
			_, err := c.CreatePolicy(ctx, client.CreatePolicy{Subject: acctManager.IAMID, Role: "Administrator", Org: orgB.Name})
			return err
		}, 403, "forbidden"},
		{"fail/account-manager-grants-account-wide-reader", acctManager, nil, "policy.create", func(c *client.Client) error {
			_, err := c.CreatePolicy(ctx, client.CreatePolicy{Subject: bystander.IAMID, Role: "Reader"})
			return err
		}, 403, "forbidden"},
		{"fail/org-manager-grants-in-an-org-it-cannot-see", orgManager, nil, "policy.create", func(c *client.Client) error {
			_, err := c.CreatePolicy(ctx, client.CreatePolicy{Subject: orgManager.IAMID, Role: "Reader", Org: orgB.Name})
			return err
		}, 404, "not_found"},
		{"fail/org-administrator-grants-account-wide", orgAdmin, nil, "policy.create", func(c *client.Client) error {
			_, err := c.CreatePolicy(ctx, client.CreatePolicy{Subject: orgAdmin.IAMID, Role: "Reader"})
			return err
		}, 403, "forbidden"},
		{"fail/writer-creates-a-manager-key", writer, nil, "apikey.create", func(c *client.Client) error {
			_, err := c.CreateAPIKey(ctx, client.CreateAPIKey{Name: "up", Role: "Manager"})
			return err
		}, 403, "forbidden"},
		{"fail/org-manager-creates-an-administrator-key", orgManager, nil, "apikey.create", func(c *client.Client) error {
			_, err := c.CreateAPIKey(ctx, client.CreateAPIKey{Name: "up", Role: "Administrator"})
			return err
		}, 403, "forbidden"},
		{"fail/writer-creates-a-key-for-another-identity", writer, nil, "apikey.create", func(c *client.Client) error {
			_, err := c.CreateAPIKey(ctx, client.CreateAPIKey{Name: "theirs", IAMID: victim.IAMID})
			return err
		}, 403, "forbidden"},
		{"fail/reader-token-of-administrator-creates-a-key", boss, s.as(t, boss.Key.APIKey, client.TokenOptions{Role: "Reader"}), "apikey.create", func(c *client.Client) error {
			_, err := c.CreateAPIKey(ctx, client.CreateAPIKey{Name: "uncapped"})
			return err
		}, 403, "forbidden"},
		{"fail/writer-token-of-administrator-creates-an-administrator-key", boss, s.as(t, boss.Key.APIKey, client.TokenOptions{Role: "Writer"}), "apikey.create", func(c *client.Client) error {
			_, err := c.CreateAPIKey(ctx, client.CreateAPIKey{Name: "admin", Role: "Administrator"})
			return err
		}, 403, "forbidden"},
		{"fail/writer-token-of-administrator-creates-a-user", boss, s.as(t, boss.Key.APIKey, client.TokenOptions{Role: "Writer"}), "user.create", func(c *client.Client) error {
			_, err := c.CreateUser(ctx, client.CreateUser{Username: uniq("sneaky")})
			return err
		}, 403, "forbidden"},
		{"fail/manager-reads-another-identitys-key", acctManager, nil, "", func(c *client.Client) error {
			_, err := c.GetAPIKey(ctx, victim.Key.ID, false, false)
			return err
		}, 404, "not_found"},
		{"fail/manager-reads-another-identitys-key-by-value", acctManager, nil, "", func(c *client.Client) error {
			_, err := c.GetAPIKeyDetails(ctx, victim.Key.APIKey)
			return err
		}, 404, "not_found"},
		{"fail/manager-lists-another-identitys-keys", acctManager, nil, "", func(c *client.Client) error {
			_, err := c.ListAPIKeys(ctx, client.ListAPIKeysOptions{IAMID: victim.IAMID})
			return err
		}, 403, "forbidden"},
		{"fail/manager-updates-another-identitys-key", acctManager, nil, "apikey.update", func(c *client.Client) error {
			name := "mine now"
			_, err := c.UpdateAPIKey(ctx, victim.Key.ID, "*", client.UpdateAPIKey{Name: &name})
			return err
		}, 404, "not_found"},
		{"fail/manager-deletes-another-identitys-key", acctManager, nil, "apikey.delete", func(c *client.Client) error {
			return c.DeleteAPIKey(ctx, victim.Key.ID)
		}, 404, "not_found"},
		{"fail/manager-locks-another-identitys-key", acctManager, nil, "apikey.lock", func(c *client.Client) error {
			return c.LockAPIKey(ctx, victim.Key.ID, true)
		}, 404, "not_found"},
		{"fail/manager-disables-another-identitys-key", acctManager, nil, "apikey.disable", func(c *client.Client) error {
			return c.DisableAPIKey(ctx, victim.Key.ID, true)
		}, 404, "not_found"},
		{"fail/manager-rotates-another-identitys-key", acctManager, nil, "apikey.rotate", func(c *client.Client) error {
			_, err := c.RotateAPIKey(ctx, victim.Key.ID, "1h")
			return err
		}, 404, "not_found"},
		{"fail/manager-disables-another-user", acctManager, nil, "user.update", func(c *client.Client) error {
			off := true
			_, err := c.UpdateUser(ctx, victim.ID, "", client.UpdateUser{Disabled: &off})
			return err
		}, 403, "forbidden"},
		{"fail/manager-sets-another-users-password", acctManager, nil, "user.update", func(c *client.Client) error {
			pw := "correct horse battery staple"
			_, err := c.UpdateUser(ctx, bootstrap.ID, "", client.UpdateUser{Password: &pw})
			return err
		}, 403, "forbidden"},
		{"fail/service-id-with-org-writer-lists-users", svc, nil, "", func(c *client.Client) error {
			_, err := c.ListUsers(ctx, client.ListOptions{})
			return err
		}, 403, "forbidden"},
		{"fail/service-id-with-org-writer-creates-an-org", svc, nil, "org.create", func(c *client.Client) error {
			_, err := c.CreateOrg(ctx, uniq("rogue"), "Rogue")
			return err
		}, 403, "forbidden"},
		{"fail/service-id-with-org-writer-grants-itself-manager", svc, nil, "policy.create", func(c *client.Client) error {
			_, err := c.CreatePolicy(ctx, client.CreatePolicy{Subject: svc.IAMID, Role: "Manager", Org: orgA.Name})
			return err
		}, 403, "forbidden"},
		{"fail/org-manager-deletes-an-administrator-policy-of-its-org", orgManager, nil, "policy.delete", func(c *client.Client) error {
			return c.DeletePolicy(ctx, orgAdmin.Policies[0].ID)
		}, 403, "forbidden"},
		{"fail/account-manager-deletes-an-org-administrator-policy", acctManager, nil, "policy.delete", func(c *client.Client) error {
			return c.DeletePolicy(ctx, orgAdmin.Policies[0].ID)
		}, 403, "forbidden"},
		{"fail/account-manager-deletes-the-administrators-policy", acctManager, nil, "policy.delete", func(c *client.Client) error {
			return c.DeletePolicy(ctx, adminPolicies[0].ID) // account-wide: not even visible to a Manager
		}, 404, "not_found"},
		{"fail/writer-deletes-a-policy", writer, nil, "policy.delete", func(c *client.Client) error {
			return c.DeletePolicy(ctx, svc.Policies[0].ID)
		}, 403, "forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			if c == nil {
				c = tc.actor.C
			}
			before := state(t, s, admin)
			e := wantErr(t, tc.attempt(c), tc.status, tc.code)
			if after := state(t, s, admin); after != before {
				t.Errorf("refused, but the state changed:\nbefore %s\nafter  %s", before, after)
			}
			if tc.action != "" {
				entry := auditOf(t, admin, tc.actor.IAMID, tc.action, e.Trace)
				want := map[int]string{403: "denied", 404: "failure"}[tc.status]
				if entry.Outcome != want || entry.Actor.APIKeyID != tc.actor.Key.ID {
					t.Errorf("audit entry %+v: want outcome %s by key %s", entry, want, tc.actor.Key.ID)
				}
			}
		})
	}

	// A down-scoped token can create a key, but never one more powerful than
	// itself: without a role the key is capped at the token's role.
	t.Run("ok/writer-token-of-administrator-creates-a-key-capped-at-writer", func(t *testing.T) {
		down := s.as(t, boss.Key.APIKey, client.TokenOptions{Role: "Writer"})
		k := mustCreateKey(t, down, client.CreateAPIKey{Name: "from-a-writer-token"})
		if k.Role != "Writer" || k.IAMID != boss.IAMID {
			t.Fatalf("key made by a Writer token: role %q owner %s, want Writer and %s", k.Role, k.IAMID, boss.IAMID)
		}
		c := s.as(t, k.APIKey, client.TokenOptions{})
		me, err := c.Me(ctx)
		if err != nil || len(me.Roles) != 1 || me.Roles[0] != (client.RoleAt{Scope: "account", Role: "Writer"}) {
			t.Fatalf("/v1/me of the new key: %+v %v", me, err)
		}
		_, err = c.CreateUser(ctx, client.CreateUser{Username: uniq("nope")})
		wantErr(t, err, http.StatusForbidden, "forbidden")
		_, err = c.CreateAPIKey(ctx, client.CreateAPIKey{Name: "up", Role: "Manager"})
		wantErr(t, err, http.StatusForbidden, "forbidden")
		_, err = s.client().IAMToken(ctx, k.APIKey, client.TokenOptions{Role: "Administrator"})
		wantErr(t, err, http.StatusBadRequest, "BXNIM0107E")
	})

	// Down-scoping a token never goes above the key's cap or the identity's role.
	t.Run("fail/token-role-above-what-the-key-allows", func(t *testing.T) {
		capped := mustCreateKey(t, admin, client.CreateAPIKey{Name: "capped", IAMID: boss.IAMID, Role: "Writer"})
		for _, tc := range []struct {
			key, role string
		}{
			{capped.APIKey, "Manager"},
			{capped.APIKey, "Administrator"},
			{writer.Key.APIKey, "Manager"}, // an uncapped key of a Writer
			{orgManager.Key.APIKey, "Administrator"},
		} {
			_, err := s.client().IAMToken(ctx, tc.key, client.TokenOptions{Role: tc.role})
			wantErr(t, err, http.StatusBadRequest, "BXNIM0107E")
			_, err = s.client().V5Token(ctx, tc.key, client.TokenOptions{Role: tc.role})
			wantErr(t, err, http.StatusBadRequest, "BXNIM0107E")
		}
		// At or below the cap is fine.
		tok := mustToken(t, s, capped.APIKey, client.TokenOptions{Role: "Writer"})
		if claims := jwtPart(t, tok, 1); claims["role"] != "Writer" {
			t.Errorf("role claim %v", claims["role"])
		}
	})
}
