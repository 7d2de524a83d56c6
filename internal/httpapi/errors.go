package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"

	"gatehouse/internal/errs"
)

// iamError is the management API's error body (SPEC §4, IBM IAM identity shape).
type iamError struct {
	Errors     []iamErrorItem `json:"errors"`
	StatusCode int            `json:"status_code"`
	Trace      string         `json:"trace"`
}

type iamErrorItem struct {
	Code    errs.Code       `json:"code"`
	Message string          `json:"message"`
	Target  *iamErrorTarget `json:"target,omitempty"`
}

type iamErrorTarget struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// writeError renders err in the management API's shape. Internal causes go to
// the log (without request data), never to the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := errs.From(err)
	status := errs.Status(e.Code)
	if status >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("request_id", requestID(r)), slog.String("code", string(e.Code)), slog.Any("err", e.Err))
	}
	body := iamError{StatusCode: status, Trace: requestID(r), Errors: []iamErrorItem{{Code: e.Code, Message: e.Message}}}
	if e.Target != "" {
		body.Errors[0].Target = &iamErrorTarget{Name: e.Target, Type: "field"}
	}
	for _, d := range e.Details {
		body.Errors = append(body.Errors, iamErrorItem{Code: e.Code, Message: d.Message, Target: &iamErrorTarget{Name: d.Target, Type: d.TargetType}})
	}
	if e.Code == errs.InvalidToken {
		v := `Bearer realm="gatehouse"`
		if r.Header.Get("Authorization") != "" {
			v += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", v)
	}
	writeJSON(w, status, body)
}

// writeJSON writes v as the response body (no HTML escaping: this is an API,
// and messages stay readable).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"errors":[{"code":"internal_error","message":"Internal error."}],"status_code":500}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
