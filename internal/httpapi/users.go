package httpapi

import (
	"net/http"

	"gatehouse/internal/iam"
	"gatehouse/internal/store"
)

type userView struct {
	ID         string `json:"id"`
	IAMID      string `json:"iam_id"`
	AccountID  string `json:"account_id"`
	Username   string `json:"username"`
	Name       string `json:"name"`
	Email      string `json:"email,omitempty"`
	Disabled   bool   `json:"disabled"`
	Password   bool   `json:"password_set"`
	EntityTag  string `json:"entity_tag"`
	CreatedAt  string `json:"created_at"`
	ModifiedAt string `json:"modified_at"`
}

func viewUser(u store.User) userView {
	return userView{
		ID: u.ID, IAMID: u.IAMID, AccountID: u.AccountID, Username: u.Username, Name: u.Name, Email: u.Email,
		Disabled: u.Disabled, Password: u.PasswordHash != "", EntityTag: iam.ETag(u.Version),
		CreatedAt: rfc3339(u.CreatedAt), ModifiedAt: rfc3339(u.ModifiedAt),
	}
}

// writeTagged writes a record with its ETag.
func writeTagged(w http.ResponseWriter, status int, tag string, v any) {
	w.Header().Set("ETag", `"`+tag+`"`)
	writeJSON(w, status, v)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body struct {
		Username string `json:"username"`
		Name     string `json:"name"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	u, err := s.iam.CreateUser(r.Context(), p, iam.UserInput{Username: body.Username, Name: body.Name, Email: body.Email, Password: body.Password})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/users/"+u.ID)
	writeTagged(w, http.StatusCreated, iam.ETag(u.Version), viewUser(u))
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	q := r.URL.Query()
	size, set, err := pageSizeParam(q)
	if err != nil {
		return err
	}
	page, err := s.iam.ListUsers(r.Context(), p, size, set, q.Get("pagetoken"))
	if err != nil {
		return err
	}
	writePage(w, r, "users", page, viewUser)
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	u, err := s.iam.GetUser(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeTagged(w, http.StatusOK, iam.ETag(u.Version), viewUser(u))
	return nil
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body struct {
		Name     *string `json:"name"`
		Email    *string `json:"email"`
		Password *string `json:"password"`
		Disabled *bool   `json:"disabled"`
	}
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	u, err := s.iam.PatchUser(r.Context(), p, r.PathValue("id"), iam.UserPatch{
		IfMatch: r.Header.Get("If-Match"), Name: body.Name, Email: body.Email, Password: body.Password, Disabled: body.Disabled,
	})
	if err != nil {
		return err
	}
	noteAudit(r, u.ID, changedFields(map[string]bool{"name": body.Name != nil, "email": body.Email != nil, "password": body.Password != nil, "disabled": body.Disabled != nil}))
	writeTagged(w, http.StatusOK, iam.ETag(u.Version), viewUser(u))
	return nil
}

// changedFields lists which fields a change touched, for the audit message
// (names only, never values).
func changedFields(set map[string]bool) string {
	msg := ""
	for _, f := range []string{"name", "email", "password", "disabled", "description", "title"} {
		if set[f] {
			if msg != "" {
				msg += ","
			}
			msg += f
		}
	}
	if msg == "" {
		return ""
	}
	return "changed " + msg
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	u, err := s.iam.DeleteUser(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	noteAudit(r, u.ID, "user "+u.Username)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
