package console

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gatehouse/client"
	"gatehouse/internal/iam"
)

// secret is a value shown once, in a dialog: a new API key, a client secret.
// Nothing serves it again: the Download link is a data: URL built into this
// one response, and the page is never cached (Cache-Control: no-store).
type secret struct {
	Title        string
	Intro        string
	Items        []secretItem
	DownloadURL  template.URL // data:application/json;base64,…
	DownloadName string
	Close        string // the page the dialog's Close goes to
}

type secretItem struct {
	ID, Label, Value string
}

// keySecret is the dialog of a new key: the value, Copy, and Download of
// apikey.json (SPEC §2.2).
func keySecret(k *client.APIKey, title, closeURL string) *secret {
	file := iam.NewKeyFile(k.Name, k.Description, k.APIKey, k.ID, k.CreatedAt, k.Locked).Marshal()
	return &secret{
		Title:        title,
		Intro:        "Copy or download the API key now: it is not shown again.",
		Items:        []secretItem{{ID: "secret-apikey", Label: "API key", Value: k.APIKey}},
		DownloadURL:  template.URL("data:application/json;base64," + base64.StdEncoding.EncodeToString(file)),
		DownloadName: "apikey.json",
		Close:        closeURL,
	}
}

type keyRow struct {
	client.APIKey
	Expired bool
	Mine    bool
}

type apiKeysData struct {
	Keys       []keyRow
	Scope      string // entity or account
	IAMID      string // the identity whose keys are listed ("" = the caller)
	Next       string // the next page's URL
	Secret     *secret
	CanCreate  bool
	CanAct     bool
	Roles      []string // the role caps the caller may give a key
	NewOpen    bool     // the create form is the page (no script)
	ListURL    string
	Name, Desc string // a refused creation's input, to show again
}

func (s *Console) apiKeysData(r *http.Request, ss *session, q url.Values) (*apiKeysData, error) {
	d := &apiKeysData{Scope: q.Get("scope"), IAMID: q.Get("iam_id")}
	if d.Scope != "account" {
		d.Scope = "entity"
	}
	d.ListURL = "/console/apikeys"
	if qs := (url.Values{"iam_id": {d.IAMID}}); d.IAMID != "" {
		d.ListURL += "?" + qs.Encode()
	} else if d.Scope == "account" {
		d.ListURL += "?scope=account"
	}
	l, err := ss.c.ListAPIKeys(r.Context(), client.ListAPIKeysOptions{
		Scope: d.Scope, IAMID: d.IAMID, PageSize: 100, PageToken: q.Get("page"), IncludeActivity: true,
	})
	if err != nil {
		return nil, err
	}
	now := s.now()
	for _, k := range l.APIKeys {
		d.Keys = append(d.Keys, keyRow{APIKey: k, Expired: k.ExpiresAt != nil && !k.ExpiresAt.After(now), Mine: k.IAMID == ss.me.IAMID})
	}
	if tok := l.NextPageToken(); tok != "" {
		nq := url.Values{"page": {tok}}
		if d.IAMID != "" {
			nq.Set("iam_id", d.IAMID)
		}
		if d.Scope == "account" {
			nq.Set("scope", "account")
		}
		d.Next = "/console/apikeys?" + nq.Encode()
	}
	// Changing keys is self-service for Writers; other identities' keys are
	// the Administrator's. The API decides either way.
	d.CanAct = ss.Any("Writer")
	d.CanCreate = d.CanAct && (d.IAMID == "" || d.IAMID == ss.me.IAMID || ss.Account("Administrator"))
	for _, role := range []string{"Reader", "Writer", "Manager", "Administrator"} {
		if ss.Any(role) {
			d.Roles = append(d.Roles, role)
		}
	}
	return d, nil
}

func (s *Console) apiKeys(w http.ResponseWriter, r *http.Request, ss *session) error {
	d, err := s.apiKeysData(r, ss, r.URL.Query())
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "apikeys", &view{Title: "API keys", Section: "apikeys", S: ss, D: d})
}

// apiKeyNew is the create form as a page of its own, for browsers without
// the script (which opens the same form in a dialog).
func (s *Console) apiKeyNew(w http.ResponseWriter, r *http.Request, ss *session) error {
	d, err := s.apiKeysData(r, ss, r.URL.Query())
	if err != nil {
		return err
	}
	if !d.CanCreate {
		return &pageError{Status: http.StatusForbidden, Message: "You cannot create API keys here.", Back: d.ListURL}
	}
	d.NewOpen = true
	return s.render(w, r, http.StatusOK, "apikey_new", &view{Title: "Create an API key", Section: "apikeys", S: ss, D: d,
		Crumbs: []crumb{{"API keys", d.ListURL}}})
}

