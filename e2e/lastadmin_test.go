package e2e_test

import (
	"net/http"
	"testing"

	"gatehouse/client"
)

// The account always keeps an enabled Administrator: removing the last
// account-wide Administrator policy is refused (409) — an account nobody
// administers could only be recovered by editing the database. A disabled
// Administrator does not count.
func TestTheLastAdministratorPolicyCannotBeRemoved(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	ctx := t.Context()
	me, err := admin.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mine := allPolicies(t, admin, client.ListPoliciesOptions{Subject: me.IAMID})
	if len(mine) != 1 || mine[0].Role != "Administrator" {
		t.Fatalf("bootstrap policies: %+v", mine)
	}
	wantErr(t, admin.DeletePolicy(ctx, mine[0].ID), http.StatusConflict, "conflict")

	ada := newUser(t, s, admin, uniq("ada"), grant{Role: "Administrator"})
	disabled := true
	if _, err := admin.UpdateUser(ctx, ada.ID, "", client.UpdateUser{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, admin.DeletePolicy(ctx, mine[0].ID), http.StatusConflict, "conflict")

	// A second, enabled Administrator makes the first one's policy removable.
	robot := newServiceID(t, s, admin, uniq("robot"), grant{Role: "Administrator"})
	if err := admin.DeletePolicy(ctx, mine[0].ID); err != nil {
		t.Fatalf("removing one of two Administrators: %v", err)
	}
	wantErr(t, robot.C.DeletePolicy(ctx, robot.Policies[0].ID), http.StatusConflict, "conflict")
	// A service ID never deletes itself.
	wantErr(t, robot.C.DeleteServiceID(ctx, robot.ID), http.StatusConflict, "conflict")
}
