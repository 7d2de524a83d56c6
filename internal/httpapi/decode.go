package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"gatehouse/internal/errs"
)

// maxJSONBody is the limit on JSON request bodies (SPEC §4).
const maxJSONBody = 1 << 20

// decodeJSON reads a strict JSON object into v: application/json only, at most
// 1 MiB, valid UTF-8, no unknown fields, nothing after the
// object. Errors name the field at fault. With optional set, an empty body
// leaves v as it is.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	// Read it whole (at most 1 MiB) rather than trust Content-Length: the
	// text checks below need every byte before anything is decoded.
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge()
		}
		return errs.E(errs.BadRequest, "The request body could not be read.")
	}
	if len(data) == 0 {
		if optional {
			return nil
		}
		return errs.E(errs.BadRequest, "The request body is empty; send a JSON object.")
	}
	if err := checkJSONType(r); err != nil {
		return err
	}
	if err := checkText(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errs.E(errs.BadRequest, "Unexpected data after the JSON object.")
	}
	return nil
}

// checkText refuses a body that is not valid UTF-8: encoding/json would
// silently read the bad bytes as U+FFFD, and they would be stored. (NUL and
// other control characters are refused by each field's own check, which
// names the field.)
func checkText(data []byte) error {
	if !utf8.Valid(data) {
		return errs.E(errs.BadRequest, "The request body is not valid UTF-8.")
	}
	return nil
}

func checkJSONType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return errs.E(errs.UnsupportedMedia, "Send the body as application/json (Content-Type: application/json).")
	}
	return nil
}

func tooLarge() error {
	return errs.E(errs.PayloadTooLarge, "The request body is larger than %d bytes.", maxJSONBody)
}

// jsonError turns a decoding error into a client error naming the field.
func jsonError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return tooLarge()
	case errors.As(err, &syn):
		return errs.E(errs.BadRequest, "Malformed JSON at byte %d: %s.", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return errs.E(errs.BadRequest, "The body must be a JSON object.")
		}
		field = errs.Printable(field)
		return errs.Invalid(field, "Field %s must be %s, not %s.", field, jsonTypeName(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.E(errs.BadRequest, "Malformed JSON: the body ends too early.")
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f = errs.Printable(strings.Trim(f, `"`))
		return errs.Invalid(f, "Unknown field %q.", f)
	}
	return errs.E(errs.BadRequest, "Malformed JSON: %s.", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	if strings.HasPrefix(kind, "int") || strings.HasPrefix(kind, "uint") || strings.HasPrefix(kind, "float") {
		return "a number"
	}
	return "a " + kind
}
