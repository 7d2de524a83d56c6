package console

import (
	"net/http"
	"net/url"
	"strings"

	"gatehouse/client"
)

// Consumer orgs, apps, credentials and subscriptions of a catalog.

func corgURL(org, env, corg string) string {
	return catalogURL(org, env) + "/consumer-orgs/" + url.PathEscape(corg)
}

func appURL(a client.AppRef) string {
	return corgURL(a.Org, a.Env, a.ConsumerOrg) + "/apps/" + url.PathEscape(a.App)
}

func appRefOf(r *http.Request) client.AppRef {
	return client.AppRef{Org: r.PathValue("org"), Env: r.PathValue("env"), ConsumerOrg: r.PathValue("corg"), App: r.PathValue("app")}
}

func (s *Console) consumerOrgCreate(w http.ResponseWriter, r *http.Request, ss *session) error {
	org, env := r.PathValue("org"), r.PathValue("env")
	co, err := ss.c.CreateConsumerOrg(r.Context(), org, env, strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("title")))
	if err != nil {
		return withBack(err, catalogURL(org, env))
	}
	return done(w, r, corgURL(org, env, co.Name), "created")
}

func (s *Console) consumerOrgDelete(w http.ResponseWriter, r *http.Request, ss *session) error {
	org, env, corg := r.PathValue("org"), r.PathValue("env"), r.PathValue("corg")
	if !confirmed(r) {
		return s.confirm(w, r, ss, "Delete consumer org", "Delete the consumer org "+corg+" with its apps? Their client IDs stop working at once.", "Delete", corgURL(org, env, corg))
	}
	if err := ss.c.DeleteConsumerOrg(r.Context(), org, env, corg); err != nil {
		return withBack(err, corgURL(org, env, corg))
	}
	return done(w, r, catalogURL(org, env), "deleted")
}

func (s *Console) consumerOrg(w http.ResponseWriter, r *http.Request, ss *session) error {
	return s.consumerOrgPage(w, r, ss, http.StatusOK, nil)
}

func (s *Console) consumerOrgPage(w http.ResponseWriter, r *http.Request, ss *session, status int, sec *secret) error {
	ctx, org, env, corg := r.Context(), r.PathValue("org"), r.PathValue("env"), r.PathValue("corg")
	o, err := ss.c.GetOrg(ctx, org)
	if err != nil {
		return err
	}
	e, err := ss.c.GetEnvironment(ctx, org, env)
	if err != nil {
		return err
	}
	co, err := ss.c.GetConsumerOrg(ctx, org, env, corg)
	if err != nil {
		return err
	}
	apps, _, err := ss.c.ListApps(ctx, org, env, corg, client.PageOptions{Limit: 1000})
	if err != nil {
		return err
	}
	return s.render(w, r, status, "consumer_org", &view{Title: co.Title, Section: "orgs", S: ss,
		Crumbs: []crumb{{"Provider orgs", "/console/orgs"}, {o.Title, orgURL(o.Name)}, {e.Title, catalogURL(o.Name, e.Name)}},
		D: map[string]any{
			"Org": o, "Env": e, "ConsumerOrg": co, "Apps": apps, "URL": corgURL(o.Name, e.Name, co.Name),
			"CanWrite": ss.Org(o.ID, "Writer"), "Secret": sec,
		}})
}

// credentialSecret is the dialog of a new client ID and secret.
func credentialSecret(title string, cr *client.Credential, closeURL string) *secret {
	return &secret{
		Title: title,
		Intro: "Copy the client secret now: it is not shown again.",
		Items: []secretItem{
			{ID: "secret-client-id", Label: "Client ID", Value: cr.ClientID},
			{ID: "secret-client-secret", Label: "Client secret", Value: cr.ClientSecret},
		},
		Close: closeURL,
	}
}

func (s *Console) appCreate(w http.ResponseWriter, r *http.Request, ss *session) error {
	org, env, corg := r.PathValue("org"), r.PathValue("env"), r.PathValue("corg")
	back := corgURL(org, env, corg)
	a, err := ss.c.CreateApp(r.Context(), org, env, corg, strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("description")))
	if err != nil {
		return withBack(err, back)
	}
	if a.Credentials == nil {
		return done(w, r, back, "created")
	}
	return s.consumerOrgPage(w, r, ss, http.StatusCreated, credentialSecret("App "+a.Name+" created", a.Credentials, back))
}

func (s *Console) appDelete(w http.ResponseWriter, r *http.Request, ss *session) error {
	a := appRefOf(r)
	if !confirmed(r) {
		return s.confirm(w, r, ss, "Delete app", "Delete the app "+a.App+" with its credentials and subscriptions? Its client IDs stop working at once.", "Delete", appURL(a))
	}
	if err := ss.c.DeleteApp(r.Context(), a); err != nil {
		return withBack(err, appURL(a))
	}
	return done(w, r, corgURL(a.Org, a.Env, a.ConsumerOrg), "deleted")
}

func (s *Console) app(w http.ResponseWriter, r *http.Request, ss *session) error {
	return s.appPage(w, r, ss, http.StatusOK, nil)
}

