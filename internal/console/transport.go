package console

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"strconv"
)

// inProcess is an http.RoundTripper that hands each request of the SDK
// straight to the management API's handler, in this process: no socket, no
// second listener, and the very same middleware, authorization, validation
// and audit as a call over the network.
//
// The browser's address (RemoteAddr, and X-Forwarded-For for the API to
// believe or not under --trusted-proxies) is passed on, so the audit log and
// the token endpoints' brute-force protection see the real client, not the
// console.
type inProcess struct {
	api        http.Handler
	remoteAddr string
	forwarded  []string
	tls        *tls.ConnectionState
}

// maxAPIResponse bounds what one in-process call may buffer (the SDK reads
// at most 64 MiB too).
const maxAPIResponse = 64 << 20

func (t *inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not change the caller's request: work on a copy.
	r := req.Clone(req.Context())
	if r.Body == nil {
		r.Body = http.NoBody
	}
	r.RemoteAddr = t.remoteAddr
	r.Header.Del("X-Forwarded-For")
	for _, v := range t.forwarded {
		r.Header.Add("X-Forwarded-For", v)
	}
	r.Host = req.URL.Host
	r.RequestURI = req.URL.RequestURI()
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	r.TLS = t.tls
	rec := newRecorder()
	t.api.ServeHTTP(rec, r)
	if req.Body != nil {
		req.Body.Close()
	}
	return rec.response(req), nil
}

// recorder is the http.ResponseWriter of an in-process call: it keeps the
// status, headers and body for the SDK to read.
type recorder struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
	overflow    bool
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.wroteHeader {
		return
	}
	r.status, r.wroteHeader = code, true
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	if r.body.Len()+len(b) > maxAPIResponse {
		r.overflow = true
		return 0, http.ErrContentLength
	}
	return r.body.Write(b)
}

// Flush is a no-op: the whole answer is buffered anyway.
func (r *recorder) Flush() {}

func (r *recorder) response(req *http.Request) *http.Response {
	status := r.status
	if !r.wroteHeader {
		status = http.StatusOK
	}
	if r.overflow {
		status = http.StatusBadGateway
		r.body.Reset()
	}
	h := r.header.Clone()
	h.Set("Content-Length", strconv.Itoa(r.body.Len()))
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(r.body.Bytes())),
		ContentLength: int64(r.body.Len()),
		Request:       req,
	}
}
