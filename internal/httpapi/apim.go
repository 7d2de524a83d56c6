package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/analytics"
	"gatehouse/internal/apim"
	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
)

// readDocument reads an API or product document: JSON or YAML by
// Content-Type, at most 5 MiB.
func readDocument(w http.ResponseWriter, r *http.Request) ([]byte, string, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	format := ""
	switch {
	case err != nil:
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		format = "json"
	case mt == "application/yaml" || mt == "application/x-yaml" || mt == "text/yaml" || mt == "text/x-yaml" || strings.HasSuffix(mt, "+yaml"):
		format = "yaml"
	}
	if format == "" {
		return nil, "", errs.E(errs.UnsupportedMedia, "Send the document as application/json or application/yaml.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, apim.MaxDocument))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "", errs.E(errs.PayloadTooLarge, "The document is larger than %d bytes.", apim.MaxDocument)
		}
		return nil, "", errs.E(errs.BadRequest, "The document could not be read.")
	}
	if len(body) == 0 {
		return nil, "", errs.E(errs.BadRequest, "The request body is empty; send the document.")
	}
	return body, format, nil
}

// draftView is a draft API or product in a listing (V5 camelCase).
type draftView struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Version   string  `json:"version"`
	Title     string  `json:"title"`
	BasePath  *string `json:"basePath,omitempty"` // APIs
	URL       string  `json:"url"`
	CreatedAt string  `json:"createdAt"`
	UpdatedAt string  `json:"updatedAt"`
}

func viewDraft(kind string) func(apim.Draft) draftView {
	coll := map[string]string{apim.KindAPI: "apis", apim.KindProduct: "products"}[kind]
	return func(d apim.Draft) draftView {
		v := draftView{
			ID: d.ID, Name: d.Name, Version: d.Version, Title: d.Title,
			URL:       "/v1/orgs/" + d.OrgID + "/" + coll + "/" + d.Name + ":" + d.Version,
			CreatedAt: rfc3339(d.CreatedAt), UpdatedAt: rfc3339(d.ModifiedAt),
		}
		if d.API != nil {
			bp := d.API.BasePath
			v.BasePath = &bp
		}
		return v
	}
}

func (s *Server) createDraft(kind string) handler {
	return func(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
		src, format, err := readDocument(w, r)
		if err != nil {
			return err
		}
		d, err := s.apim.CreateDraft(r.Context(), p, kind, r.PathValue("org"), src, format)
		if err != nil {
			return err
		}
		v := viewDraft(kind)(d)
		noteAudit(r, d.ID, kind+" "+d.Name+":"+d.Version)
		w.Header().Set("Location", v.URL)
		writeTagged(w, http.StatusCreated, iam.ETag(d.Rev), v)
		return nil
	}
}

func (s *Server) listDrafts(kind string) handler {
	return func(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
		q := r.URL.Query()
		limit, err := limitParam(q)
		if err != nil {
			return err
		}
		list, next, err := s.apim.ListDrafts(r.Context(), p, kind, r.PathValue("org"), limit, q.Get("after"))
		if err != nil {
			return err
		}
		writeArray(w, r, list, limit, next, viewDraft(kind))
		return nil
	}
}

