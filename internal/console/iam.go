package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"gatehouse/client"
)

// Service IDs, users, policies and the audit log.

func (s *Console) serviceIDs(w http.ResponseWriter, r *http.Request, ss *session) error {
	return s.serviceIDsPage(w, r, ss, http.StatusOK, nil)
}

func (s *Console) serviceIDsPage(w http.ResponseWriter, r *http.Request, ss *session, status int, sec *secret) error {
	l, err := ss.c.ListServiceIDs(r.Context(), client.ListOptions{PageSize: 100, PageToken: r.URL.Query().Get("page")})
	if err != nil {
		return err
	}
	next := ""
	if tok := l.NextPageToken(); tok != "" {
		next = "/console/serviceids?" + url.Values{"page": {tok}}.Encode()
	}
	return s.render(w, r, status, "serviceids", &view{Title: "Service IDs", Section: "serviceids", S: ss, D: map[string]any{
		"IDs": l.ServiceIDs, "Next": next, "CanWrite": ss.Account("Administrator"), "Secret": sec,
	}})
}

func (s *Console) serviceIDCreate(w http.ResponseWriter, r *http.Request, ss *session) error {
	in := client.CreateServiceID{
		Name:        strings.TrimSpace(r.PostFormValue("name")),
		Description: strings.TrimSpace(r.PostFormValue("description")),
	}
	if kn := strings.TrimSpace(r.PostFormValue("key_name")); kn != "" {
		in.APIKey = &client.CreateAPIKey{Name: kn, Role: r.PostFormValue("key_role")}
	}
	sid, err := ss.c.CreateServiceID(r.Context(), in)
	if err != nil {
		return withBack(err, "/console/serviceids")
	}
	if sid.APIKey == nil || sid.APIKey.APIKey == "" {
		return done(w, r, "/console/serviceids", "created")
	}
	return s.serviceIDsPage(w, r, ss, http.StatusCreated, keySecret(sid.APIKey, "Service ID "+sid.Name+" created with API key "+sid.APIKey.Name, "/console/serviceids"))
}

func (s *Console) serviceIDAction(w http.ResponseWriter, r *http.Request, ss *session) error {
	id, back := r.PathValue("id"), "/console/serviceids"
	name := r.PostFormValue("name")
	var err error
	switch r.PathValue("action") {
	case "lock":
		err = ss.c.LockServiceID(r.Context(), id, true)
	case "unlock":
		err = ss.c.LockServiceID(r.Context(), id, false)
	case "delete":
		if !confirmed(r) {
			return s.confirm(w, r, ss, "Delete service ID", "Delete the service ID "+name+" with its API keys and policies? Its tokens stop working at once.", "Delete", back, "name")
		}
		err = ss.c.DeleteServiceID(r.Context(), id)
	default:
		return &pageError{Status: http.StatusNotFound, Message: "There is no such action."}
	}
	if err != nil {
		return withBack(err, back)
	}
	return done(w, r, back, map[string]string{"lock": "locked", "unlock": "unlocked", "delete": "deleted"}[r.PathValue("action")])
}

func (s *Console) users(w http.ResponseWriter, r *http.Request, ss *session) error {
	l, err := ss.c.ListUsers(r.Context(), client.ListOptions{PageSize: 100, PageToken: r.URL.Query().Get("page")})
	if err != nil {
		return err
	}
	next := ""
	if tok := l.NextPageToken(); tok != "" {
		next = "/console/users?" + url.Values{"page": {tok}}.Encode()
	}
	return s.render(w, r, http.StatusOK, "users", &view{Title: "Users", Section: "users", S: ss, D: map[string]any{
		"Users": l.Users, "Next": next, "CanWrite": ss.Account("Administrator"),
	}})
}

func (s *Console) userCreate(w http.ResponseWriter, r *http.Request, ss *session) error {
	_, err := ss.c.CreateUser(r.Context(), client.CreateUser{
		Username: strings.TrimSpace(r.PostFormValue("username")),
		Name:     strings.TrimSpace(r.PostFormValue("name")),
		Email:    strings.TrimSpace(r.PostFormValue("email")),
		Password: r.PostFormValue("password"),
	})
	if err != nil {
		return withBack(err, "/console/users")
	}
	return done(w, r, "/console/users", "created")
}

func (s *Console) userAction(w http.ResponseWriter, r *http.Request, ss *session) error {
	id, back, name := r.PathValue("id"), "/console/users", r.PostFormValue("name")
	var err error
	switch r.PathValue("action") {
	case "disable":
		if !confirmed(r) {
			return s.confirm(w, r, ss, "Disable user", "Disable the user "+name+"? Their keys stop getting tokens and their live tokens stop working at once.", "Disable", back, "name")
		}
		t := true
		_, err = ss.c.UpdateUser(r.Context(), id, "", client.UpdateUser{Disabled: &t})
	case "enable":
		f := false
		_, err = ss.c.UpdateUser(r.Context(), id, "", client.UpdateUser{Disabled: &f})
	case "delete":
		if !confirmed(r) {
			return s.confirm(w, r, ss, "Delete user", "Delete the user "+name+" with their API keys and policies? This cannot be undone.", "Delete", back, "name")
		}
		err = ss.c.DeleteUser(r.Context(), id)
	default:
		return &pageError{Status: http.StatusNotFound, Message: "There is no such action."}
	}
	if err != nil {
		return withBack(err, back)
	}
	return done(w, r, back, map[string]string{"disable": "disabled", "enable": "enabled", "delete": "deleted"}[r.PathValue("action")])
}

