// Package errs is the one error type services return to the HTTP layer: a
// machine-readable code, a message that is safe to show to the client, and the
// field it concerns. The HTTP layer maps codes to statuses with one table
// (Status) and renders the body in the shape of the route family.
//
// A message must never contain a secret or an internal detail; the wrapped
// cause (Err) is for logs only.
package errs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"gatehouse/internal/store"
)

// Code is a management-API error code (SPEC §4).
type Code string

// The codes of SPEC §4.
const (
	BadRequest           Code = "bad_request"
	ValidationFailed     Code = "validation_failed"
	InvalidToken         Code = "invalid_token"
	Forbidden            Code = "forbidden"
	NotFound             Code = "not_found"
	MethodNotAllowed     Code = "method_not_allowed"
	AlreadyExists        Code = "already_exists"
	Conflict             Code = "conflict"
	EntityLocked         Code = "entity_locked"
	PreconditionRequired Code = "precondition_required"
	PreconditionFailed   Code = "precondition_failed"
	PayloadTooLarge      Code = "payload_too_large"
	UnsupportedMedia     Code = "unsupported_media_type"
	TooManyRequests      Code = "too_many_requests"
	Internal             Code = "internal_error"
	Unavailable          Code = "unavailable"
)

var statuses = map[Code]int{
	BadRequest:           http.StatusBadRequest,
	ValidationFailed:     http.StatusBadRequest,
	InvalidToken:         http.StatusUnauthorized,
	Forbidden:            http.StatusForbidden,
	NotFound:             http.StatusNotFound,
	MethodNotAllowed:     http.StatusMethodNotAllowed,
	AlreadyExists:        http.StatusConflict,
	Conflict:             http.StatusConflict,
	EntityLocked:         http.StatusConflict,
	PreconditionRequired: http.StatusPreconditionRequired,
	PreconditionFailed:   http.StatusPreconditionFailed,
	PayloadTooLarge:      http.StatusRequestEntityTooLarge,
	UnsupportedMedia:     http.StatusUnsupportedMediaType,
	TooManyRequests:      http.StatusTooManyRequests,
	Internal:             http.StatusInternalServerError,
	Unavailable:          http.StatusServiceUnavailable,
}

// Status is the HTTP status of a code.
func Status(c Code) int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is a client-safe error.
type Error struct {
	Code    Code
	Message string   // shown to the client
	Target  string   // the request field concerned, for validation_failed
	Details []Detail // further problems of the same request (e.g. each problem of a document)
	Err     error    // the cause, for logs only
}

// Detail is one problem of a request, located by Target: a field name, or a
// JSON pointer into a submitted document (TargetType "pointer").
type Detail struct {
	Target     string
	TargetType string // "field" or "pointer"
	Message    string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// E returns an Error with a formatted message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a validation_failed error about one field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: ValidationFailed, Message: fmt.Sprintf(format, args...), Target: field}
}

// Printable makes a client-supplied identifier safe to echo in a message:
// control characters replaced, at most 64 bytes kept.
func Printable(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// From turns any error into an *Error: an *Error in the chain is returned as is;
// an unreachable store or an expired deadline becomes unavailable; anything else
// is internal, with err kept as the cause for the log.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: Unavailable, Message: "The service is temporarily unavailable; try again shortly.", Err: err}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Code: NotFound, Message: "Not found.", Err: err}
	}
	return &Error{Code: Internal, Message: "Internal error.", Err: err}
}
