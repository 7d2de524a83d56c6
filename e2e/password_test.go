package e2e_test

import (
	"net/http"
	"net/url"
	"testing"

	"gatehouse/client"
)

// A local user signs in with a password at the IAM token endpoint
// (grant_type=password, the console's sign-in): the token works on /v1 with
// the user's roles and no API key, and stops working when the user is
// disabled. Wrong passwords count towards the brute-force limit.
func TestPasswordGrant(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	name := uniq("ada")
	u := mustUser(t, admin, client.CreateUser{Username: name, Password: "correct horse battery"})
	mustPolicy(t, admin, u.IAMID, grant{Role: "Reader"})

	r := s.postForm(t, "/identity/token", url.Values{"grant_type": {"password"}, "username": {name}, "password": {"correct horse battery"}})
	if r.status != http.StatusOK {
		t.Fatalf("password grant: %d %s", r.status, r.body)
	}
	var tok client.IAMToken
	r.decode(t, &tok)
	me, err := s.client().WithToken(tok.AccessToken).Me(t.Context())
	if err != nil || me.IAMID != u.IAMID || me.APIKey.ID != "" || len(me.Roles) != 1 || me.Roles[0].Role != "Reader" {
		t.Fatalf("/v1/me with a password token: %+v, %v", me, err)
	}
	for _, bad := range []url.Values{
		{"grant_type": {"password"}, "username": {name}, "password": {"wrong horse battery"}},
		{"grant_type": {"password"}, "username": {"nobody-" + name}, "password": {"correct horse battery"}},
	} {
		wantTokenError(t, s.postForm(t, "/identity/token", bad), http.StatusBadRequest, "BXNIM0602E")
	}
	disabled := true
	if _, err := admin.UpdateUser(t.Context(), u.ID, "", client.UpdateUser{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	tokenRefused(t, s, tok.AccessToken)
	wantTokenError(t, s.postForm(t, "/identity/token", url.Values{"grant_type": {"password"}, "username": {name}, "password": {"correct horse battery"}}), http.StatusBadRequest, "BXNIM0602E")
}
