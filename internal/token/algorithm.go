package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// Algorithm is a JWS signature algorithm Gatehouse signs with (SPEC §1 --signing-alg).
type Algorithm string

// The supported algorithms. HMAC and "none" are deliberately absent.
const (
	ES256 Algorithm = "ES256" // ECDSA P-256 with SHA-256
	ES384 Algorithm = "ES384" // ECDSA P-384 with SHA-384
	EdDSA Algorithm = "EdDSA" // Ed25519
	RS256 Algorithm = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys
)

// rsaBits is the size of generated RSA keys; smaller keys are refused when loaded.
const rsaBits = 2048

// ParseAlgorithm returns the Algorithm named exactly s (case-sensitive, as in a
// JWS header). It returns an error naming the allowed values otherwise.
func ParseAlgorithm(s string) (Algorithm, error) {
	switch a := Algorithm(s); a {
	case ES256, ES384, EdDSA, RS256:
		return a, nil
	}
	return "", fmt.Errorf("unknown signing algorithm %q: must be one of ES256, ES384, EdDSA, RS256", s)
}

// b64 is the JWS base64url encoding: no padding, and strict decoding (zero
// trailing bits). It still skips CR and LF, so Verify checks the alphabet first.
var b64 = base64.RawURLEncoding.Strict()

// keyMaterial is one signing key's algorithm-specific parts. priv is nil for a
// retired key that will never sign again: its private part is not opened.
type keyMaterial struct {
	alg     Algorithm
	ecPub   *ecdsa.PublicKey
	edPub   ed25519.PublicKey
	rsaPub  *rsa.PublicKey
	ecPriv  *ecdsa.PrivateKey
	edPriv  ed25519.PrivateKey
	rsaPriv *rsa.PrivateKey
}

// generateKey creates a private key for alg. Since Go 1.26 crypto/ecdsa and
// crypto/rsa always use the system's secure random source and ignore r.
func generateKey(alg Algorithm, r io.Reader) (crypto.Signer, error) {
	switch alg {
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), r)
	case ES384:
		return ecdsa.GenerateKey(elliptic.P384(), r)
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(r)
		return priv, err
	case RS256:
		return rsa.GenerateKey(r, rsaBits)
	}
	return nil, fmt.Errorf("unknown signing algorithm %q", alg)
}

func curveFor(alg Algorithm) elliptic.Curve {
	if alg == ES384 {
		return elliptic.P384()
	}
	return elliptic.P256()
}

// parsePublic parses a PKIX DER public key and checks it fits alg.
func parsePublic(alg Algorithm, der []byte) (keyMaterial, error) {
	m := keyMaterial{alg: alg}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return m, fmt.Errorf("parse public key: %w", err)
	}
	switch alg {
	case ES256, ES384:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k.Curve != curveFor(alg) {
			return m, fmt.Errorf("public key is not an %s key", alg)
		}
		m.ecPub = k
	case EdDSA:
		k, ok := pub.(ed25519.PublicKey)
		if !ok {
			return m, errors.New("public key is not an Ed25519 key")
		}
		m.edPub = k
	case RS256:
		k, ok := pub.(*rsa.PublicKey)
		if !ok || k.N.BitLen() < rsaBits {
			return m, fmt.Errorf("public key is not an RSA key of at least %d bits", rsaBits)
		}
		m.rsaPub = k
	default:
		return m, fmt.Errorf("unknown signing algorithm %q", alg)
	}
	return m, nil
}

// setPrivate parses a PKCS #8 DER private key and checks it is the private half
// of m's public key, so a record cannot pair one key's public part with another's
// private part.
func (m *keyMaterial) setPrivate(der []byte) error {
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return fmt.Errorf("parse private key: %w", err)
	}
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		if m.ecPub == nil || !m.ecPub.Equal(k.Public()) {
			return errors.New("private key does not match the public key")
		}
		m.ecPriv = k
	case ed25519.PrivateKey:
		if m.edPub == nil || !m.edPub.Equal(k.Public()) {
			return errors.New("private key does not match the public key")
		}
		m.edPriv = k
	case *rsa.PrivateKey:
		if m.rsaPub == nil || !m.rsaPub.Equal(k.Public()) {
			return errors.New("private key does not match the public key")
		}
		m.rsaPriv = k
	default:
		return fmt.Errorf("unsupported private key type %T", priv)
	}
	return nil
}

func (m *keyMaterial) canSign() bool {
	return m.ecPriv != nil || m.edPriv != nil || m.rsaPriv != nil
}

// sigSize is the length of a signature in bytes.
func (m *keyMaterial) sigSize() int {
	switch m.alg {
	case ES256:
		return 64
	case ES384:
		return 96
	case EdDSA:
		return ed25519.SignatureSize
	default:
		return m.rsaPub.Size()
	}
}