// getDraft returns the document as it was submitted, in its own format.
func (s *Server) getDraft(kind, param string) handler {
	return func(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
		d, err := s.apim.Draft(r.Context(), p, kind, r.PathValue("org"), r.PathValue(param))
		if err != nil {
			return err
		}
		ct := "application/json"
		if d.Format == "yaml" {
			ct = "application/yaml"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("ETag", `"`+iam.ETag(d.Rev)+`"`)
		w.WriteHeader(http.StatusOK)
		w.Write(d.Source)
		return nil
	}
}

func (s *Server) replaceDraft(kind, param string) handler {
	return func(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
		src, format, err := readDocument(w, r)
		if err != nil {
			return err
		}
		d, err := s.apim.ReplaceDraft(r.Context(), p, kind, r.PathValue("org"), r.PathValue(param), r.Header.Get("If-Match"), src, format)
		if err != nil {
			return err
		}
		noteAudit(r, d.ID, kind+" "+d.Name+":"+d.Version)
		writeTagged(w, http.StatusOK, iam.ETag(d.Rev), viewDraft(kind)(d))
		return nil
	}
}

func (s *Server) deleteDraft(kind, param string) handler {
	return func(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
		d, err := s.apim.DeleteDraft(r.Context(), p, kind, r.PathValue("org"), r.PathValue(param))
		if err != nil {
			return err
		}
		noteAudit(r, d.ID, kind+" "+d.Name+":"+d.Version)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// publicationView is a published product (V5 camelCase).
type publicationView struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Version     string     `json:"version"`
	Title       string     `json:"title"`
	State       string     `json:"state"`
	Plans       []planView `json:"plans"`
	APIs        []apiRef   `json:"apis"`
	PublishedAt string     `json:"publishedAt"`
	UpdatedAt   string     `json:"updatedAt"`
	URL         string     `json:"url"`
}

type planView struct {
	Name       string      `json:"name"`
	Title      string      `json:"title"`
	Approval   bool        `json:"approval"`
	RateLimits []limitView `json:"rateLimits"`
}

type limitView struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	HardLimit bool   `json:"hardLimit"`
}

type apiRef struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	BasePath string `json:"basePath"`
}

func viewPublication(p apim.Published) publicationView {
	prod := p.Snap.Product
	v := publicationView{
		ID: p.ID, Name: prod.Name, Version: prod.Version, Title: prod.Title, State: p.State,
		Plans: []planView{}, APIs: []apiRef{}, PublishedAt: rfc3339(p.PublishedAt), UpdatedAt: rfc3339(p.ModifiedAt),
		URL: "/v1/orgs/" + p.OrgID + "/environments/" + p.EnvID + "/products/" + prod.Name + ":" + prod.Version,
	}
	for _, pl := range prod.Plans {
		pv := planView{Name: pl.Name, Title: pl.Title, Approval: pl.Approval, RateLimits: []limitView{}}
		for _, l := range pl.Limits {
			pv.RateLimits = append(pv.RateLimits, limitView{Name: l.Name, Value: l.Rate.String(), HardLimit: l.Hard})
		}
		v.Plans = append(v.Plans, pv)
	}
	sort.Slice(v.Plans, func(i, j int) bool { return v.Plans[i].Name < v.Plans[j].Name })
	for _, a := range p.Snap.APIs {
		v.APIs = append(v.APIs, apiRef{Name: a.Name, Version: a.Version, BasePath: a.BasePath})
	}
	sort.Slice(v.APIs, func(i, j int) bool { return v.APIs[i].Name < v.APIs[j].Name })
	return v
}

func (s *Server) publish(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body struct {
		Product string `json:"product"`
	}
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	if body.Product == "" {
		return errs.Invalid("product", "product (name:version) is required.")
	}
	pub, err := s.apim.Publish(r.Context(), p, r.PathValue("org"), r.PathValue("env"), body.Product)
	if err != nil {
		return err
	}
	v := viewPublication(pub)
	noteAudit(r, pub.ID, "published "+v.Name+":"+v.Version)
	w.Header().Set("Location", v.URL)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) listPublications(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var states []string
	if st := r.URL.Query().Get("state"); st != "" {
		states = strings.Split(st, ",")
	}
	pubs, err := s.apim.Publications(r.Context(), p, r.PathValue("org"), r.PathValue("env"), states)
	if err != nil {
		return err
	}
	writeArray(w, r, pubs, len(pubs), "", viewPublication)
	return nil
}

func (s *Server) getPublication(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	pub, err := s.apim.Publication(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("product"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewPublication(pub))
	return nil
}

func (s *Server) setPublicationState(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body struct {
		State string `json:"state"`
	}
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	pub, err := s.apim.SetState(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("product"), body.State)
	if err != nil {
		return err
	}
	noteAudit(r, pub.ID, "state "+pub.State)
	writeJSON(w, http.StatusOK, viewPublication(pub))
	return nil
}

// consumerOrgView, appView, credentialView, subscriptionView: V5 camelCase.
type consumerOrgView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Title     string `json:"title"`
	CreatedAt string `json:"createdAt"`
}

