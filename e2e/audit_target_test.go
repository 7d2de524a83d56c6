package e2e_test

import (
	"testing"

	"gatehouse/client"
)

// An audit entry's target is the object's id, however the caller named it,
// so GET /v1/audit?target=<id> returns the object's whole history (SPEC
// §5.3), also for a user deleted by username or an org by name.
func TestAuditTargetIsTheID(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	ctx := t.Context()
	u := mustUser(t, admin, client.CreateUser{Username: "doomed"})
	if err := admin.DeleteUser(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	o := mustOrg(t, admin, "gone")
	if err := admin.DeleteOrg(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][]string{u.ID: {"user.create", "user.delete"}, o.ID: {"org.create", "org.delete"}} {
		var got []string
		for _, e := range allAudit(t, admin, client.AuditQuery{Target: id}) {
			got = append(got, e.Action)
		}
		if len(got) != len(want) || got[len(got)-1] != want[len(want)-1] {
			t.Errorf("history of %s: %v, want %v", id, got, want)
		}
	}
}
