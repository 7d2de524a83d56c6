package httpapi

import (
	"net/http"

	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
)

type serviceIDView struct {
	ID          string      `json:"id"`
	IAMID       string      `json:"iam_id"`
	AccountID   string      `json:"account_id"`
	EntityTag   string      `json:"entity_tag"`
	CRN         string      `json:"crn"`
	Locked      bool        `json:"locked"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	CreatedBy   string      `json:"created_by"`
	CreatedAt   string      `json:"created_at"`
	ModifiedAt  string      `json:"modified_at"`
	APIKey      *apiKeyView `json:"apikey,omitempty"` // the first key, only in the create response
}

func viewServiceID(v store.ServiceID) serviceIDView {
	return serviceIDView{
		ID: v.ID, IAMID: v.IAMID, AccountID: v.AccountID, EntityTag: iam.ETag(v.Version),
		CRN:    "crn:v1:gatehouse:public:iam-identity::a/" + v.AccountID + "::serviceid:" + v.ID,
		Locked: v.Locked, Name: v.Name, Description: v.Description, CreatedBy: v.CreatedBy,
		CreatedAt: rfc3339(v.CreatedAt), ModifiedAt: rfc3339(v.ModifiedAt),
	}
}

// keyBody is the JSON of a key to create (POST /v1/apikeys, and the first
// key of POST /v1/serviceids).
type keyBody struct {
	IAMID            string       `json:"iam_id"`
	AccountID        string       `json:"account_id"`
	Name             string       `json:"name"`
	Description      string       `json:"description"`
	ExpiresAt        optionalTime `json:"expires_at"`
	Role             string       `json:"role"`
	ActionWhenLeaked string       `json:"action_when_leaked"`
	APIKey           string       `json:"apikey"`
	StoreValue       *bool        `json:"store_value"` // accepted for IAM clients; values are never stored
}

// input validates the body's own fields for p; prefix qualifies field names
// in errors ("apikey." inside a service ID).
func (b keyBody) input(p *iam.Principal, prefix string) (iam.CreateKeyInput, error) {
	if b.AccountID != "" && b.AccountID != p.AccountID() {
		return iam.CreateKeyInput{}, errs.Invalid(prefix+"account_id", "account_id must be your own account.")
	}
	exp, err := b.ExpiresAt.parse(prefix + "expires_at")
	if err != nil {
		return iam.CreateKeyInput{}, err
	}
	return iam.CreateKeyInput{
		IAMID: b.IAMID, Name: b.Name, Description: b.Description, ExpiresAt: exp.Value,
		Role: b.Role, ActionWhenLeaked: b.ActionWhenLeaked, APIKey: b.APIKey,
	}, nil
}

func (s *Server) createServiceID(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body struct {
		Name        string   `json:"name"`
		Description string   `json:"description"`
		AccountID   string   `json:"account_id"`
		APIKey      *keyBody `json:"apikey"`
	}
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	in := iam.ServiceIDInput{Name: body.Name, Description: body.Description}
	if body.APIKey != nil {
		if body.APIKey.IAMID != "" {
			return errs.Invalid("apikey.iam_id", "The first key belongs to the new service ID; leave apikey.iam_id out.")
		}
		k, err := body.APIKey.input(p, "apikey.")
		if err != nil {
			return err
		}
		in.APIKey = &k
	}
	created, err := s.iam.CreateServiceID(r.Context(), p, in)
	if err != nil {
		return err
	}
	v := viewServiceID(created.ServiceID)
	if created.Key != nil {
		kv := viewAPIKey(created.Key.Key, false, false)
		kv.APIKey = created.Key.Value
		v.APIKey = &kv
		w.Header().Set("Cache-Control", "no-store")
	}
	w.Header().Set("Location", "/v1/serviceids/"+v.ID)
	writeTagged(w, http.StatusCreated, v.EntityTag, v)
	return nil
}

func (s *Server) listServiceIDs(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	q := r.URL.Query()
	size, set, err := pageSizeParam(q)
	if err != nil {
		return err
	}
	page, err := s.iam.ListServiceIDs(r.Context(), p, size, set, q.Get("pagetoken"))
	if err != nil {
		return err
	}
	writePage(w, r, "serviceids", page, viewServiceID)
	return nil
}

func (s *Server) getServiceID(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	v, err := s.iam.GetServiceID(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeTagged(w, http.StatusOK, iam.ETag(v.Version), viewServiceID(v))
	return nil
}

func (s *Server) updateServiceID(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
	}
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	v, err := s.iam.UpdateServiceID(r.Context(), p, r.PathValue("id"), iam.ServiceIDUpdate{
		IfMatch: r.Header.Get("If-Match"), Name: body.Name, Description: body.Description,
	})
	if err != nil {
		return err
	}
	noteAudit(r, v.ID, changedFields(map[string]bool{"name": body.Name != nil, "description": body.Description != nil}))
	writeTagged(w, http.StatusOK, iam.ETag(v.Version), viewServiceID(v))
	return nil
}

func (s *Server) deleteServiceID(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	v, err := s.iam.DeleteServiceID(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	noteAudit(r, v.ID, "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// lockServiceID serves POST (lock) and DELETE (unlock) /v1/serviceids/{id}/lock.
func (s *Server) lockServiceID(locked bool) func(http.ResponseWriter, *http.Request, *iam.Principal) error {
	return func(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
		v, err := s.iam.SetServiceIDLocked(r.Context(), p, r.PathValue("id"), locked)
		if err != nil {
			return err
		}
		noteAudit(r, v.ID, "")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
