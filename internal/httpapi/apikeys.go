package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"gatehouse/internal/config"
	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
)

// apiKeyView is an API key as IBM IAM's API Keys API shows it.
type apiKeyView struct {
	ID               string         `json:"id"`
	EntityTag        string         `json:"entity_tag"`
	CRN              string         `json:"crn"`
	Locked           bool           `json:"locked"`
	Disabled         bool           `json:"disabled"`
	CreatedAt        string         `json:"created_at"`
	CreatedBy        string         `json:"created_by"`
	ModifiedAt       string         `json:"modified_at"`
	Name             string         `json:"name"`
	Description      string         `json:"description"`
	IAMID            string         `json:"iam_id"`
	AccountID        string         `json:"account_id"`
	Role             string         `json:"role,omitempty"`
	ExpiresAt        string         `json:"expires_at,omitempty"`
	ActionWhenLeaked string         `json:"action_when_leaked"`
	Hint             string         `json:"hint"`
	APIKey           string         `json:"apikey,omitempty"` // only in the response that creates the key
	Activity         *activityView  `json:"activity,omitempty"`
	History          []historyEntry `json:"history,omitempty"`
}

type activityView struct {
	LastAuthn  string `json:"last_authn,omitempty"`
	AuthnCount int64  `json:"authn_count"`
}

