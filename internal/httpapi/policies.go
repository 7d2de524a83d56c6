package httpapi

import (
	"net/http"

	"gatehouse/internal/iam"
)

type policyView struct {
	ID        string         `json:"id"`
	Subject   string         `json:"subject"`
	Role      string         `json:"role"`
	Resource  policyResource `json:"resource"`
	CreatedBy string         `json:"created_by"`
	CreatedAt string         `json:"created_at"`
}

type policyResource struct {
	AccountID string `json:"account_id"`
	Org       string `json:"org,omitempty"` // id; absent: the whole account
	OrgName   string `json:"org_name,omitempty"`
}

func viewPolicy(p iam.PolicyInfo) policyView {
	return policyView{
		ID: p.ID, Subject: p.Subject, Role: p.Role,
		Resource:  policyResource{AccountID: p.AccountID, Org: p.Org, OrgName: p.OrgName},
		CreatedBy: p.CreatedBy, CreatedAt: rfc3339(p.CreatedAt),
	}
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body struct {
		Subject  string `json:"subject"`
		Role     string `json:"role"`
		Resource *struct {
			Org string `json:"org"`
		} `json:"resource"`
	}
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	in := iam.PolicyInput{Subject: body.Subject, Role: body.Role}
	scope := "account"
	if body.Resource != nil && body.Resource.Org != "" {
		in.Org, scope = body.Resource.Org, "org "+body.Resource.Org
	}
	pol, err := s.iam.CreatePolicy(r.Context(), p, in)
	if err != nil {
		return err
	}
	noteAudit(r, pol.ID, "granted "+pol.Role+" on "+scope+" to "+pol.Subject)
	w.Header().Set("Location", "/v1/policies/"+pol.ID)
	writeJSON(w, http.StatusCreated, viewPolicy(pol))
	return nil
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	q := r.URL.Query()
	size, set, err := pageSizeParam(q)
	if err != nil {
		return err
	}
	page, err := s.iam.ListPolicies(r.Context(), p, iam.PolicyFilter{Subject: q.Get("subject"), Org: q.Get("org")}, size, set, q.Get("pagetoken"))
	if err != nil {
		return err
	}
	writePage(w, r, "policies", page, viewPolicy)
	return nil
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	pol, err := s.iam.GetPolicy(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewPolicy(pol))
	return nil
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	if err := s.iam.DeletePolicy(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
