package console

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"

	"gatehouse/client"
)

// Provider orgs, catalogs, draft APIs and products, publishing.

func orgURL(org string) string { return "/console/orgs/" + url.PathEscape(org) }

func catalogURL(org, env string) string { return orgURL(org) + "/catalogs/" + url.PathEscape(env) }

func (s *Console) orgs(w http.ResponseWriter, r *http.Request, ss *session) error {
	orgs, next, err := ss.c.ListOrgs(r.Context(), client.ListOrgsOptions{Limit: 1000, After: r.URL.Query().Get("after")})
	if err != nil {
		return err
	}
	type row struct {
		client.Org
		Role string
	}
	role := map[string]string{}
	for _, o := range ss.me.Orgs {
		role[o.ID] = o.Role
	}
	var rows []row
	for _, o := range orgs {
		rows = append(rows, row{o, role[o.ID]})
	}
	nextURL := ""
	if next != "" {
		nextURL = "/console/orgs?" + url.Values{"after": {next}}.Encode()
	}
	return s.render(w, r, http.StatusOK, "orgs", &view{Title: "Provider orgs", Section: "orgs", S: ss, D: map[string]any{
		"Orgs": rows, "Next": nextURL, "CanWrite": ss.Account("Administrator"),
	}})
}

func (s *Console) orgCreate(w http.ResponseWriter, r *http.Request, ss *session) error {
	o, err := ss.c.CreateOrg(r.Context(), strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("title")))
	if err != nil {
		return withBack(err, "/console/orgs")
	}
	return done(w, r, orgURL(o.Name), "created")
}

func (s *Console) orgDelete(w http.ResponseWriter, r *http.Request, ss *session) error {
	org := r.PathValue("org")
	if !confirmed(r) {
		return s.confirm(w, r, ss, "Delete org", "Delete the provider org "+org+" with its catalogs, APIs, products and policies? This cannot be undone.", "Delete", orgURL(org))
	}
	if err := ss.c.DeleteOrg(r.Context(), org); err != nil {
		return withBack(err, orgURL(org))
	}
	return done(w, r, "/console/orgs", "deleted")
}

// org is the org's page: catalogs, draft APIs, draft products.
func (s *Console) org(w http.ResponseWriter, r *http.Request, ss *session) error {
	ctx, name := r.Context(), r.PathValue("org")
	o, err := ss.c.GetOrg(ctx, name)
	if err != nil {
		return err
	}
	envs, err := ss.c.ListEnvironments(ctx, name)
	if err != nil {
		return err
	}
	apis, _, err := ss.c.ListAPIs(ctx, name, client.PageOptions{Limit: 1000})
	if err != nil {
		return err
	}
	products, _, err := ss.c.ListProducts(ctx, name, client.PageOptions{Limit: 1000})
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "org", &view{Title: o.Title, Section: "orgs", S: ss,
		Crumbs: []crumb{{"Provider orgs", "/console/orgs"}},
		D: map[string]any{
			"Org": o, "Catalogs": envs, "APIs": apis, "Products": products,
			"CanWrite": ss.Org(o.ID, "Writer"), "CanManage": ss.Org(o.ID, "Manager"), "CanAdmin": ss.Account("Administrator"),
		}})
}

func (s *Console) catalogCreate(w http.ResponseWriter, r *http.Request, ss *session) error {
	org := r.PathValue("org")
	e, err := ss.c.CreateEnvironment(r.Context(), org, strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("title")))
	if err != nil {
		return withBack(err, orgURL(org))
	}
	return done(w, r, catalogURL(org, e.Name), "created")
}

func (s *Console) catalogDelete(w http.ResponseWriter, r *http.Request, ss *session) error {
	org, env := r.PathValue("org"), r.PathValue("env")
	if !confirmed(r) {
		return s.confirm(w, r, ss, "Delete catalog", "Delete the catalog "+env+" of "+org+" with its publications and consumers? Its APIs stop being served at once.", "Delete", catalogURL(org, env))
	}
	if err := ss.c.DeleteEnvironment(r.Context(), org, env); err != nil {
		return withBack(err, catalogURL(org, env))
	}
	return done(w, r, orgURL(org), "deleted")
}

// docKind is what the document forms differ in: APIs and products.
type docKind struct {
	Kind, Plural, Path string // "API", "APIs", "apis"
}

var (
	kindAPI     = docKind{"API", "APIs", "apis"}
	kindProduct = docKind{"product", "products", "products"}
)

