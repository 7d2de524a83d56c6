package httpapi

import (
	"net/http"
	"net/url"
	"strconv"

	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
)

// pageSizeParam reads ?pagesize=; set is false when it is absent.
func pageSizeParam(q url.Values) (size int, set bool, err error) {
	ps := q.Get("pagesize")
	if ps == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(ps)
	if err != nil {
		return 0, false, errs.Invalid("pagesize", "pagesize must be a whole number between 1 and 100.")
	}
	return n, true, nil
}

// writePage writes an IAM-style page: {"offset","limit","first","next"?,<field>:[…]},
// where first and next repeat the request's query with the right pagetoken.
func writePage[T, V any](w http.ResponseWriter, r *http.Request, field string, page iam.Page[T], view func(T) V) {
	views := make([]V, len(page.Items))
	for i, it := range page.Items {
		views[i] = view(it)
	}
	link := func(token string) string {
		u := url.Values{}
		for k, v := range r.URL.Query() {
			if k != "pagetoken" {
				u[k] = v
			}
		}
		if token != "" {
			u.Set("pagetoken", token)
		}
		if len(u) == 0 {
			return r.URL.Path
		}
		return r.URL.Path + "?" + u.Encode()
	}
	body := map[string]any{"offset": page.Offset, "limit": page.Limit, "first": link(""), field: views}
	if page.NextToken != "" {
		body["next"] = link(page.NextToken)
	}
	writeJSON(w, http.StatusOK, body)
}

// limitParam reads ?limit= of the bare-array listings: default 100, at most 1000.
func limitParam(q url.Values) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, errs.Invalid("limit", "limit must be a whole number between 1 and 1000.")
	}
	return n, nil
}

// writeArray writes a bare JSON array (API Manager listings, as V5 returns
// them) with an RFC 8288 Link to the next page when more remain.
func writeArray[T, V any](w http.ResponseWriter, r *http.Request, items []T, limit int, next string, view func(T) V) {
	views := make([]V, len(items))
	for i, it := range items {
		views[i] = view(it)
	}
	if next != "" {
		q := url.Values{"limit": {strconv.Itoa(limit)}, "after": {next}}
		w.Header().Set("Link", "<"+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, views)
}
