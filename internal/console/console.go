// Package console is the web console at /console/: server-rendered pages with
// embedded assets, over the same /v1 API (and so the same authorization and
// audit) as every other client.
//
// It never reaches the store or a service package: every read and every
// change is a call of the public SDK (package client) whose transport hands
// the request to the management API's handler in-process, with the browser's
// address. The console therefore has exactly the API's rules; the roles it
// reads from GET /v1/me only decide which buttons to draw.
//
// The session is the access token itself, in an HttpOnly, SameSite=Strict
// cookie; every page load re-validates it through the API, so a revoked key
// signs its console sessions out on their next request. Every form carries a
// CSRF token bound to the session; every response carries a strict CSP.
package console

import (
	"crypto/rand"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gatehouse/client"
)

// Config holds the console's dependencies.
type Config struct {
	// API serves the management API and token service in-process; the console
	// calls it for everything it shows or changes.
	API http.Handler
	// Secure marks the cookies Secure (the server runs TLS).
	Secure bool
	// CSRFKey signs the forms' CSRF tokens. Every node serving the console
	// must have the same one: the app derives it from the master key with
	// DeriveKey. Empty: a random key for this process (one node only; forms
	// rendered before a restart are refused after it).
	CSRFKey []byte
	// Logger receives the console's own problems (default: discarded).
	Logger *slog.Logger
	// Now is the clock for cookie expiry (default time.Now).
	Now func() time.Time
}

// Console is the console's handler.
type Console struct {
	api    http.Handler
	secure bool
	csrf   csrf
	log    *slog.Logger
	now    func() time.Time
	mux    *http.ServeMux
	pages  map[string]*template.Template
	assets *assets
}

// New returns the console handler, mounted at /console/.
func New(cfg Config) http.Handler {
	key := cfg.CSRFKey
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Console{
		api: cfg.API, secure: cfg.Secure, csrf: csrf{key: key}, log: cfg.Logger, now: cfg.Now,
		mux: http.NewServeMux(), assets: loadAssets(),
	}
	s.pages = parsePages(s.funcs())
	s.routes()
	return s
}

// maxForm bounds a form's body: API and product documents may be 5 MiB.
const maxForm = 6 << 20

func (s *Console) routes() {
	m := s.mux
	m.HandleFunc("GET /console/static/{file}", s.serveStatic)
	m.HandleFunc("GET /console/{$}", s.authed(s.home))
	m.HandleFunc("GET /console/signin", s.signinPage)
	m.HandleFunc("POST /console/signin", s.signin)
	m.HandleFunc("POST /console/signout", s.signout)

	m.HandleFunc("GET /console/apikeys", s.authed(s.apiKeys))
	m.HandleFunc("GET /console/apikeys/new", s.authed(s.apiKeyNew))
	m.HandleFunc("POST /console/apikeys", s.authed(s.apiKeyCreate))
	m.HandleFunc("POST /console/apikeys/{id}/{action}", s.authed(s.apiKeyAction))

	m.HandleFunc("GET /console/serviceids", s.authed(s.serviceIDs))
	m.HandleFunc("POST /console/serviceids", s.authed(s.serviceIDCreate))
	m.HandleFunc("POST /console/serviceids/{id}/{action}", s.authed(s.serviceIDAction))
	m.HandleFunc("GET /console/users", s.authed(s.users))
	m.HandleFunc("POST /console/users", s.authed(s.userCreate))
	m.HandleFunc("POST /console/users/{id}/{action}", s.authed(s.userAction))
	m.HandleFunc("GET /console/policies", s.authed(s.policies))
	m.HandleFunc("POST /console/policies", s.authed(s.policyCreate))
	m.HandleFunc("POST /console/policies/{id}/delete", s.authed(s.policyDelete))
	m.HandleFunc("GET /console/audit", s.authed(s.audit))

	m.HandleFunc("GET /console/orgs", s.authed(s.orgs))
	m.HandleFunc("POST /console/orgs", s.authed(s.orgCreate))
	m.HandleFunc("GET /console/orgs/{org}", s.authed(s.org))
	m.HandleFunc("POST /console/orgs/{org}/delete", s.authed(s.orgDelete))
	m.HandleFunc("POST /console/orgs/{org}/catalogs", s.authed(s.catalogCreate))
	m.HandleFunc("GET /console/orgs/{org}/apis/new", s.authed(s.apiNew))
	m.HandleFunc("POST /console/orgs/{org}/apis", s.authed(s.apiImport))
	m.HandleFunc("GET /console/orgs/{org}/apis/{api}", s.authed(s.apiDoc))
	m.HandleFunc("POST /console/orgs/{org}/apis/{api}/delete", s.authed(s.apiDelete))
	m.HandleFunc("GET /console/orgs/{org}/products/new", s.authed(s.productNew))
	m.HandleFunc("POST /console/orgs/{org}/products", s.authed(s.productCreate))
	m.HandleFunc("GET /console/orgs/{org}/products/{product}", s.authed(s.productDoc))
	m.HandleFunc("POST /console/orgs/{org}/products/{product}/delete", s.authed(s.productDelete))

	cat := "/console/orgs/{org}/catalogs/{env}"
	m.HandleFunc("GET "+cat, s.authed(s.catalog))
	m.HandleFunc("POST "+cat+"/delete", s.authed(s.catalogDelete))
	m.HandleFunc("POST "+cat+"/publish", s.authed(s.publish))
	m.HandleFunc("POST "+cat+"/publications/{product}/state", s.authed(s.publicationState))
	m.HandleFunc("GET "+cat+"/analytics", s.authed(s.analytics))
	m.HandleFunc("POST "+cat+"/consumer-orgs", s.authed(s.consumerOrgCreate))
	corg := cat + "/consumer-orgs/{corg}"
	m.HandleFunc("GET "+corg, s.authed(s.consumerOrg))
	m.HandleFunc("POST "+corg+"/delete", s.authed(s.consumerOrgDelete))
	m.HandleFunc("POST "+corg+"/apps", s.authed(s.appCreate))
	app := corg + "/apps/{app}"
	m.HandleFunc("GET "+app, s.authed(s.app))
	m.HandleFunc("POST "+app+"/delete", s.authed(s.appDelete))
	m.HandleFunc("POST "+app+"/credentials", s.authed(s.credentialAdd))
	m.HandleFunc("POST "+app+"/credentials/{cid}/{action}", s.authed(s.credentialAction))
	m.HandleFunc("POST "+app+"/subscriptions", s.authed(s.subscribe))
	m.HandleFunc("POST "+app+"/subscriptions/{sid}/{action}", s.authed(s.subscriptionAction))

	m.HandleFunc("/console/", s.notFound)
}