type historyEntry struct {
	Timestamp string `json:"timestamp"`
	IAMID     string `json:"iam_id"`
	Action    string `json:"action"`
	Message   string `json:"message,omitempty"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func viewAPIKey(k store.APIKey, withActivity, withHistory bool) apiKeyView {
	v := apiKeyView{
		ID:               k.ID,
		EntityTag:        iam.ETag(k.Version),
		CRN:              "crn:v1:gatehouse:public:iam-identity::a/" + k.AccountID + "::apikey:" + k.ID,
		Locked:           k.Locked,
		Disabled:         k.Disabled,
		CreatedAt:        rfc3339(k.CreatedAt),
		CreatedBy:        k.CreatedBy,
		ModifiedAt:       rfc3339(k.ModifiedAt),
		Name:             k.Name,
		Description:      k.Description,
		IAMID:            k.IAMID,
		AccountID:        k.AccountID,
		Role:             k.Role,
		ExpiresAt:        rfc3339(k.ExpiresAt),
		ActionWhenLeaked: k.ActionWhenLeaked,
		Hint:             k.Hint,
	}
	if withActivity {
		v.Activity = &activityView{LastAuthn: rfc3339(k.LastAuthn), AuthnCount: k.AuthnCount}
	}
	if withHistory {
		v.History = make([]historyEntry, len(k.History))
		for i, h := range k.History {
			v.History[i] = historyEntry{Timestamp: rfc3339(h.Time), IAMID: h.IAMID, Action: h.Action, Message: h.Message}
		}
	}
	return v
}

// writeKey writes one key with its ETag.
func writeKey(w http.ResponseWriter, status int, v apiKeyView) {
	w.Header().Set("ETag", `"`+v.EntityTag+`"`)
	if v.APIKey != "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	writeJSON(w, status, v)
}

// writeCreatedKey answers 201 with a new key and its value, the one time the
// value is shown.
func writeCreatedKey(w http.ResponseWriter, created iam.CreatedKey) {
	v := viewAPIKey(created.Key, false, false)
	v.APIKey = created.Value
	w.Header().Set("Location", "/v1/apikeys/"+v.ID)
	writeKey(w, http.StatusCreated, v)
}

// optionalTime decodes a nullable RFC 3339 time field: absent leaves it,
// null or "" clears it.
type optionalTime struct {
	raw json.RawMessage
}

func (o *optionalTime) UnmarshalJSON(b []byte) error {
	o.raw = append(json.RawMessage(nil), b...)
	return nil
}

func (o optionalTime) parse(field string) (iam.OptionalTime, error) {
	if o.raw == nil {
		return iam.OptionalTime{}, nil
	}
	if bytes.Equal(o.raw, []byte("null")) {
		return iam.OptionalTime{Set: true}, nil
	}
	var s string
	if err := json.Unmarshal(o.raw, &s); err != nil {
		return iam.OptionalTime{}, errs.Invalid(field, "Field %s must be an RFC 3339 time string or null.", field)
	}
	if s == "" {
		return iam.OptionalTime{Set: true}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return iam.OptionalTime{}, errs.Invalid(field, "Field %s must be an RFC 3339 time such as 2027-01-31T12:00:00Z.", field)
	}
	return iam.OptionalTime{Set: true, Value: t.UTC()}, nil
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body keyBody
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	in, err := body.input(p, "")
	if err != nil {
		return err
	}
	created, err := s.iam.CreateAPIKey(r.Context(), p, in)
	if err != nil {
		return err
	}
	writeCreatedKey(w, created)
	return nil
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	q := r.URL.Query()
	size, sizeSet, err := pageSizeParam(q)
	if err != nil {
		return err
	}
	withActivity, err := boolParam(q, "include_activity")
	if err != nil {
		return err
	}
	withHistory, err := boolParam(q, "include_history")
	if err != nil {
		return err
	}
	page, err := s.iam.ListAPIKeys(r.Context(), p, iam.ListKeysInput{
		IAMID: q.Get("iam_id"), Scope: q.Get("scope"), PageToken: q.Get("pagetoken"),
		PageSize: size, PageSizeSet: sizeSet, Sort: q.Get("sort"), Order: q.Get("order"),
	})
	if err != nil {
		return err
	}
	writePage(w, r, "apikeys", page, func(k store.APIKey) apiKeyView { return viewAPIKey(k, withActivity, withHistory) })
	return nil
}

func boolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errs.Invalid(name, "%s must be true or false.", name)
	}
	return b, nil
}

func (s *Server) getAPIKey(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	q := r.URL.Query()
	withActivity, err := boolParam(q, "include_activity")
	if err != nil {
		return err
	}
	withHistory, err := boolParam(q, "include_history")
	if err != nil {
		return err
	}
	k, err := s.iam.GetAPIKey(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeKey(w, http.StatusOK, viewAPIKey(k, withActivity, withHistory))
	return nil
}

func (s *Server) getAPIKeyDetails(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	value := r.Header.Get("IAM-ApiKey")
	if value == "" {
		return errs.Invalid("IAM-ApiKey", "Send the key value in the IAM-ApiKey header.")
	}
	k, err := s.iam.GetAPIKeyByValue(r.Context(), p, value)
	if err != nil {
		return err
	}
	writeKey(w, http.StatusOK, viewAPIKey(k, true, false))
	return nil
}

func (s *Server) updateAPIKey(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body struct {
		Name             *string      `json:"name"`
		Description      *string      `json:"description"`
		ExpiresAt        optionalTime `json:"expires_at"`
		ActionWhenLeaked *string      `json:"action_when_leaked"`
	}
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	exp, err := body.ExpiresAt.parse("expires_at")
	if err != nil {
		return err
	}
	k, err := s.iam.UpdateAPIKey(r.Context(), p, r.PathValue("id"), iam.UpdateKeyInput{
		IfMatch: r.Header.Get("If-Match"), Name: body.Name, Description: body.Description,
		ExpiresAt: exp, ActionWhenLeaked: body.ActionWhenLeaked,
	})
	if err != nil {
		return err
	}
	writeKey(w, http.StatusOK, viewAPIKey(k, false, false))
	return nil
}

func (s *Server) deleteAPIKey(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	if err := s.iam.DeleteAPIKey(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// toggle serves the paired POST/DELETE switches (lock, disable) of keys and
// service IDs: set is the service method, on the value POST sets.
func toggle(set func(context.Context, *iam.Principal, string, bool) error, on bool) func(http.ResponseWriter, *http.Request, *iam.Principal) error {
	return func(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
		if err := set(r.Context(), p, r.PathValue("id"), on); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) rotateAPIKey(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body struct {
		Grace string `json:"grace"`
	}
	if err := decodeJSON(w, r, &body, true); err != nil {
		return err
	}
	grace := 24 * time.Hour
	if body.Grace != "" {
		var err error
		if grace, err = config.ParseDuration(body.Grace); err != nil {
			return errs.Invalid("grace", "grace must be a duration such as 24h, 90m or 7d.")
		}
	}
	created, err := s.iam.RotateAPIKey(r.Context(), p, r.PathValue("id"), grace)
	if err != nil {
		return err
	}
	writeCreatedKey(w, created)
	return nil
}

func (s *Server) reportLeaked(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body struct {
		APIKeys []string `json:"apikeys"`
	}
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	results, err := s.iam.ReportLeaked(r.Context(), p, body.APIKeys)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
	return nil
}
