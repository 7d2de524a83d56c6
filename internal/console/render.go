package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"gatehouse/client"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// view is what every page template gets.
type view struct {
	Title   string
	Section string   // the navigation entry to highlight
	S       *session // nil when signed out
	Note    string   // a confirmation from the fixed table (notes)
	Err     *pageError
	Crumbs  []crumb
	Assets  *assets
	D       any // the page's own data
}

type crumb struct{ Label, URL string }

// pageError is an error shown to the user: the API's message (written to be
// shown to clients) or the console's own.
type pageError struct {
	Status  int
	Message string
	Details []string
	Back    string
}

func (e *pageError) Error() string { return e.Message }

// withBack makes a failed change's error page link back to the page it came from.
func withBack(err error, back string) error {
	if err == nil {
		return nil
	}
	var pe *pageError
	if errors.As(err, &pe) {
		pe.Back = back
		return pe
	}
	return &backErr{err: err, back: back}
}

type backErr struct {
	err  error
	back string
}

func (b *backErr) Error() string { return b.err.Error() }
func (b *backErr) Unwrap() error { return b.err }

// parsePages parses each page with the layout and the shared parts.
func parsePages(funcs template.FuncMap) map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/_*.html"))
	pages := map[string]*template.Template{}
	names, _ := fs.Glob(templateFS, "templates/*.html")
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		t := template.Must(base.Clone())
		pages[name] = template.Must(t.ParseFS(templateFS, n))
	}
	return pages
}

func (s *Console) funcs() template.FuncMap {
	return template.FuncMap{
		"time": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"timep": func(t *time.Time) string {
			if t == nil || t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"esc": url.PathEscape,
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				k, _ := kv[i].(string)
				m[k] = kv[i+1]
			}
			return m
		},
		"join": strings.Join,
		"query": func(kv ...string) string {
			q := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] != "" {
					q.Set(kv[i], kv[i+1])
				}
			}
			return q.Encode()
		},
	}
}

// render writes a page.
func (s *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) error {
	t, ok := s.pages[page]
	if !ok {
		return fmt.Errorf("console: no page %q", page)
	}
	v.Assets = s.assets
	if v.Note == "" && r.Method == http.MethodGet {
		v.Note = noteOf(r)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("console: render page", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return nil
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// fail shows err: the API's refusals as what they are (403, 404, 409, …),
// with the API's own client-safe message; anything else as a 500 without
// internals.
func (s *Console) fail(w http.ResponseWriter, r *http.Request, ss *session, err error) {
	back := ""
	var be *backErr
	if errors.As(err, &be) {
		back = be.back
	}
	var pe *pageError
	if errors.As(err, &pe) {
		status := pe.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		if back == "" {
			back = pe.Back
		}
		s.renderError(w, r, ss, status, pe.Message, pe.Details, back)
		return
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		if ce.StatusCode == http.StatusUnauthorized {
			s.clearSession(w)
			s.toSignin(w, r, "ended")
			return
		}
		var details []string
		for _, d := range ce.Details {
			if d.Target != "" {
				details = append(details, d.Target+": "+d.Message)
			} else {
				details = append(details, d.Message)
			}
		}
		msg := ce.Message
		if ce.Target != "" && !strings.Contains(msg, ce.Target) {
			msg += " (" + ce.Target + ")"
		}
		status := ce.StatusCode
		if status >= 500 {
			s.log.Warn("console: the API failed", "status", status, "code", ce.Code, "trace", ce.Trace)
			msg = "The server could not do this right now (request " + ce.Trace + ")."
		}
		s.renderError(w, r, ss, status, msg, details, back)
		return
	}
	s.log.Error("console: request failed", "path", r.URL.Path, "err", err)
	s.renderError(w, r, ss, http.StatusInternalServerError, "Something went wrong.", nil, back)
}

func (s *Console) renderError(w http.ResponseWriter, r *http.Request, ss *session, status int, msg string, details []string, back string) {
	if back == "" {
		back = "/console/"
	}
	_ = s.render(w, r, status, "error", &view{
		Title: http.StatusText(status), S: ss,
		Err: &pageError{Status: status, Message: msg, Details: details, Back: back},
	})
}

// forbidden refuses a form that fails the origin or CSRF checks.
func (s *Console) forbidden(w http.ResponseWriter, r *http.Request, msg string) {
	s.renderError(w, r, nil, http.StatusForbidden, msg, nil, "/console/")
}

// assets are the embedded static files with their content hashes: pages
// link them as name?v=hash, and those URLs are cached for a year.
type assets struct {
	files map[string][]byte
	hash  map[string]string
	CSS   string
	JS    string
}

func loadAssets() *assets {
	a := &assets{files: map[string][]byte{}, hash: map[string]string{}}
	entries, _ := fs.ReadDir(staticFS, "static")
	for _, e := range entries {
		b, _ := fs.ReadFile(staticFS, "static/"+e.Name())
		sum := sha256.Sum256(b)
		a.files[e.Name()] = b
		a.hash[e.Name()] = hex.EncodeToString(sum[:8])
	}
	a.CSS = "/console/static/console.css?v=" + a.hash["console.css"]
	a.JS = "/console/static/console.js?v=" + a.hash["console.js"]
	return a
}

func (s *Console) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, ok := s.assets.files[name]
	if !ok {
		s.notFound(w, r)
		return
	}
	h := w.Header()
	etag := `"` + s.assets.hash[name] + `"`
	if r.URL.Query().Get("v") == s.assets.hash[name] {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	h.Set("ETag", etag)
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(b)
}
