package httpapi

import (
	"net/http"
	"sort"
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
	Orgs      []string   `json:"orgs"`
}

type meKey struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type roleView struct {
	Scope string `json:"scope"` // "account" or "org"
	Org   string `json:"org,omitempty"`
	Role  string `json:"role"`
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	v := meView{
		IAMID: p.IAMID(), ID: p.ID(), SubType: p.SubType(), Name: p.Name(), Email: p.Email(),
		AccountID: p.AccountID(), APIKey: meKey{ID: p.APIKeyID, Name: p.APIKeyName},
		Roles: []roleView{}, Orgs: []string{},
	}
	if r := p.AccountRole(); r != iam.NoRole {
		v.Roles = append(v.Roles, roleView{Scope: "account", Role: r.String()})
	}
	orgs := p.OrgRoles()
	for org, role := range orgs {
		v.Roles = append(v.Roles, roleView{Scope: "org", Org: org, Role: role.String()})
		v.Orgs = append(v.Orgs, org)
	}
	sort.Strings(v.Orgs)
	sort.Slice(v.Roles, func(i, j int) bool { return v.Roles[i].Org < v.Roles[j].Org })
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) rotateSigningKey(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	k, err := s.keyring.Rotate(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{
		"kid": k.ID, "algorithm": k.Algorithm, "activate_at": k.ActivateAt.UTC().Format(time.RFC3339),
	})
	return nil
}

func isUnavailable(err error) bool { return errs.From(err).Code == errs.Unavailable }