func (s *Console) apiKeyCreate(w http.ResponseWriter, r *http.Request, ss *session) error {
	iamID := strings.TrimSpace(r.PostFormValue("iam_id"))
	in := client.CreateAPIKey{
		Name:        strings.TrimSpace(r.PostFormValue("name")),
		Description: strings.TrimSpace(r.PostFormValue("description")),
		IAMID:       iamID,
		Role:        r.PostFormValue("role"),
	}
	if v := strings.TrimSpace(r.PostFormValue("expires_at")); v != "" {
		t, err := parseFormTime(v)
		if err != nil {
			return withBack(&pageError{Status: http.StatusBadRequest, Message: "Expires at must be a date and time such as 2031-12-31T23:59."}, "/console/apikeys/new")
		}
		in.ExpiresAt = &t
	}
	q := url.Values{}
	if iamID != "" {
		q.Set("iam_id", iamID)
	}
	k, err := ss.c.CreateAPIKey(r.Context(), in)
	if err != nil {
		return withBack(err, "/console/apikeys/new?"+q.Encode())
	}
	d, err := s.apiKeysData(r, ss, q)
	if err != nil {
		return err
	}
	d.Secret = keySecret(k, "API key "+k.Name+" created", d.ListURL)
	return s.render(w, r, http.StatusCreated, "apikeys", &view{Title: "API keys", Section: "apikeys", S: ss, D: d})
}

// parseFormTime reads a datetime-local value (taken as UTC) or RFC 3339.
func parseFormTime(v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Parse(time.RFC3339, v)
}

func (s *Console) apiKeyAction(w http.ResponseWriter, r *http.Request, ss *session) error {
	id, action := r.PathValue("id"), r.PathValue("action")
	back := "/console/apikeys"
	if v := r.PostFormValue("iam_id"); v != "" {
		back += "?" + url.Values{"iam_id": {v}}.Encode()
	}
	name := r.PostFormValue("name")
	if name == "" {
		name = id
	}
	ctx := r.Context()
	var err error
	switch action {
	case "lock":
		if !confirmed(r) {
			return s.confirm(w, r, ss, "Lock API key", "Lock the API key "+name+"? A locked key still signs in, but cannot be changed or deleted until it is unlocked.", "Lock", back, "name", "iam_id")
		}
		err = ss.c.LockAPIKey(ctx, id, true)
	case "unlock":
		err = ss.c.LockAPIKey(ctx, id, false)
	case "disable":
		if !confirmed(r) {
			return s.confirm(w, r, ss, "Disable API key", "Disable the API key "+name+"? It can no longer get tokens, and the tokens it already got stop working at once.", "Disable", back, "name", "iam_id")
		}
		err = ss.c.DisableAPIKey(ctx, id, true)
	case "enable":
		err = ss.c.DisableAPIKey(ctx, id, false)
	case "delete":
		if !confirmed(r) {
			return s.confirm(w, r, ss, "Delete API key", "Delete the API key "+name+"? This cannot be undone; tokens it got stop working at once.", "Delete", back, "name", "iam_id")
		}
		err = ss.c.DeleteAPIKey(ctx, id)
	case "rotate":
		if !confirmed(r) {
			return s.confirm(w, r, ss, "Rotate API key", "Rotate the API key "+name+"? A new key with the same settings is created and shown once; the old key keeps working for 24 hours.", "Rotate", back, "name", "iam_id")
		}
		k, err := ss.c.RotateAPIKey(ctx, id, "")
		if err != nil {
			return withBack(err, back)
		}
		q, _ := url.ParseQuery(strings.TrimPrefix(strings.TrimPrefix(back, "/console/apikeys"), "?"))
		d, err := s.apiKeysData(r, ss, q)
		if err != nil {
			return err
		}
		d.Secret = keySecret(k, "API key "+k.Name+" rotated", d.ListURL)
		return s.render(w, r, http.StatusCreated, "apikeys", &view{Title: "API keys", Section: "apikeys", S: ss, D: d})
	default:
		return &pageError{Status: http.StatusNotFound, Message: "There is no such action."}
	}
	if err != nil {
		return withBack(err, back)
	}
	return done(w, r, back, map[string]string{"lock": "locked", "unlock": "unlocked", "disable": "disabled", "enable": "enabled", "delete": "deleted"}[action])
}
