package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/google/uuid"

	"gatehouse/internal/gateway"
)

// The references of SPEC §12, each run as a process of its own (gatehouse
// bench-ref KIND) so that every server is measured alike: its own runtime,
// its own RSS. They are deliberately minimal: what a competent Go programmer
// writes in an afternoon when asked for the same answer, and no more.

// Reference kinds.
const (
	RefToken   = "token"   // POST /apikey?apikey=KEY: SHA-256 map lookup, sign a small JWT, JSON
	RefJSON    = "json"    // GET anything: a small JSON document
	RefProxy   = "proxy"   // httputil.ReverseProxy with the gateway's tuned transport
	RefBackend = "backend" // the API behind both the bare proxy and the gateway
)

// backendBody is what the backend answers: the same bytes through every path.
var backendBody = []byte(`{"ok":true,"city":"Oslo","temp":3}`)

// RunRef serves the reference kind with args until SIGTERM, SIGINT or the
// end of stdin, after printing "READY http://ADDR" on out.
func RunRef(kind string, args []string, stdin io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("bench-ref "+kind, flag.ContinueOnError)
	seed := fs.Uint64("seed", 1, "key seed (token)")
	keys := fs.Int("keys", 0, "number of keys (token)")
	alg := fs.String("alg", "EdDSA", "EdDSA or ES256 (token)")
	target := fs.String("target", "", "backend URL (proxy)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var h http.Handler
	switch kind {
	case RefToken:
		t, err := newTokenRef(*seed, *keys, *alg)
		if err != nil {
			return err
		}
		h = t
	case RefJSON:
		h = http.HandlerFunc(serveJSONRef)
	case RefBackend:
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(backendBody)
		})
	case RefProxy:
		u, err := url.Parse(*target)
		if err != nil || u.Host == "" {
			return fmt.Errorf("bench-ref proxy: --target must be a URL, got %q", *target)
		}
		h = &httputil.ReverseProxy{
			Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
			Transport: gateway.NewTransport(),
		}
	default:
		return fmt.Errorf("bench-ref: unknown kind %q (token, json, proxy, backend)", kind)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	fmt.Fprintf(out, "READY http://%s\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(stop)
	eof := make(chan struct{})
	go func() { io.Copy(io.Discard, stdin); close(eof) }()
	select {
	case err := <-done:
		return err
	case <-stop:
	case <-eof:
	}
	srv.Close()
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveJSONRef is the minimal net/http JSON handler: encode a small struct.
func serveJSONRef(w http.ResponseWriter, r *http.Request) {
	v := struct {
		IAMID     string `json:"iam_id"`
		ID        string `json:"id"`
		SubType   string `json:"sub_type"`
		Name      string `json:"name"`
		AccountID string `json:"account_id"`
	}{"iam-ServiceId-0b9c4a2e", "ServiceId-0b9c4a2e", "ServiceId", "bench", "0123456789abcdef0123456789abcdef"}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// tokenRef is the minimal token server: the key's SHA-256 in a map, a JWT
// signed with the same algorithm Gatehouse uses in the run, a JSON answer.
type tokenRef struct {
	keys   map[[32]byte]refKey
	alg    string
	kid    string
	header string // base64url of the JWT header
	sign   func(msg []byte) ([]byte, error)
}

type refKey struct{ id, owner string }

func newTokenRef(seed uint64, n int, alg string) (*tokenRef, error) {
	t := &tokenRef{keys: make(map[[32]byte]refKey, n), alg: alg, kid: "ref-1"}
	vals, err := Keys(seed, n)
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		t.keys[sha256.Sum256([]byte(v))] = refKey{id: "ApiKey-" + strconv.Itoa(i), owner: "iam-ServiceId-" + strconv.Itoa(i/keysPerOwner)}
	}
	switch alg {
	case "EdDSA":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		t.sign = func(msg []byte) ([]byte, error) { return priv.Sign(nil, msg, crypto.Hash(0)) }
	case "ES256":
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		t.sign = func(msg []byte) ([]byte, error) {
			d := sha256.Sum256(msg)
			r, s, err := ecdsa.Sign(rand.Reader, priv, d[:])
			if err != nil {
				return nil, err
			}
			sig := make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
			return sig, nil
		}
	default:
		return nil, fmt.Errorf("bench-ref token: --alg must be EdDSA or ES256, got %q", alg)
	}
	h, _ := json.Marshal(map[string]string{"alg": alg, "kid": t.kid, "typ": "JWT"})
	t.header = base64.RawURLEncoding.EncodeToString(h)
	return t, nil
}

type refClaims struct {
	Iss     string            `json:"iss"`
	Sub     string            `json:"sub"`
	IAMID   string            `json:"iam_id"`
	SubType string            `json:"sub_type"`
	Account map[string]string `json:"account"`
	KeyID   string            `json:"apikey_id"`
	Iat     int64             `json:"iat"`
	Exp     int64             `json:"exp"`
	JTI     string            `json:"jti"`
	Grant   string            `json:"grant_type"`
	Scope   string            `json:"scope"`
}

func (t *tokenRef) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/apikey" {
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		return
	}
	k, ok := t.keys[sha256.Sum256([]byte(r.FormValue("apikey")))]
	if !ok {
		http.Error(w, `{"errorCode":"BXNIM0415E"}`, http.StatusBadRequest)
		return
	}
	now := time.Now().Unix()
	c, _ := json.Marshal(refClaims{
		Iss: "http://127.0.0.1", Sub: k.owner, IAMID: k.owner, SubType: "ServiceId",
		Account: map[string]string{"bss": "0123456789abcdef0123456789abcdef"}, KeyID: k.id,
		Iat: now, Exp: now + 3600, JTI: uuid.NewString(), Grant: "urn:ibm:params:oauth:grant-type:apikey", Scope: "ibm openid",
	})
	signing := t.header + "." + base64.RawURLEncoding.EncodeToString(c)
	sig, err := t.sign([]byte(signing))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"jwt": signing + "." + base64.RawURLEncoding.EncodeToString(sig), "expires_in": 3600, "expiration": now + 3600,
	})
}