func viewConsumerOrg(c store.ConsumerOrg) consumerOrgView {
	return consumerOrgView{ID: c.ID, Name: c.Name, Title: c.Title, CreatedAt: rfc3339(c.CreatedAt)}
}

type appView struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	Description   string          `json:"description"`
	ConsumerOrgID string          `json:"consumerOrgID"`
	CreatedAt     string          `json:"createdAt"`
	Credentials   *credentialView `json:"credentials,omitempty"` // only when created
}

func viewApp(a store.App) appView {
	return appView{ID: a.ID, Name: a.Name, Description: a.Description, ConsumerOrgID: a.ConsumerOrgID, CreatedAt: rfc3339(a.CreatedAt)}
}

type credentialView struct {
	ClientID     string `json:"clientID"`
	ClientSecret string `json:"clientSecret,omitempty"` // only when created or reset
	SecretHint   string `json:"secretHint,omitempty"`
	CreatedAt    string `json:"createdAt"`
	UpdatedAt    string `json:"updatedAt"`
}

func viewCredential(c store.Credential) credentialView {
	return credentialView{ClientID: c.ClientID, SecretHint: "…" + c.SecretHint, CreatedAt: rfc3339(c.CreatedAt), UpdatedAt: rfc3339(c.ModifiedAt)}
}

func viewNewCredential(c apim.NewCredential) credentialView {
	v := viewCredential(c.Credential)
	v.ClientSecret, v.SecretHint = c.Secret, ""
	return v
}

type subscriptionView struct {
	ID         string `json:"id"`
	AppID      string `json:"appID"`
	Product    string `json:"product"`
	Plan       string `json:"plan"`
	Approved   bool   `json:"approved"`
	State      string `json:"state"`
	CreatedAt  string `json:"createdAt"`
	ApprovedAt string `json:"approvedAt,omitempty"`
}

func viewSubscription(s store.Subscription) subscriptionView {
	return subscriptionView{
		ID: s.ID, AppID: s.AppID, Product: s.ProductName + ":" + s.ProductVersion, Plan: s.Plan,
		Approved: s.Approved, State: s.State, CreatedAt: rfc3339(s.CreatedAt), ApprovedAt: rfc3339(s.ApprovedAt),
	}
}

func (s *Server) createConsumerOrg(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body nameTitle
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	c, err := s.apim.CreateConsumerOrg(r.Context(), p, r.PathValue("org"), r.PathValue("env"), body.Name, body.Title)
	if err != nil {
		return err
	}
	noteAudit(r, c.ID, "consumer org "+c.Name)
	writeJSON(w, http.StatusCreated, viewConsumerOrg(c))
	return nil
}

func (s *Server) listConsumerOrgs(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	q := r.URL.Query()
	limit, err := limitParam(q)
	if err != nil {
		return err
	}
	list, next, err := s.apim.ListConsumerOrgs(r.Context(), p, r.PathValue("org"), r.PathValue("env"), limit, q.Get("after"))
	if err != nil {
		return err
	}
	writeArray(w, r, list, limit, next, viewConsumerOrg)
	return nil
}

