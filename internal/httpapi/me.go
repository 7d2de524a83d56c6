package httpapi

import (
	"net/http"
	"time"

	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
)

type meView struct {
	IAMID     string     `json:"iam_id"`
	ID        string     `json:"id"`
	SubType   string     `json:"sub_type"`
	Name      string     `json:"name"`
	Email     string     `json:"email,omitempty"`
	AccountID string     `json:"account_id"`
	APIKey    meKey      `json:"apikey"`
	Roles     []roleView `json:"roles"`
	Orgs      []meOrg    `json:"orgs"`
}

// meOrg is a provider org the caller can see, with the caller's role in it.
type meOrg struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Title string `json:"title"`
	Role  string `json:"role"`
}

type meKey struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type roleView struct {
	Scope   string `json:"scope"` // "account" or "org"
	Org     string `json:"org,omitempty"`
	OrgName string `json:"org_name,omitempty"`
	Role    string `json:"role"`
}

// maxMeOrgs bounds the orgs listed by /v1/me; GET /v1/orgs pages through all.
const maxMeOrgs = 1000

func (s *Server) getMe(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	v := meView{
		IAMID: p.IAMID(), ID: p.ID(), SubType: p.SubType(), Name: p.Name(), Email: p.Email(),
		AccountID: p.AccountID(), APIKey: meKey{ID: p.APIKeyID, Name: p.APIKeyName},
		Roles: []roleView{}, Orgs: []meOrg{},
	}
	if r := p.AccountRole(); r != iam.NoRole {
		v.Roles = append(v.Roles, roleView{Scope: "account", Role: r.String()})
	}
	orgs, _, err := s.apim.ListOrgs(r.Context(), p, maxMeOrgs, "")
	if err != nil {
		return err
	}
	policies := p.OrgRoles()
	for _, o := range orgs {
		role := p.OrgRole(o.ID)
		v.Orgs = append(v.Orgs, meOrg{ID: o.ID, Name: o.Name, Title: o.Title, Role: role.String()})
		if _, ok := policies[o.ID]; ok {
			v.Roles = append(v.Roles, roleView{Scope: "org", Org: o.ID, OrgName: o.Name, Role: role.String()})
		}
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) rotateSigningKey(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body struct {
		Immediate bool `json:"immediate"`
	}
	if err := decodeJSON(w, r, &body, true); err != nil {
		return err
	}
	k, err := s.keyring.Rotate(r.Context(), body.Immediate)
	if err != nil {
		return err
	}
	noteAudit(r, k.ID, map[bool]string{true: "immediate", false: "signs from " + k.ActivateAt.UTC().Format(time.RFC3339)}[body.Immediate])
	writeJSON(w, http.StatusCreated, map[string]string{
		"kid": k.ID, "algorithm": k.Algorithm, "activate_at": k.ActivateAt.UTC().Format(time.RFC3339),
	})
	return nil
}

func isUnavailable(err error) bool { return errs.From(err).Code == errs.Unavailable }