func (s *Console) appPage(w http.ResponseWriter, r *http.Request, ss *session, status int, sec *secret) error {
	ctx, ref := r.Context(), appRefOf(r)
	o, err := ss.c.GetOrg(ctx, ref.Org)
	if err != nil {
		return err
	}
	e, err := ss.c.GetEnvironment(ctx, ref.Org, ref.Env)
	if err != nil {
		return err
	}
	co, err := ss.c.GetConsumerOrg(ctx, ref.Org, ref.Env, ref.ConsumerOrg)
	if err != nil {
		return err
	}
	a, err := ss.c.GetApp(ctx, ref)
	if err != nil {
		return err
	}
	creds, err := ss.c.ListCredentials(ctx, ref)
	if err != nil {
		return err
	}
	subs, _, err := ss.c.ListSubscriptions(ctx, ref, client.PageOptions{Limit: 1000})
	if err != nil {
		return err
	}
	// What can be subscribed to: published products and their plans.
	pubs, err := ss.c.ListPublications(ctx, ref.Org, ref.Env, client.StatePublished)
	if err != nil {
		return err
	}
	type plan struct{ Value, Label string }
	var plans []plan
	for _, p := range pubs {
		for _, pl := range p.Plans {
			plans = append(plans, plan{p.Name + ":" + p.Version + "|" + pl.Name, p.Name + ":" + p.Version + " — " + pl.Title})
		}
	}
	ref = client.AppRef{Org: o.Name, Env: e.Name, ConsumerOrg: co.Name, App: a.Name}
	return s.render(w, r, status, "app", &view{Title: a.Name, Section: "orgs", S: ss,
		Crumbs: []crumb{{"Provider orgs", "/console/orgs"}, {o.Title, orgURL(o.Name)}, {e.Title, catalogURL(o.Name, e.Name)}, {co.Title, corgURL(o.Name, e.Name, co.Name)}},
		D: map[string]any{
			"Org": o, "Env": e, "ConsumerOrg": co, "App": a, "Credentials": creds, "Subscriptions": subs,
			"Plans": plans, "URL": appURL(ref), "CanWrite": ss.Org(o.ID, "Writer"), "CanManage": ss.Org(o.ID, "Manager"),
			"Secret": sec,
		}})
}

func (s *Console) credentialAdd(w http.ResponseWriter, r *http.Request, ss *session) error {
	ref := appRefOf(r)
	cr, err := ss.c.AddCredential(r.Context(), ref)
	if err != nil {
		return withBack(err, appURL(ref))
	}
	return s.appPage(w, r, ss, http.StatusCreated, credentialSecret("Credential added", cr, appURL(ref)))
}

func (s *Console) credentialAction(w http.ResponseWriter, r *http.Request, ss *session) error {
	ref, cid := appRefOf(r), r.PathValue("cid")
	back := appURL(ref)
	switch r.PathValue("action") {
	case "reset-secret":
		if !confirmed(r) {
			return s.confirm(w, r, ss, "Reset client secret", "Give the client ID "+cid+" a new secret? The old secret stops working at once.", "Reset secret", back)
		}
		cr, err := ss.c.ResetSecret(r.Context(), ref, cid)
		if err != nil {
			return withBack(err, back)
		}
		return s.appPage(w, r, ss, http.StatusOK, credentialSecret("Client secret reset", cr, back))
	case "delete":
		if !confirmed(r) {
			return s.confirm(w, r, ss, "Delete credential", "Delete the client ID "+cid+"? Calls with it stop working at once.", "Delete", back)
		}
		if err := ss.c.DeleteCredential(r.Context(), ref, cid); err != nil {
			return withBack(err, back)
		}
		return done(w, r, back, "deleted")
	}
	return &pageError{Status: http.StatusNotFound, Message: "There is no such action."}
}

func (s *Console) subscribe(w http.ResponseWriter, r *http.Request, ss *session) error {
	ref := appRefOf(r)
	product, plan, _ := strings.Cut(r.PostFormValue("plan"), "|")
	if _, err := ss.c.Subscribe(r.Context(), ref, product, plan); err != nil {
		return withBack(err, appURL(ref))
	}
	return done(w, r, appURL(ref), "subscribed")
}

func (s *Console) subscriptionAction(w http.ResponseWriter, r *http.Request, ss *session) error {
	ref, sid := appRefOf(r), r.PathValue("sid")
	back := appURL(ref)
	if r.PostFormValue("from") == "catalog" {
		back = catalogURL(ref.Org, ref.Env)
	}
	switch r.PathValue("action") {
	case "approve":
		if _, err := ss.c.Approve(r.Context(), ref, sid); err != nil {
			return withBack(err, back)
		}
		return done(w, r, back, "approved")
	case "delete":
		if !confirmed(r) {
			return s.confirm(w, r, ss, "Cancel subscription", "Delete this subscription? The app's calls to the product stop working at once.", "Delete", back, "from")
		}
		if err := ss.c.Unsubscribe(r.Context(), ref, sid); err != nil {
			return withBack(err, back)
		}
		return done(w, r, back, "deleted")
	}
	return &pageError{Status: http.StatusNotFound, Message: "There is no such action."}
}