func (s *Server) getConsumerOrg(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	c, err := s.apim.ConsumerOrg(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("corg"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewConsumerOrg(c))
	return nil
}

func (s *Server) deleteConsumerOrg(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	c, err := s.apim.DeleteConsumerOrg(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("corg"))
	if err != nil {
		return err
	}
	noteAudit(r, c.ID, "consumer org "+c.Name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) createApp(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	created, err := s.apim.CreateApp(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("corg"), body.Name, body.Description)
	if err != nil {
		return err
	}
	v := viewApp(created.App)
	cv := viewNewCredential(created.Credential)
	v.Credentials = &cv
	noteAudit(r, created.App.ID, "app "+created.App.Name+" with client id "+created.Credential.ClientID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	q := r.URL.Query()
	limit, err := limitParam(q)
	if err != nil {
		return err
	}
	list, next, err := s.apim.ListApps(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("corg"), limit, q.Get("after"))
	if err != nil {
		return err
	}
	writeArray(w, r, list, limit, next, viewApp)
	return nil
}

func (s *Server) getApp(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	a, err := s.apim.App(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("corg"), r.PathValue("app"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewApp(a))
	return nil
}

func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	a, err := s.apim.DeleteApp(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("corg"), r.PathValue("app"))
	if err != nil {
		return err
	}
	noteAudit(r, a.ID, "app "+a.Name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listCredentials(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	list, err := s.apim.Credentials(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("corg"), r.PathValue("app"))
	if err != nil {
		return err
	}
	writeArray(w, r, list, len(list), "", viewCredential)
	return nil
}

func (s *Server) addCredential(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	if err := decodeJSON(w, r, &struct{}{}, true); err != nil {
		return err
	}
	c, err := s.apim.AddCredential(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("corg"), r.PathValue("app"))
	if err != nil {
		return err
	}
	noteAudit(r, c.ClientID, "")
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, viewNewCredential(c))
	return nil
}

func (s *Server) deleteCredential(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	if err := s.apim.DeleteCredential(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("corg"), r.PathValue("app"), r.PathValue("clientID")); err != nil {
		return err
	}
	noteAudit(r, r.PathValue("clientID"), "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) resetSecret(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	c, err := s.apim.ResetSecret(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("corg"), r.PathValue("app"), r.PathValue("clientID"))
	if err != nil {
		return err
	}
	noteAudit(r, c.ClientID, "")
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, viewNewCredential(c))
	return nil
}

func (s *Server) subscribe(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	var body struct {
		Product string `json:"product"`
		Plan    string `json:"plan"`
	}
	if err := decodeJSON(w, r, &body, false); err != nil {
		return err
	}
	if body.Product == "" {
		return errs.Invalid("product", "product (name:version) is required.")
	}
	sub, err := s.apim.Subscribe(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("corg"), r.PathValue("app"), body.Product, body.Plan)
	if err != nil {
		return err
	}
	noteAudit(r, sub.ID, "app "+sub.AppID+" to "+sub.ProductName+":"+sub.ProductVersion+" plan "+sub.Plan+" ("+sub.State+")")
	writeJSON(w, http.StatusCreated, viewSubscription(sub))
	return nil
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	q := r.URL.Query()
	limit, err := limitParam(q)
	if err != nil {
		return err
	}
	list, next, err := s.apim.ListSubscriptions(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("corg"), r.PathValue("app"), limit, q.Get("after"))
	if err != nil {
		return err
	}
	writeArray(w, r, list, limit, next, viewSubscription)
	return nil
}

func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	if err := s.apim.Unsubscribe(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("corg"), r.PathValue("app"), r.PathValue("id")); err != nil {
		return err
	}
	noteAudit(r, r.PathValue("id"), "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	sub, err := s.apim.Approve(r.Context(), p, r.PathValue("org"), r.PathValue("env"), r.PathValue("corg"), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		return err
	}
	noteAudit(r, sub.ID, "app "+sub.AppID+" to "+sub.ProductName+":"+sub.ProductVersion+" plan "+sub.Plan)
	writeJSON(w, http.StatusOK, viewSubscription(sub))
	return nil
}

// eventView is a gateway call event (V5 camelCase).
type eventView struct {
	Seq           int64   `json:"seq"`
	Time          string  `json:"time"`
	RequestID     string  `json:"requestID"`
	API           string  `json:"api,omitempty"`
	Operation     string  `json:"operation,omitempty"`
	Status        int     `json:"status"`
	LatencyMS     float64 `json:"latencyMs"`
	BackendMS     float64 `json:"backendLatencyMs"`
	BytesIn       int64   `json:"bytesIn"`
	BytesOut      int64   `json:"bytesOut"`
	ClientID      string  `json:"clientID,omitempty"`
	AppID         string  `json:"appID,omitempty"`
	ConsumerOrgID string  `json:"consumerOrgID,omitempty"`
	Product       string  `json:"product,omitempty"`
	Plan          string  `json:"plan,omitempty"`
	RateLimited   bool    `json:"rateLimited"`
}

func viewEvent(e store.Event) eventView {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return eventView{
		Seq: e.Seq, Time: e.Time.UTC().Format(time.RFC3339Nano), RequestID: e.RequestID, API: e.API, Operation: e.Operation,
		Status: e.Status, LatencyMS: ms(e.Latency), BackendMS: ms(e.BackendLatency), BytesIn: e.BytesIn, BytesOut: e.BytesOut,
		ClientID: e.ClientID, AppID: e.AppID, ConsumerOrgID: e.ConsumerOrgID, Product: e.Product, Plan: e.Plan, RateLimited: e.RateLimited,
	}
}

// listEvents is GET …/events?after=&before=&api=&app=&status=&limit=&cursor=.
// status is a code (404) or a class (5xx); cursor pages (the Link header).
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	_, env, err := s.apim.Catalog(r.Context(), p, r.PathValue("org"), r.PathValue("env"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	eq := store.EventQuery{EnvID: env.ID, API: q.Get("api"), AppID: q.Get("app")}
	if eq.Since, err = timeParam(q.Get("after"), "after"); err != nil {
		return err
	}
	if eq.Until, err = timeParam(q.Get("before"), "before"); err != nil {
		return err
	}
	if st := q.Get("status"); st != "" {
		if class, ok := strings.CutSuffix(strings.ToLower(st), "xx"); ok && len(class) == 1 && class[0] >= '1' && class[0] <= '5' {
			eq.StatusMin = int(class[0]-'0') * 100
			eq.StatusMax = eq.StatusMin + 99
		} else if eq.Status, err = strconv.Atoi(st); err != nil || eq.Status < 100 || eq.Status > 599 {
			return errs.Invalid("status", "status must be an HTTP status code such as 404 or a class such as 5xx.")
		}
	}
	if c := q.Get("cursor"); c != "" {
		if eq.AfterSeq, err = strconv.ParseInt(c, 10, 64); err != nil || eq.AfterSeq < 0 {
			return errs.Invalid("cursor", "cursor must be the one a Link header gave.")
		}
	}
	limit, err := limitParam(q)
	if err != nil {
		return err
	}
	eq.Limit = limit + 1
	events, err := s.events.ListEvents(r.Context(), eq)
	if err != nil {
		return err
	}
	if len(events) > limit {
		events = events[:limit]
		next := q
		next.Set("cursor", strconv.FormatInt(events[limit-1].Seq, 10))
		w.Header().Set("Link", "<"+r.URL.Path+"?"+next.Encode()+`>; rel="next"`)
	}
	writeArray(w, r, events, limit, "", viewEvent)
	return nil
}

// getAnalytics is GET …/analytics?since=&until=&interval=: counts by status
// class and latency percentiles per interval, per API and per app. Default:
// the last hour in one-minute intervals; at most 1440 intervals.
func (s *Server) getAnalytics(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	_, env, err := s.apim.Catalog(r.Context(), p, r.PathValue("org"), r.PathValue("env"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	until, err := timeParam(q.Get("until"), "until")
	if err != nil {
		return err
	}
	if until.IsZero() {
		until = s.now().Truncate(time.Minute).Add(time.Minute)
	}
	since, err := timeParam(q.Get("since"), "since")
	if err != nil {
		return err
	}
	if since.IsZero() {
		since = until.Add(-time.Hour)
	}
	interval := time.Minute
	if v := q.Get("interval"); v != "" {
		if interval, err = time.ParseDuration(v); err != nil || interval < time.Second {
			return errs.Invalid("interval", "interval must be a duration of at least 1s, such as 1m or 1h.")
		}
	}
	if !since.Before(until) {
		return errs.Invalid("since", "since must be before until.")
	}
	if until.Sub(since)/interval > 1440 {
		return errs.Invalid("interval", "At most 1440 intervals: choose a longer interval or a shorter range.")
	}
	rep, err := analytics.Aggregate(r.Context(), s.events, env.ID, since.UTC(), until.UTC(), interval)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
