package iam

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"io"
	"math/big"
	"strings"
)

// Key format (SPEC §2.1):
//
//	gatehouse_ + 43 base62 characters (32 bytes from crypto/rand) + 6 base62 characters of CRC32
//
// The prefix lets secret scanners find leaked keys; the checksum lets the token
// service reject a mistyped or made-up key before it touches the store.
const (
	KeyPrefix     = "gatehouse_"
	keyBodyLen    = 43 // 62^43 > 2^256
	keyCheckLen   = 6  // 62^6 > 2^32
	keyLen        = len(KeyPrefix) + keyBodyLen + keyCheckLen
	minForeignKey = 32
	maxForeignKey = 256
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// ErrMalformedKey is returned for a value that cannot be an API key.
var ErrMalformedKey = errors.New("malformed API key")

// GenerateKey returns a new key value; r is crypto/rand.Reader outside tests.
func GenerateKey(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var raw [32]byte
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(keyLen)
	b.WriteString(KeyPrefix)
	b.WriteString(encodeBase62(new(big.Int).SetBytes(raw[:]), keyBodyLen))
	b.WriteString(checksum(b.String()))
	return b.String(), nil
}

// CheckKey validates a key's shape without any lookup. Keys with the Gatehouse
// prefix must have the exact length, alphabet and checksum; other keys (imported
// from another system at creation) must be 32 to 256 printable ASCII characters.
func CheckKey(s string) error {
	if strings.HasPrefix(s, KeyPrefix) {
		if len(s) != keyLen {
			return ErrMalformedKey
		}
		for i := len(KeyPrefix); i < len(s); i++ {
			if strings.IndexByte(base62, s[i]) < 0 {
				return ErrMalformedKey
			}
		}
		if s[keyLen-keyCheckLen:] != checksum(s[:keyLen-keyCheckLen]) {
			return ErrMalformedKey
		}
		return nil
	}
	return checkForeignKey(s)
}

func checkForeignKey(s string) error {
	if len(s) < minForeignKey || len(s) > maxForeignKey {
		return ErrMalformedKey
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return ErrMalformedKey
		}
	}
	return nil
}

// Digest is what the store keeps of a key: SHA-256 of its value. The value has
// 256 bits of entropy, so no slow hash is needed.
func Digest(key string) []byte {
	d := sha256.Sum256([]byte(key))
	return d[:]
}

// Hint is the non-secret display form of a key: its prefix and last 4 characters.
func Hint(key string) string {
	last := key[max(0, len(key)-4):]
	if strings.HasPrefix(key, KeyPrefix) {
		return KeyPrefix + "…" + last
	}
	return "…" + last
}

func checksum(s string) string {
	return encodeBase62(new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(s)))), keyCheckLen)
}

// encodeBase62 writes n in base62, left-padded with '0' to width characters.
func encodeBase62(n *big.Int, width int) string {
	out := make([]byte, width)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := width - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return string(out)
}