func (s *Console) docNew(w http.ResponseWriter, r *http.Request, ss *session, k docKind) error {
	org := r.PathValue("org")
	o, err := ss.c.GetOrg(r.Context(), org)
	if err != nil {
		return err
	}
	if !ss.Org(o.ID, "Writer") {
		return &pageError{Status: http.StatusForbidden, Message: "You cannot create " + k.Plural + " in this org.", Back: orgURL(o.Name)}
	}
	title := "Import an API"
	if k == kindProduct {
		title = "Create a product"
	}
	return s.render(w, r, http.StatusOK, "doc_new", &view{Title: title, Section: "orgs", S: ss,
		Crumbs: []crumb{{"Provider orgs", "/console/orgs"}, {o.Title, orgURL(o.Name)}},
		D:      map[string]any{"Org": o, "Kind": k},
	})
}

func (s *Console) apiNew(w http.ResponseWriter, r *http.Request, ss *session) error {
	return s.docNew(w, r, ss, kindAPI)
}

func (s *Console) productNew(w http.ResponseWriter, r *http.Request, ss *session) error {
	return s.docNew(w, r, ss, kindProduct)
}

// maxDocument is the API's limit for API and product documents.
const maxDocument = 5 << 20

// documentOf reads an uploaded document file, or else the pasted text, and
// says whether it is JSON or YAML (the API parses both; it only needs to be
// told which).
func documentOf(r *http.Request) ([]byte, string, error) {
	var doc []byte
	name := ""
	if r.MultipartForm != nil {
		if f, h, err := r.FormFile("document_file"); err == nil {
			defer f.Close()
			if h.Size > 0 {
				doc, err = io.ReadAll(io.LimitReader(f, maxDocument+1))
				if err != nil {
					return nil, "", &pageError{Status: http.StatusBadRequest, Message: "The file could not be read."}
				}
				name = h.Filename
			}
		}
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		doc = []byte(r.PostFormValue("document"))
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, "", &pageError{Status: http.StatusBadRequest, Message: "Choose a file or paste the document."}
	}
	if len(doc) > maxDocument {
		return nil, "", &pageError{Status: http.StatusRequestEntityTooLarge, Message: "The document is larger than 5 MiB."}
	}
	ct := client.ContentTypeYAML
	if strings.HasSuffix(strings.ToLower(name), ".json") || bytes.HasPrefix(bytes.TrimSpace(doc), []byte("{")) {
		ct = client.ContentTypeJSON
	}
	return doc, ct, nil
}

func (s *Console) apiImport(w http.ResponseWriter, r *http.Request, ss *session) error {
	org := r.PathValue("org")
	doc, ct, err := documentOf(r)
	if err != nil {
		return withBack(err, orgURL(org))
	}
	d, err := ss.c.ImportAPI(r.Context(), org, doc, ct)
	if err != nil {
		return withBack(err, orgURL(org))
	}
	return done(w, r, orgURL(org)+"/apis/"+url.PathEscape(d.Ref()), "imported")
}

func (s *Console) productCreate(w http.ResponseWriter, r *http.Request, ss *session) error {
	org := r.PathValue("org")
	doc, ct, err := documentOf(r)
	if err != nil {
		return withBack(err, orgURL(org))
	}
	d, err := ss.c.CreateProduct(r.Context(), org, doc, ct)
	if err != nil {
		return withBack(err, orgURL(org))
	}
	return done(w, r, orgURL(org)+"/products/"+url.PathEscape(d.Ref()), "created")
}

func (s *Console) showDoc(w http.ResponseWriter, r *http.Request, ss *session, k docKind, ref string) error {
	ctx, org := r.Context(), r.PathValue("org")
	o, err := ss.c.GetOrg(ctx, org)
	if err != nil {
		return err
	}
	var doc *client.Document
	if k == kindAPI {
		doc, err = ss.c.GetAPI(ctx, org, ref)
	} else {
		doc, err = ss.c.GetProduct(ctx, org, ref)
	}
	if err != nil {
		return err
	}
	data := map[string]any{
		"Org": o, "Kind": k, "Ref": ref, "Doc": string(doc.Body),
		"CanWrite": ss.Org(o.ID, "Writer"), "CanManage": ss.Org(o.ID, "Manager"),
	}
	if k == kindProduct {
		envs, err := ss.c.ListEnvironments(ctx, org)
		if err != nil {
			return err
		}
		data["Catalogs"] = envs
	}
	return s.render(w, r, http.StatusOK, "doc", &view{Title: strings.ToUpper(k.Kind[:1]) + k.Kind[1:] + " " + ref, Section: "orgs", S: ss,
		Crumbs: []crumb{{"Provider orgs", "/console/orgs"}, {o.Title, orgURL(o.Name)}}, D: data})
}

func (s *Console) apiDoc(w http.ResponseWriter, r *http.Request, ss *session) error {
	return s.showDoc(w, r, ss, kindAPI, r.PathValue("api"))
}

func (s *Console) productDoc(w http.ResponseWriter, r *http.Request, ss *session) error {
	return s.showDoc(w, r, ss, kindProduct, r.PathValue("product"))
}