// sign signs the JWS signing input. ECDSA signatures are the fixed-width r||s
// of RFC 7518 §3.4, not ASN.1.
func (m *keyMaterial) sign(r io.Reader, input []byte) ([]byte, error) {
	switch m.alg {
	case ES256:
		d := sha256.Sum256(input)
		der, err := ecdsa.SignASN1(r, m.ecPriv, d[:])
		if err != nil {
			return nil, err
		}
		return asn1ToRaw(der, 32)
	case ES384:
		d := sha512.Sum384(input)
		der, err := ecdsa.SignASN1(r, m.ecPriv, d[:])
		if err != nil {
			return nil, err
		}
		return asn1ToRaw(der, 48)
	case EdDSA:
		return ed25519.Sign(m.edPriv, input), nil
	case RS256:
		d := sha256.Sum256(input)
		return rsa.SignPKCS1v15(nil, m.rsaPriv, crypto.SHA256, d[:])
	}
	return nil, fmt.Errorf("unknown signing algorithm %q", m.alg)
}

// verify reports whether sig is a valid signature of input.
func (m *keyMaterial) verify(input, sig []byte) bool {
	switch m.alg {
	case ES256:
		if len(sig) != 64 {
			return false
		}
		d := sha256.Sum256(input)
		var buf [2 + 2*(2+33)]byte
		return ecdsa.VerifyASN1(m.ecPub, d[:], rawToASN1(buf[:0], sig))
	case ES384:
		if len(sig) != 96 {
			return false
		}
		d := sha512.Sum384(input)
		var buf [2 + 2*(2+49)]byte
		return ecdsa.VerifyASN1(m.ecPub, d[:], rawToASN1(buf[:0], sig))
	case EdDSA:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(m.edPub, input, sig)
	case RS256:
		d := sha256.Sum256(input)
		return len(sig) == m.rsaPub.Size() && rsa.VerifyPKCS1v15(m.rsaPub, crypto.SHA256, d[:], sig) == nil
	}
	return false
}

// asn1ToRaw converts the DER ECDSA-Sig-Value that crypto/ecdsa produces into
// r||s, each left-padded to size bytes.
func asn1ToRaw(der []byte, size int) ([]byte, error) {
	bad := errors.New("malformed ECDSA signature from crypto/ecdsa")
	// SEQUENCE { INTEGER r, INTEGER s }; both curves' lengths fit the short form.
	if len(der) < 2 || der[0] != 0x30 || int(der[1]) != len(der)-2 || der[1] >= 0x80 {
		return nil, bad
	}
	out := make([]byte, 2*size)
	rest := der[2:]
	for i := 0; i < 2; i++ {
		if len(rest) < 2 || rest[0] != 0x02 || rest[1] >= 0x80 || int(rest[1]) > len(rest)-2 {
			return nil, bad
		}
		n := int(rest[1])
		v := rest[2 : 2+n]
		for len(v) > 0 && v[0] == 0 {
			v = v[1:]
		}
		if len(v) > size {
			return nil, bad
		}
		copy(out[(i+1)*size-len(v):(i+1)*size], v)
		rest = rest[2+n:]
	}
	if len(rest) != 0 {
		return nil, bad
	}
	return out, nil
}

// rawToASN1 appends the DER form of the r||s signature sig to dst.
// crypto/ecdsa.VerifyASN1 rejects r or s of zero or not below the group order.
func rawToASN1(dst, sig []byte) []byte {
	half := len(sig) / 2
	r, s := trimInt(sig[:half]), trimInt(sig[half:])
	lr, ls := len(r), len(s)
	if r[0]&0x80 != 0 {
		lr++
	}
	if s[0]&0x80 != 0 {
		ls++
	}
	dst = append(dst, 0x30, byte(2+lr+2+ls))
	dst = appendInt(dst, r, lr)
	return appendInt(dst, s, ls)
}

func trimInt(v []byte) []byte {
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	return v
}

func appendInt(dst, v []byte, n int) []byte {
	dst = append(dst, 0x02, byte(n))
	if n > len(v) {
		dst = append(dst, 0)
	}
	return append(dst, v...)
}

// jwk is one entry of the JWKS (RFC 7517, 7518 §6, RFC 8037).
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// publicJWK returns the public JWK of m with the given kid.
func (m *keyMaterial) publicJWK(kid string) (json.RawMessage, error) {
	j := jwk{Kid: kid, Alg: string(m.alg), Use: "sig"}
	switch m.alg {
	case ES256, ES384:
		pt, err := m.ecPub.Bytes() // 0x04 || X || Y, fixed width
		if err != nil {
			return nil, err
		}
		size := (len(pt) - 1) / 2
		j.Kty, j.Crv = "EC", m.ecPub.Curve.Params().Name
		j.X = b64.EncodeToString(pt[1 : 1+size])
		j.Y = b64.EncodeToString(pt[1+size:])
	case EdDSA:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64.EncodeToString(m.edPub)
	case RS256:
		j.Kty = "RSA"
		j.N = b64.EncodeToString(m.rsaPub.N.Bytes())
		j.E = b64.EncodeToString(big.NewInt(int64(m.rsaPub.E)).Bytes())
	}
	return json.Marshal(j)
}