// Content-Security-Policy of every console response: scripts and styles
// only from the console's own embedded files, no inline code of any kind,
// no framing, and forms that post only back here.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (s *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	// Pages show secrets once and state that changes: never stored anywhere.
	// Static assets replace this with their own caching.
	h.Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

// session is one signed-in browser, valid for this request.
type session struct {
	token string
	c     *client.Client
	me    *client.Me
	csrf  string
	acct  int            // effective account role (rank)
	max   int            // highest effective role anywhere
	orgs  map[string]int // effective role per org, by id and by name
}

// Role ranks, as the API's ladder.
var roleRank = map[string]int{"Reader": 1, "Writer": 2, "Manager": 3, "Administrator": 4}

// Account reports whether the caller has at least role on the whole account.
func (s *session) Account(role string) bool { return s.acct >= roleRank[role] && roleRank[role] > 0 }

// Any reports whether the caller has at least role somewhere (self-service:
// the caller's own API keys).
func (s *session) Any(role string) bool { return s.max >= roleRank[role] && roleRank[role] > 0 }

// Org reports whether the caller has at least role in org (name or id).
func (s *session) Org(org, role string) bool {
	return max(s.orgs[org], s.acct) >= roleRank[role] && roleRank[role] > 0
}

// Me is the caller.
func (s *session) Me() *client.Me { return s.me }

// CSRF is the token every form of this session carries.
func (s *session) CSRF() string { return s.csrf }

// RoleName is the caller's highest effective role, for the header.
func (s *session) RoleName() string {
	for name, r := range roleRank {
		if r == s.max {
			return name
		}
	}
	return "no role"
}

// client returns an SDK client whose calls go in-process to the API as
// coming from the browser of r.
func (s *Console) client(r *http.Request) *client.Client {
	t := &inProcess{api: s.api, remoteAddr: r.RemoteAddr, forwarded: r.Header.Values("X-Forwarded-For"), tls: r.TLS}
	host := r.Host
	if host == "" {
		host = "console.invalid"
	}
	return client.New("http://" + host).WithHTTPClient(&http.Client{Transport: t, Timeout: 60 * time.Second})
}

// handler is an authenticated console handler.
type handler func(w http.ResponseWriter, r *http.Request, ss *session) error

