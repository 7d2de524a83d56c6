// Package client is the public Go SDK for Gatehouse: the token service and the
// /v1 management API. The gatehouse CLI and the end-to-end tests use it.
//
//	c := client.New("http://127.0.0.1:8080")
//	tok, err := c.IAMToken(ctx, apikey, client.TokenOptions{})
//	me, err := c.WithToken(tok.AccessToken).Me(ctx)
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Client talks to one Gatehouse server. It is safe for concurrent use; WithToken
// returns a copy bound to a bearer token.
type Client struct {
	base  string
	http  *http.Client
	token string
}

// New returns a client for the server at baseURL (e.g. http://127.0.0.1:8080).
func New(baseURL string) *Client {
	return &Client{base: strings.TrimRight(baseURL, "/"), http: &http.Client{Timeout: 60 * time.Second}}
}

// WithHTTPClient returns a copy that uses hc.
func (c *Client) WithHTTPClient(hc *http.Client) *Client {
	cp := *c
	cp.http = hc
	return &cp
}

// WithToken returns a copy that sends Authorization: Bearer token.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.token = token
	return &cp
}

// Error is a non-2xx answer, from either the management API (IAM identity
// shape) or the token service (IAM token shape).
type Error struct {
	StatusCode int
	Code       string // e.g. "not_found" or "BXNIM0415E"
	Message    string
	Target     string // the field at fault, for validation errors
	Trace      string // the server's request id
	// Details are the further problems of a validation error, each located
	// by a field name or, for API and product documents, a JSON pointer.
	Details []ErrorDetail
}

// ErrorDetail is one problem of a validation error.
type ErrorDetail struct {
	Message    string
	Target     string // a field name or a JSON pointer such as /info/version
	TargetType string // "field" or "pointer"
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%d %s: %s", e.StatusCode, e.Code, e.Message)
	if e.Target != "" {
		msg += " (field " + e.Target + ")"
	}
	return msg
}

// StatusOf returns the HTTP status of an *Error in err's chain, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// request is one call.
type request struct {
	method  string
	path    string
	query   url.Values
	body    any // JSON-encoded when not nil
	form    url.Values
	raw     []byte // sent as it is, with ctype (API and product documents)
	ctype   string
	headers map[string]string
}

// response is what do returns besides the decoded body.
type response struct {
	header http.Header
	status int
}

func (c *Client) do(ctx context.Context, req request, out any) (response, error) {
	u := c.base + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	var body io.Reader
	var ctype string
	switch {
	case req.body != nil:
		b, err := json.Marshal(req.body)
		if err != nil {
			return response{}, err
		}
		body, ctype = bytes.NewReader(b), "application/json"
	case req.form != nil:
		body, ctype = strings.NewReader(req.form.Encode()), "application/x-www-form-urlencoded"
	case req.raw != nil:
		body, ctype = bytes.NewReader(req.raw), req.ctype
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u, body)
	if err != nil {
		return response{}, err
	}
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	hr.Header.Set("Accept", "application/json")
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range req.headers {
		hr.Header.Set(k, v)
	}
	res, err := c.http.Do(hr)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return response{}, err
	}
	r := response{header: res.Header, status: res.StatusCode}
	if res.StatusCode >= 300 {
		return r, decodeError(res.StatusCode, data)
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = data
		return r, nil
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return r, fmt.Errorf("decode %s %s response: %w", req.method, req.path, err)
		}
	}
	return r, nil
}

func decodeError(status int, data []byte) error {
	e := &Error{StatusCode: status}
	var body struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Target  *struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"target"`
		} `json:"errors"`
		Trace        string `json:"trace"`
		ErrorCode    string `json:"errorCode"`
		ErrorMessage string `json:"errorMessage"`
		Context      struct {
			RequestID string `json:"requestId"`
		} `json:"context"`
	}
	if json.Unmarshal(data, &body) == nil {
		switch {
		case len(body.Errors) > 0:
			e.Code, e.Message, e.Trace = body.Errors[0].Code, body.Errors[0].Message, body.Trace
			if body.Errors[0].Target != nil {
				e.Target = body.Errors[0].Target.Name
			}
			for _, d := range body.Errors[1:] {
				ed := ErrorDetail{Message: d.Message}
				if d.Target != nil {
					ed.Target, ed.TargetType = d.Target.Name, d.Target.Type
				}
				e.Details = append(e.Details, ed)
			}
			return e
		case body.ErrorCode != "":
			e.Code, e.Message, e.Trace = body.ErrorCode, body.ErrorMessage, body.Context.RequestID
			return e
		}
	}
	e.Code, e.Message = http.StatusText(status), strings.TrimSpace(string(data))
	return e
}

// KeyFile is the apikey.json document.
type KeyFile struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	APIKey      string `json:"apikey"`
	CreatedAt   string `json:"createdAt"`
	Locked      bool   `json:"locked"`
	UUID        string `json:"uuid"`
}

// ReadKeyFile reads an apikey.json file; only apikey is required.
func ReadKeyFile(path string) (KeyFile, error) {
	var kf KeyFile
	data, err := os.ReadFile(path)
	if err != nil {
		return kf, err
	}
	if err := json.Unmarshal(data, &kf); err != nil {
		return kf, fmt.Errorf("%s is not an apikey.json file: %w", path, err)
	}
	if kf.APIKey == "" {
		return kf, fmt.Errorf("%s has no apikey field", path)
	}
	return kf, nil
}