type subject struct{ IAMID, Label string }

func (s *Console) policies(w http.ResponseWriter, r *http.Request, ss *session) error {
	ctx := r.Context()
	l, err := ss.c.ListPolicies(ctx, client.ListPoliciesOptions{ListOptions: client.ListOptions{PageSize: 100, PageToken: r.URL.Query().Get("page")}})
	if err != nil {
		return err
	}
	// Names for the subjects, where the caller may read them.
	var subjects []subject
	names := map[string]string{}
	if ss.Account("Reader") {
		if us, err := ss.c.ListUsers(ctx, client.ListOptions{PageSize: 100}); err == nil {
			for _, u := range us.Users {
				names[u.IAMID] = "user " + u.Username
				subjects = append(subjects, subject{u.IAMID, "user " + u.Username})
			}
		}
		if ids, err := ss.c.ListServiceIDs(ctx, client.ListOptions{PageSize: 100}); err == nil {
			for _, v := range ids.ServiceIDs {
				names[v.IAMID] = "service ID " + v.Name
				subjects = append(subjects, subject{v.IAMID, "service ID " + v.Name})
			}
		}
	}
	type row struct {
		client.Policy
		SubjectName string
		CanDelete   bool
	}
	var rows []row
	for _, p := range l.Policies {
		can := ss.Account("Administrator") || (p.Resource.Org != "" && ss.Org(p.Resource.Org, "Manager"))
		rows = append(rows, row{Policy: p, SubjectName: names[p.Subject], CanDelete: can})
	}
	// Scopes the caller may grant at: the account (Administrators) and the
	// orgs where they are Manager.
	type scope struct{ Value, Label string }
	var scopes []scope
	if ss.Account("Administrator") {
		scopes = append(scopes, scope{"", "Whole account"})
	}
	for _, o := range ss.me.Orgs {
		if ss.Org(o.ID, "Manager") {
			scopes = append(scopes, scope{o.Name, "Org " + o.Name})
		}
	}
	var roles []string
	for _, role := range []string{"Reader", "Writer", "Manager", "Administrator"} {
		if ss.Any(role) {
			roles = append(roles, role)
		}
	}
	next := ""
	if tok := l.NextPageToken(); tok != "" {
		next = "/console/policies?" + url.Values{"page": {tok}}.Encode()
	}
	return s.render(w, r, http.StatusOK, "policies", &view{Title: "Policies", Section: "policies", S: ss, D: map[string]any{
		"Policies": rows, "Next": next, "Subjects": subjects, "Scopes": scopes, "Roles": roles,
		"CanWrite": len(scopes) > 0,
	}})
}

func (s *Console) policyCreate(w http.ResponseWriter, r *http.Request, ss *session) error {
	subj := strings.TrimSpace(r.PostFormValue("subject_id"))
	if subj == "" {
		subj = strings.TrimSpace(r.PostFormValue("subject"))
	}
	_, err := ss.c.CreatePolicy(r.Context(), client.CreatePolicy{
		Subject: subj, Role: r.PostFormValue("role"), Org: r.PostFormValue("org"),
	})
	if err != nil {
		return withBack(err, "/console/policies")
	}
	return done(w, r, "/console/policies", "granted")
}

func (s *Console) policyDelete(w http.ResponseWriter, r *http.Request, ss *session) error {
	if !confirmed(r) {
		return s.confirm(w, r, ss, "Remove policy", "Remove this policy? Live tokens of its subject lose the role on their next request.", "Remove", "/console/policies")
	}
	if err := ss.c.DeletePolicy(r.Context(), r.PathValue("id")); err != nil {
		return withBack(err, "/console/policies")
	}
	return done(w, r, "/console/policies", "deleted")
}

func (s *Console) audit(w http.ResponseWriter, r *http.Request, ss *session) error {
	q := r.URL.Query()
	aq := client.AuditQuery{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), Limit: 100}
	if v := q.Get("since"); v != "" {
		t, err := parseFormTime(v)
		if err != nil {
			return &pageError{Status: http.StatusBadRequest, Message: "Since must be a date and time such as 2031-12-31T23:59.", Back: "/console/audit"}
		}
		aq.Since = t
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return &pageError{Status: http.StatusBadRequest, Message: "after must be a number.", Back: "/console/audit"}
		}
		aq.After = n
	}
	page, err := ss.c.ListAudit(r.Context(), aq)
	if err != nil {
		return err
	}
	var verify *client.AuditVerification
	if q.Get("verify") == "1" {
		if verify, err = ss.c.VerifyAudit(r.Context()); err != nil {
			return err
		}
	}
	next := ""
	if a := page.NextAfter(); a > 0 {
		nq := url.Values{"actor": {aq.Actor}, "action": {aq.Action}, "target": {aq.Target}, "since": {q.Get("since")}, "after": {strconv.FormatInt(a, 10)}}
		for k, v := range nq {
			if v[0] == "" {
				delete(nq, k)
			}
		}
		next = "/console/audit?" + nq.Encode()
	}
	return s.render(w, r, http.StatusOK, "audit", &view{Title: "Audit log", Section: "audit", S: ss, D: map[string]any{
		"Entries": page.Entries, "Next": next, "Verify": verify,
		"Actor": aq.Actor, "Action": aq.Action, "Target": aq.Target, "Since": q.Get("since"),
	}})
}
