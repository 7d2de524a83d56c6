package console

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"gatehouse/client"
)

type signinData struct {
	CSRF     string
	Username string
}

// Reasons a browser is sent to the sign-in page, from a fixed table.
var signinReasons = map[string]string{
	"ended":  "Your session has ended. Sign in again.",
	"signed": "You are signed out.",
}

func (s *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	nonce := s.signinNonce(w, r)
	v := &view{Title: "Sign in", D: signinData{CSRF: s.csrf.token("signin", nonce)}}
	v.Note = signinReasons[r.URL.Query().Get("reason")]
	_ = s.render(w, r, http.StatusOK, "signin", v)
}

// maxKeyFile bounds an uploaded apikey.json.
const maxKeyFile = 64 << 10

// errSignin is the one message of every refused sign-in: it never says
// whether the key, the username or the password was wrong.
const errSignin = "Sign-in failed: the credentials are not valid."

// signin exchanges an API key (typed or from an uploaded apikey.json) or a
// local user's username and password at the token endpoint, in-process, and
// keeps the access token as the session cookie.
func (s *Console) signin(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		s.forbidden(w, r, "This form was sent from another site.")
		return
	}
	if err := parseForm(w, r); err != nil {
		s.fail(w, r, nil, err)
		return
	}
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	nonce := ""
	if c, err := r.Cookie(signinCookie); err == nil {
		nonce = c.Value
	}
	if !s.csrf.valid("signin", nonce, r.PostFormValue(csrfField)) {
		s.forbidden(w, r, "The sign-in form has expired or cookies are blocked. Reload the sign-in page and try again.")
		return
	}
	again := func(status int, msg string) {
		newNonce := s.signinNonce(w, r)
		_ = s.render(w, r, status, "signin", &view{
			Title: "Sign in", Err: &pageError{Status: status, Message: msg},
			D: signinData{CSRF: s.csrf.token("signin", newNonce), Username: r.PostFormValue("username")},
		})
	}
	cl := s.client(r)
	var tok *client.IAMToken
	var err error
	switch r.PostFormValue("method") {
	case "password":
		user, pw := strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("password")
		if user == "" || pw == "" {
			again(http.StatusBadRequest, "Enter a username and a password.")
			return
		}
		tok, err = cl.PasswordToken(r.Context(), user, pw)
	default:
		key, ok := keyFromForm(r)
		if !ok {
			again(http.StatusBadRequest, "Enter an API key or choose an apikey.json file.")
			return
		}
		tok, err = cl.IAMToken(r.Context(), key, client.TokenOptions{})
	}
	if err != nil {
		switch client.StatusOf(err) {
		case http.StatusTooManyRequests:
			again(http.StatusTooManyRequests, "Too many failed sign-ins from your address. Wait a minute and try again.")
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
			again(http.StatusBadRequest, errSignin)
		default:
			s.log.Warn("console: sign-in failed", "err", err)
			again(http.StatusServiceUnavailable, "Sign-in is not available right now. Try again later.")
		}
		return
	}
	s.setSession(w, tok.AccessToken, tok.ExpiresIn)
	http.Redirect(w, r, "/console/apikeys", http.StatusSeeOther)
}

// keyFromForm is the typed key, or else the apikey of an uploaded
// apikey.json (SPEC §2.2: only apikey is required). A typed "@…" is not a
// path here: the browser uploads the file instead.
func keyFromForm(r *http.Request) (string, bool) {
	if k := strings.TrimSpace(r.PostFormValue("apikey")); k != "" {
		return k, true
	}
	if r.MultipartForm == nil {
		return "", false
	}
	f, _, err := r.FormFile("apikey_file")
	if err != nil {
		return "", false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil || len(data) > maxKeyFile {
		return "", false
	}
	var kf struct {
		APIKey string `json:"apikey"`
	}
	if json.Unmarshal(data, &kf) != nil || strings.TrimSpace(kf.APIKey) == "" {
		// Not a key file: treated like a wrong key (the same message).
		return "\x00invalid", true
	}
	return strings.TrimSpace(kf.APIKey), true
}

// signout forgets the session. The token itself stays valid until it
// expires (the API has no token revocation of its own), but the browser no
// longer holds it.
func (s *Console) signout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		s.forbidden(w, r, "This form was sent from another site.")
		return
	}
	if err := parseForm(w, r); err != nil {
		s.fail(w, r, nil, err)
		return
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		s.toSignin(w, r, "signed")
		return
	}
	if !s.csrf.valid("session", sessionBinding(c.Value), r.PostFormValue(csrfField)) {
		s.forbidden(w, r, "The form's security token is missing or belongs to another session. Reload the page and try again.")
		return
	}
	s.clearSession(w)
	s.toSignin(w, r, "signed")
}
