package apidef

import (
	"fmt"
	"regexp"
	"strings"
)

// Names, versions and identifiers appear in URLs ("name:version" path
// segments), in subscriptions and in X-RateLimit headers, so they are kept to
// characters that need no escaping anywhere.
var (
	// nameRE: an API's or product's name — lowercase letters and digits,
	// with '-', '.' or '_' inside. Slugs of titles use only '-'.
	nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]{0,98}[a-z0-9])?$`)
	// versionRE: a version such as 1.0.0, v2 or 2.1.0-beta+7.
	versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)
	// identRE: the name of a plan or of a rate limit.
	identRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	// paramRE: the name inside a path template's braces.
	paramRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)
)

const (
	nameRule    = "lowercase letters and digits, with '-', '.' or '_' inside, at most 100 characters"
	versionRule = "letters, digits, '.', '_', '+' and '-', starting with a letter or digit, at most 64 characters"
	identRule   = "letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters"
)

func validName(s string) bool    { return nameRE.MatchString(s) }
func validVersion(s string) bool { return versionRE.MatchString(s) }
func validIdent(s string) bool   { return identRE.MatchString(s) }

// validTitle: a display title holds no control characters (they would end
// up in listings, the console and logs).
func validTitle(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

const titleRule = "title must not contain control characters"

// slugify derives a name from a title: lowercase, every run of characters
// other than ASCII letters and digits becomes one '-', trimmed of '-'.
func slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}

// methods are the HTTP methods an operation may use, in the order operations
// are listed.
var methods = []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}

// httpMethod returns the upper-case method for s (any case), or "".
func httpMethod(s string) string {
	u := strings.ToUpper(s)
	for _, m := range methods {
		if m == u {
			return m
		}
	}
	return ""
}

// checkPathTemplate returns what is wrong with an OpenAPI path template, or
// "". A template starts with '/', has no empty segments (a single trailing
// '/' is allowed), no query or fragment, and each "{name}" is a whole
// segment whose name appears once.
func checkPathTemplate(p string) string {
	if !strings.HasPrefix(p, "/") {
		if checkPathTemplate("/"+p) == "" {
			return fmt.Sprintf("the path %q must start with '/', e.g. /%s", p, p)
		}
		return fmt.Sprintf("the path %q must start with '/'", p)
	}
	for _, r := range p {
		if r <= ' ' || r == 0x7f {
			return fmt.Sprintf("the path %q contains a space or control character; percent-encode it or remove it", p)
		}
	}
	if strings.ContainsAny(p, "?#") {
		return fmt.Sprintf("the path %q contains '?' or '#'; a path template has no query or fragment (declare query parameters under parameters)", p)
	}
	segs := strings.Split(p[1:], "/")
	names := map[string]bool{}
	for i, s := range segs {
		if s == "" {
			if i == len(segs)-1 {
				continue // trailing slash, or the root path "/"
			}
			return fmt.Sprintf("the path %q has an empty segment (\"//\"); remove the extra '/'", p)
		}
		if !strings.ContainsAny(s, "{}") {
			continue
		}
		if len(s) < 3 || s[0] != '{' || s[len(s)-1] != '}' || strings.ContainsAny(s[1:len(s)-1], "{}") {
			return fmt.Sprintf("the path %q has the segment %q: a template parameter must be a whole segment such as {id} (e.g. /items/{id}), with no other characters in the segment", p, s)
		}
		name := s[1 : len(s)-1]
		if !paramRE.MatchString(name) {
			return fmt.Sprintf("the path %q has the parameter %q: use letters, digits, '_', '.' or '-' in its name", p, s)
		}
		if names[name] {
			return fmt.Sprintf("the path %q uses the parameter {%s} twice; give each a distinct name", p, name)
		}
		names[name] = true
	}
	return ""
}

// routeShape is a path template with its parameter names erased: two
// templates with the same shape match the same requests.
func routeShape(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}
