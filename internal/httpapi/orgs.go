package httpapi

import (
	"net/http"

	"gatehouse/internal/apim"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
)

// orgView is a provider org in V5's camelCase shape.
type orgView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Title     string `json:"title"`
	CreatedBy string `json:"createdBy"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	URL       string `json:"url"`
}

func viewOrg(o store.Org) orgView {
	return orgView{
		ID: o.ID, Name: o.Name, Title: o.Title, CreatedBy: o.CreatedBy,
		CreatedAt: rfc3339(o.CreatedAt), UpdatedAt: rfc3339(o.ModifiedAt), URL: "/v1/orgs/" + o.ID,
	}
}

// envView is a catalog in V5's camelCase shape.
type envView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Title     string `json:"title"`
	OrgID     string `json:"orgID"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	URL       string `json:"url"`
}

func viewEnv(e store.Environment) envView {
	return envView{
		ID: e.ID, Name: e.Name, Title: e.Title, OrgID: e.OrgID,
		CreatedAt: rfc3339(e.CreatedAt), UpdatedAt: rfc3339(e.ModifiedAt),
		URL: "/v1/orgs/" + e.OrgID + "/environments/" + e.ID,
	}
}

type nameTitle struct {
	Name  string `json:"name"`
	Title string `json:"title"`
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body nameTitle
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	o, err := s.apim.CreateOrg(r.Context(), p, body.Name, body.Title)
	if err != nil {
		return err
	}
	noteAudit(r, o.ID, "org "+o.Name+" with catalog "+apim.SandboxName)
	w.Header().Set("Location", "/v1/orgs/"+o.ID)
	writeTagged(w, http.StatusCreated, iam.ETag(o.Version), viewOrg(o))
	return nil
}

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	q := r.URL.Query()
	limit, err := limitParam(q)
	if err != nil {
		return err
	}
	orgs, next, err := s.apim.ListOrgs(r.Context(), p, limit, q.Get("after"))
	if err != nil {
		return err
	}
	writeArray(w, r, orgs, limit, next, viewOrg)
	return nil
}

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	o, err := s.apim.Org(r.Context(), p, r.PathValue("org"))
	if err != nil {
		return err
	}
	writeTagged(w, http.StatusOK, iam.ETag(o.Version), viewOrg(o))
	return nil
}

func (s *Server) updateOrg(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body struct {
		Name  *string `json:"name"`
		Title *string `json:"title"`
	}
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	o, err := s.apim.UpdateOrg(r.Context(), p, r.PathValue("org"), apim.OrgUpdate{IfMatch: r.Header.Get("If-Match"), Name: body.Name, Title: body.Title})
	if err != nil {
		return err
	}
	noteAudit(r, o.ID, "")
	writeTagged(w, http.StatusOK, iam.ETag(o.Version), viewOrg(o))
	return nil
}

func (s *Server) deleteOrg(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	o, err := s.apim.DeleteOrg(r.Context(), p, r.PathValue("org"))
	if err != nil {
		return err
	}
	noteAudit(r, o.ID, "org "+o.Name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) createEnvironment(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body nameTitle
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	e, err := s.apim.CreateEnvironment(r.Context(), p, r.PathValue("org"), body.Name, body.Title)
	if err != nil {
		return err
	}
	noteAudit(r, e.ID, "catalog "+e.Name)
	w.Header().Set("Location", viewEnv(e).URL)
	writeJSON(w, http.StatusCreated, viewEnv(e))
	return nil
}

func (s *Server) listEnvironments(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	envs, err := s.apim.ListEnvironments(r.Context(), p, r.PathValue("org"))
	if err != nil {
		return err
	}
	writeArray(w, r, envs, len(envs), "", viewEnv)
	return nil
}

func (s *Server) getEnvironment(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	e, err := s.apim.Environment(r.Context(), p, r.PathValue("org"), r.PathValue("env"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewEnv(e))
	return nil
}

func (s *Server) deleteEnvironment(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	e, err := s.apim.DeleteEnvironment(r.Context(), p, r.PathValue("org"), r.PathValue("env"))
	if err != nil {
		return err
	}
	noteAudit(r, e.ID, "catalog "+e.Name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
