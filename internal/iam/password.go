package iam

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's recommendation (19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// HashPassword returns the argon2id hash of pw in PHC string form.
func HashPassword(pw string, rand io.Reader) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

var (
	errBadHash = errors.New("not an argon2id hash")
	paramsRE   = regexp.MustCompile(`^m=([1-9][0-9]{0,7}),t=([1-9][0-9]?),p=([1-9][0-9]?)$`)
)

// CheckPassword reports whether pw matches a hash made by HashPassword, in
// constant time with respect to the hash. The hash is parsed strictly (exact
// fields, bounded parameters, salt ≥ 8 and key ≥ 16 bytes), so a damaged or
// edited hash is an error, never a weaker check.
func CheckPassword(hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, errBadHash
	}
	m := paramsRE.FindStringSubmatch(parts[3])
	if m == nil {
		return false, errBadHash
	}
	mem, _ := strconv.ParseUint(m[1], 10, 32)
	iters, _ := strconv.ParseUint(m[2], 10, 32)
	threads, _ := strconv.ParseUint(m[3], 10, 8)
	if mem > 1<<21 || iters > 16 || threads > 16 {
		return false, errBadHash
	}
	enc := base64.RawStdEncoding.Strict()
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(want) < 16 || len(want) > 64 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, uint32(iters), uint32(mem), uint8(threads), uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
