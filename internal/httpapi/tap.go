package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
)

// Exchange is one request and its response as the management listener saw
// them, handed to Config.Tap (for contract tests that check live traffic
// against api/openapi.yaml). Bodies are copies, cut at maxTapBody bytes.
type Exchange struct {
	Method         string
	Path           string
	Query          url.Values
	RequestHeader  http.Header
	RequestBody    []byte // what the handler read of the body
	Status         int
	ResponseHeader http.Header
	ResponseBody   []byte
}

// maxTapBody bounds each body an Exchange keeps.
const maxTapBody = 1 << 20

// serveTapped serves r like serveHTTP and then hands a copy of the exchange
// to the tap. Only a Server with a tap uses it: without one nothing is wrapped.
func (s *Server) serveTapped(w http.ResponseWriter, r *http.Request) {
	ex := Exchange{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), RequestHeader: r.Header.Clone()}
	var reqBody tapBuffer
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &teeBody{ReadCloser: r.Body, buf: &reqBody}
	}
	tw := &tapWriter{ResponseWriter: w}
	s.serveHTTP(tw, r)
	if tw.header == nil { // nothing written: net/http sends 200 with the headers as they are
		tw.snapshot(http.StatusOK)
	}
	ex.RequestBody = bytes.Clone(reqBody.Bytes())
	ex.Status, ex.ResponseHeader, ex.ResponseBody = tw.status, tw.header, bytes.Clone(tw.body.Bytes())
	s.tap(ex)
}

// tapBuffer keeps the first maxTapBody bytes written to it.
type tapBuffer struct{ bytes.Buffer }

func (b *tapBuffer) keep(p []byte) {
	if room := maxTapBody - b.Len(); room > 0 {
		b.Write(p[:min(len(p), room)])
	}
}

// teeBody copies what the handler reads of a request body.
type teeBody struct {
	io.ReadCloser
	buf *tapBuffer
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	t.buf.keep(p[:n])
	return n, err
}

// tapWriter copies the status, headers and body of a response.
type tapWriter struct {
	http.ResponseWriter
	status int
	header http.Header // as sent: a copy taken at WriteHeader
	body   tapBuffer
}

func (t *tapWriter) snapshot(code int) {
	if t.header == nil {
		t.status, t.header = code, t.ResponseWriter.Header().Clone()
	}
}

func (t *tapWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols { // 1xx informational answers are not the response
		t.snapshot(code)
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *tapWriter) Write(p []byte) (int, error) {
	t.snapshot(http.StatusOK)
	n, err := t.ResponseWriter.Write(p)
	t.body.keep(p[:n])
	return n, err
}

func (t *tapWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