func (s *Console) deleteDoc(w http.ResponseWriter, r *http.Request, ss *session, k docKind, ref string) error {
	org := r.PathValue("org")
	back := orgURL(org) + "/" + k.Path + "/" + url.PathEscape(ref)
	if !confirmed(r) {
		return s.confirm(w, r, ss, "Delete "+k.Kind, "Delete the draft "+k.Kind+" "+ref+"? Published snapshots are not affected.", "Delete", back)
	}
	var err error
	if k == kindAPI {
		err = ss.c.DeleteAPI(r.Context(), org, ref)
	} else {
		err = ss.c.DeleteProduct(r.Context(), org, ref)
	}
	if err != nil {
		return withBack(err, back)
	}
	return done(w, r, orgURL(org), "deleted")
}

func (s *Console) apiDelete(w http.ResponseWriter, r *http.Request, ss *session) error {
	return s.deleteDoc(w, r, ss, kindAPI, r.PathValue("api"))
}

func (s *Console) productDelete(w http.ResponseWriter, r *http.Request, ss *session) error {
	return s.deleteDoc(w, r, ss, kindProduct, r.PathValue("product"))
}

// catalog is a catalog's page: publications, consumer orgs, subscriptions.
func (s *Console) catalog(w http.ResponseWriter, r *http.Request, ss *session) error {
	ctx, org, env := r.Context(), r.PathValue("org"), r.PathValue("env")
	o, err := ss.c.GetOrg(ctx, org)
	if err != nil {
		return err
	}
	e, err := ss.c.GetEnvironment(ctx, org, env)
	if err != nil {
		return err
	}
	pubs, err := ss.c.ListPublications(ctx, org, env)
	if err != nil {
		return err
	}
	products, _, err := ss.c.ListProducts(ctx, org, client.PageOptions{Limit: 1000})
	if err != nil {
		return err
	}
	corgs, _, err := ss.c.ListConsumerOrgs(ctx, org, env, client.PageOptions{Limit: 1000})
	if err != nil {
		return err
	}
	apps, _, err := ss.c.ListConsumerApps(ctx, org, env, client.PageOptions{Limit: 1000})
	if err != nil {
		return err
	}
	subs, _, err := ss.c.ListCatalogSubscriptions(ctx, org, env, client.PageOptions{Limit: 1000})
	if err != nil {
		return err
	}
	corgName := map[string]string{}
	for _, c := range corgs {
		corgName[c.ID] = c.Name
	}
	appByID := map[string]client.App{}
	for _, a := range apps {
		appByID[a.ID] = a
	}
	type subRow struct {
		client.Subscription
		App, ConsumerOrg string
	}
	var rows []subRow
	for _, sub := range subs {
		a := appByID[sub.AppID]
		rows = append(rows, subRow{sub, a.Name, corgName[a.ConsumerOrgID]})
	}
	return s.render(w, r, http.StatusOK, "catalog", &view{Title: e.Title, Section: "orgs", S: ss,
		Crumbs: []crumb{{"Provider orgs", "/console/orgs"}, {o.Title, orgURL(o.Name)}},
		D: map[string]any{
			"Org": o, "Env": e, "Publications": pubs, "Products": products, "ConsumerOrgs": corgs,
			"Subscriptions": rows, "URL": catalogURL(o.Name, e.Name),
			"CanWrite": ss.Org(o.ID, "Writer"), "CanManage": ss.Org(o.ID, "Manager"),
		}})
}

func (s *Console) publish(w http.ResponseWriter, r *http.Request, ss *session) error {
	org, env := r.PathValue("org"), r.PathValue("env")
	back := catalogURL(org, env)
	if _, err := ss.c.Publish(r.Context(), org, env, r.PostFormValue("product")); err != nil {
		return withBack(err, back)
	}
	return done(w, r, back, "published")
}

func (s *Console) publicationState(w http.ResponseWriter, r *http.Request, ss *session) error {
	org, env, product := r.PathValue("org"), r.PathValue("env"), r.PathValue("product")
	back := catalogURL(org, env)
	state := r.PostFormValue("state")
	if state == client.StateRetired && !confirmed(r) {
		return s.confirm(w, r, ss, "Retire product", "Retire "+product+"? The gateway stops serving it at once (404); its subscriptions stop working.", "Retire", back, "state")
	}
	var err error
	if state == client.StatePublished {
		// Republishing works from any state (also retired); from deprecated
		// the lifecycle PATCH is enough and keeps the snapshot.
		_, err = ss.c.SetPublicationState(r.Context(), org, env, product, state)
		if client.StatusOf(err) == http.StatusConflict {
			_, err = ss.c.Publish(r.Context(), org, env, product)
		}
	} else {
		_, err = ss.c.SetPublicationState(r.Context(), org, env, product, state)
	}
	if err != nil {
		return withBack(err, back)
	}
	return done(w, r, back, "state")
}
