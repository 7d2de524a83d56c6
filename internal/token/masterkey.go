package token

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// MasterKeySize is the length of the master key in bytes.
const MasterKeySize = 32

// maxMasterKeyFile bounds what LoadOrCreateMasterKey reads: a key file is at
// most a line of hex.
const maxMasterKeyFile = 4 << 10

// ErrWrongMasterKey is wrapped by every failure to open sealed data: the master
// key is not the one the data was sealed with, or the data was altered.
var ErrWrongMasterKey = errors.New("wrong master key or altered sealed data")

// LoadOrCreateMasterKey returns the 32-byte master key kept at path (SPEC §1
// --master-key-file). When the file does not exist it creates it with mode 0600
// holding 32 random bytes as 64 lowercase hex characters and a newline, and
// reports created; the parent directory must exist. Two processes creating it
// at once end up with the same key: the file appears complete or not at all.
//
// A file may hold the key as 64 hex characters, as standard base64 (surrounding
// whitespace is ignored in both), or as exactly 32 raw bytes. It returns an
// error for any other content, for a file that group or others may access
// (the message says to chmod 600), and for I/O failures. Errors never contain
// the file's content.
func LoadOrCreateMasterKey(path string) (key []byte, created bool, err error) {
	key, err = readMasterKey(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	key, err = createMasterKey(path)
	if errors.Is(err, fs.ErrExist) { // another process created it meanwhile
		key, err = readMasterKey(path)
		return key, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

func readMasterKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("master key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("master key file %s has mode %04o and is accessible by group or others: run chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxMasterKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	if len(data) > maxMasterKeyFile {
		return nil, fmt.Errorf("master key file %s: over %d bytes, so none of these: %d hex characters, standard base64 or %d raw bytes", path, maxMasterKeyFile, 2*MasterKeySize, MasterKeySize)
	}
	key, err := parseMasterKey(data)
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return key, nil
}

func parseMasterKey(data []byte) ([]byte, error) {
	if t := bytes.TrimSpace(data); len(t) == 2*MasterKeySize {
		key := make([]byte, MasterKeySize)
		if _, err := hex.Decode(key, t); err == nil {
			return key, nil
		}
	} else if len(t) == base64.StdEncoding.EncodedLen(MasterKeySize) {
		key := make([]byte, base64.StdEncoding.DecodedLen(len(t)))
		if n, err := base64.StdEncoding.Strict().Decode(key, t); err == nil && n == MasterKeySize && !bytes.ContainsAny(t, "\r\n") {
			return key[:n], nil
		}
	}
	if len(data) == MasterKeySize {
		return bytes.Clone(data), nil
	}
	return nil, fmt.Errorf("want a %d-byte key as %d hex characters, standard base64 or %d raw bytes; the file holds %d bytes that are none of these",
		MasterKeySize, 2*MasterKeySize, MasterKeySize, len(data))
}

// createMasterKey writes a new key to a temporary file in the same directory and
// hard-links it into place, so the key file never exists half-written (a crash
// or a concurrent reader sees all of it or none) and an existing file is never
// replaced (fs.ErrExist). Where hard links are not supported it falls back to an
// exclusive create.
func createMasterKey(path string) ([]byte, error) {
	key := make([]byte, MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	content := []byte(hex.EncodeToString(key) + "\n")
	dir := filepath.Dir(path)

	tmp, err := os.CreateTemp(dir, ".master-key-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("create master key file (the directory %s must exist): %w", dir, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := writeAndSync(tmp, content); err != nil {
		return nil, fmt.Errorf("create master key file: %w", err)
	}
	err = os.Link(tmpName, path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		err = createExclusive(path, content)
	}
	if err != nil {
		return nil, fmt.Errorf("create master key file: %w", err)
	}
	syncDir(dir)
	return key, nil
}

func createExclusive(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := writeAndSync(f, content); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

func writeAndSync(f *os.File, content []byte) error {
	_, err := f.Write(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes the new directory entry durable; failures are ignored because
// not every platform can sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Sealer encrypts secrets at rest with the master key: AES-256-GCM with a
// random 12-byte nonce prefixed to the ciphertext. The additional data binds a
// ciphertext to its record (for signing keys, the kid), so a sealed value
// copied into another record does not open. Safe for concurrent use.
type Sealer struct {
	aead        cipher.AEAD
	fingerprint string
}

// fingerprintLabel is the fixed message whose HMAC under the master key
// identifies the key without revealing it.
const fingerprintLabel = "gatehouse master key fingerprint v1"

// NewSealer returns a Sealer for a 32-byte master key. It returns an error for
// any other length. It does not keep a reference to masterKey.
func NewSealer(masterKey []byte) (*Sealer, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("master key must be %d bytes, not %d", MasterKeySize, len(masterKey))
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, masterKey)
	mac.Write([]byte(fingerprintLabel))
	return &Sealer{aead: aead, fingerprint: hex.EncodeToString(mac.Sum(nil))}, nil
}

// Seal encrypts plaintext bound to aad. The result is nonce || ciphertext || tag.
func (s *Sealer) Seal(plaintext, aad []byte) ([]byte, error) {
	return s.aead.Seal(nil, nil, plaintext, aad), nil
}

// Open decrypts what Seal returned for the same aad. Any failure wraps
// ErrWrongMasterKey.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < s.aead.Overhead() {
		return nil, fmt.Errorf("open sealed data: too short: %w", ErrWrongMasterKey)
	}
	pt, err := s.aead.Open(nil, nil, sealed, aad)
	if err != nil {
		return nil, fmt.Errorf("open sealed data: %w", ErrWrongMasterKey)
	}
	return pt, nil
}

// Fingerprint returns a non-secret identifier of the master key: the hex
// HMAC-SHA256 of a fixed label under the key. The application stores it once
// and compares it at start-up (CheckFingerprint) to report a wrong master key
// clearly instead of failing later on the first sealed value.
func (s *Sealer) Fingerprint() string { return s.fingerprint }

// CheckFingerprint returns an error wrapping ErrWrongMasterKey unless fp is
// this master key's Fingerprint. It compares in constant time.
func (s *Sealer) CheckFingerprint(fp string) error {
	if subtle.ConstantTimeCompare([]byte(fp), []byte(s.fingerprint)) != 1 {
		return fmt.Errorf("master key fingerprint mismatch (check --master-key-file; cluster nodes must share one key): %w", ErrWrongMasterKey)
	}
	return nil
}
