package iam

import (
	"encoding/base64"
	"encoding/json"
	"errors"

	"gatehouse/internal/errs"
)

// Page is one page of an IAM-style listing (offset/limit/first/next envelope).
type Page[T any] struct {
	Items     []T
	Offset    int
	Limit     int
	NextToken string // empty on the last page
}

// cursor is the pagetoken of the simple listings: where the last page ended.
type cursor struct {
	Offset int    `json:"n"`
	After  string `json:"a"`
}

// encodeToken makes an opaque pagetoken of t.
func encodeToken[T any](t T) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken reads a pagetoken made by encodeToken.
func decodeToken[T any](s string) (T, error) {
	var t T
	if len(s) > 2048 {
		return t, errors.New("too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return t, err
	}
	return t, json.Unmarshal(b, &t)
}

// pageSize applies the IAM default (20) and bounds (1–100).
func pageSize(n int, set bool) (int, error) {
	if !set {
		return 20, nil
	}
	if n < 1 || n > 100 {
		return 0, errs.Invalid("pagesize", "pagesize must be between 1 and 100.")
	}
	return n, nil
}

// listPage runs a keyset listing for one page: list is asked for limit+1
// records after the cursor's position; key gives a record's position.
func listPage[T any](size int, sizeSet bool, token string, list func(after string, limit int) ([]T, error), key func(T) string) (Page[T], error) {
	limit, err := pageSize(size, sizeSet)
	if err != nil {
		return Page[T]{}, err
	}
	var c cursor
	if token != "" {
		if c, err = decodeToken[cursor](token); err != nil {
			return Page[T]{}, errs.Invalid("pagetoken", "pagetoken is not valid; start again without it.")
		}
	}
	items, err := list(c.After, limit+1)
	if err != nil {
		return Page[T]{}, err
	}
	p := Page[T]{Offset: c.Offset, Limit: limit}
	if len(items) > limit {
		items = items[:limit]
		p.NextToken = encodeToken(cursor{Offset: c.Offset + limit, After: key(items[limit-1])})
	}
	p.Items = items
	return p, nil
}