// authed authenticates the request through the API (GET /v1/me with the
// session's token), and for POSTs checks the origin and the CSRF token
// before running h. A session the API no longer accepts is signed out.
func (s *Console) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		post := r.Method == http.MethodPost
		if post && !sameOrigin(r) {
			s.forbidden(w, r, "This form was sent from another site.")
			return
		}
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" {
			s.toSignin(w, r, "")
			return
		}
		cl := s.client(r).WithToken(c.Value)
		me, err := cl.Me(r.Context())
		if err != nil {
			if client.StatusOf(err) == http.StatusUnauthorized {
				s.clearSession(w)
				s.toSignin(w, r, "ended")
				return
			}
			s.fail(w, r, nil, err)
			return
		}
		ss := newSession(c.Value, cl, me, s.csrf.token("session", sessionBinding(c.Value)))
		if post {
			if err := parseForm(w, r); err != nil {
				s.fail(w, r, ss, err)
				return
			}
			if r.MultipartForm != nil {
				defer r.MultipartForm.RemoveAll()
			}
			if !s.csrf.valid("session", sessionBinding(c.Value), r.PostFormValue(csrfField)) {
				s.forbidden(w, r, "The form's security token is missing or belongs to another session. Reload the page and try again.")
				return
			}
		}
		if err := h(w, r, ss); err != nil {
			s.fail(w, r, ss, err)
		}
	}
}

func newSession(token string, c *client.Client, me *client.Me, csrf string) *session {
	ss := &session{token: token, c: c, me: me, csrf: csrf, orgs: map[string]int{}}
	for _, ra := range me.Roles {
		if ra.Scope == "account" {
			ss.acct = roleRank[ra.Role]
		}
	}
	ss.max = ss.acct
	for _, o := range me.Orgs {
		r := roleRank[o.Role]
		ss.orgs[o.ID], ss.orgs[o.Name] = r, r
		ss.max = max(ss.max, r)
	}
	for _, ra := range me.Roles {
		ss.max = max(ss.max, roleRank[ra.Role])
	}
	return ss
}

// parseForm reads a POST body, url-encoded or multipart, within maxForm.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	if ct == "multipart/form-data" {
		err = r.ParseMultipartForm(1 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &pageError{Status: http.StatusRequestEntityTooLarge, Message: "The form is too large (at most 6 MiB)."}
		}
		return &pageError{Status: http.StatusBadRequest, Message: "The form could not be read."}
	}
	return nil
}

// toSignin sends a browser without a (valid) session to the sign-in page.
func (s *Console) toSignin(w http.ResponseWriter, r *http.Request, reason string) {
	u := "/console/signin"
	if reason != "" {
		u += "?reason=" + url.QueryEscape(reason)
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// done redirects after a successful change (POST, redirect, GET), with a
// note from the fixed table of notes.
func done(w http.ResponseWriter, r *http.Request, to, note string) error {
	if note != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "done=" + url.QueryEscape(note)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// notes are the only texts a redirect can ask a page to show.
var notes = map[string]string{
	"created": "Created.", "deleted": "Deleted.", "locked": "Locked.", "unlocked": "Unlocked.",
	"disabled": "Disabled.", "enabled": "Enabled.", "imported": "Imported.", "published": "Published.",
	"state": "Lifecycle state changed.", "approved": "Subscription approved.", "subscribed": "Subscribed.",
	"granted": "Policy granted.",
}

func noteOf(r *http.Request) string { return notes[r.URL.Query().Get("done")] }

func (s *Console) home(w http.ResponseWriter, r *http.Request, ss *session) error {
	http.Redirect(w, r, "/console/apikeys", http.StatusSeeOther)
	return nil
}

func (s *Console) notFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, nil, http.StatusNotFound, "There is no such page.", nil, "/console/")
}

// confirmed reports whether a destructive form was confirmed (by the
// script's dialog, or the confirmation page of a browser without it).
func confirmed(r *http.Request) bool { return r.PostFormValue("confirm") == "yes" }

// confirm renders the confirmation page of an unconfirmed destructive POST:
// the same form again, with confirm=yes.
func (s *Console) confirm(w http.ResponseWriter, r *http.Request, ss *session, title, message, button, back string, keep ...string) error {
	fields := map[string]string{}
	for _, k := range keep {
		fields[k] = r.PostFormValue(k)
	}
	return s.render(w, r, http.StatusOK, "confirm", &view{
		Title: title, S: ss,
		D: map[string]any{"Message": message, "Action": r.URL.Path, "Button": button, "Back": back, "Fields": fields},
	})
}
