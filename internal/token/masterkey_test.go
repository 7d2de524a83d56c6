package token_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"gatehouse/internal/token"
)

func TestLoadOrCreateMasterKeyCreates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	key, created, err := token.LoadOrCreateMasterKey(path)
	if err != nil || !created || len(key) != 32 {
		t.Fatalf("LoadOrCreateMasterKey = %d bytes, created %v, %v", len(key), created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).Match(data) || string(data[:64]) != hex.EncodeToString(key) {
		t.Fatalf("file holds %q, want the key as 64 lowercase hex characters and a newline", data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("directory holds %d entries; temporary files left behind", len(entries))
	}

	again, created, err := token.LoadOrCreateMasterKey(path)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Fatalf("second call: created %v, same key %v, %v", created, bytes.Equal(again, key), err)
	}
}

func TestLoadOrCreateMasterKeyConcurrentCreators(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	const n = 8
	keys := make([][]byte, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], created[i], errs[i] = token.LoadOrCreateMasterKey(path) })
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("caller %d got another key", i)
		}
		if created[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Fatalf("%d callers report creating the key, want 1", creators)
	}
}

func TestLoadOrCreateMasterKeyFormats(t *testing.T) {
	key := bytes.Repeat([]byte{0x0a, 0xfe, 0x20, 0x7f}, 8) // raw form begins with '\n' and holds spaces
	hexKey := hex.EncodeToString(key)
	tests := []struct {
		name    string
		content []byte
		want    string // error substring; empty: must load key
	}{
		{"ok/hex", []byte(hexKey + "\n"), ""},
		{"ok/hex-upper-no-newline", []byte(strings.ToUpper(hexKey)), ""},
		{"ok/hex-surrounding-whitespace", []byte(" \t" + hexKey + "\r\n\n"), ""},
		{"ok/base64", []byte(base64.StdEncoding.EncodeToString(key) + "\n"), ""},
		{"ok/raw", key, ""},
		{"fail/empty", nil, "none of these"},
		{"fail/raw-31", key[:31], "none of these"},
		{"fail/raw-33", append(bytes.Clone(key), 1), "none of these"},
		{"fail/hex-62", []byte(hexKey[:62]), "none of these"},
		{"fail/hex-66", []byte(hexKey + "ab"), "none of these"},
		{"fail/hex-bad-digit", []byte("zz" + hexKey[2:]), "none of these"},
		{"fail/base64-31-bytes", []byte(base64.StdEncoding.EncodeToString(key[:31])), "none of these"},
		{"fail/base64-url-unpadded", []byte(base64.RawURLEncoding.EncodeToString(key)), "none of these"},
		{"fail/text", []byte("correct horse battery staple"), "none of these"},
		{"fail/too-long", bytes.Repeat([]byte("a"), 10000), "none of these"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "master.key")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			got, created, err := token.LoadOrCreateMasterKey(path)
			if tt.want == "" {
				if err != nil || created || !bytes.Equal(got, key) {
					t.Fatalf("got %x, created %v, %v; want %x", got, created, err, key)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if len(tt.content) > 8 && strings.Contains(err.Error(), string(tt.content[:8])) {
				t.Fatalf("error %q shows the file's content", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, tt.content) {
				t.Fatal("a bad key file was modified")
			}
		})
	}
}

func TestLoadOrCreateMasterKeyRejectsOpenPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX permissions")
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o620, 0o660, 0o644, 0o601} {
		path := filepath.Join(t.TempDir(), "master.key")
		os.WriteFile(path, []byte(strings.Repeat("ab", 32)), 0o600)
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := token.LoadOrCreateMasterKey(path)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: error = %v, want one saying to chmod 600", mode, err)
		}
	}
}

func TestLoadOrCreateMasterKeyNeedsDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "master.key")
	_, _, err := token.LoadOrCreateMasterKey(path)
	if err == nil || !strings.Contains(err.Error(), "must exist") {
		t.Fatalf("error = %v", err)
	}
}

func TestSealer(t *testing.T) {
	key := randomKey(t)
	s := mustSealer(t, key)
	secret := []byte("pkcs8 bytes")
	sealed, err := s.Seal(secret, []byte("kid-1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 12+len(secret)+16 || bytes.Contains(sealed, secret) {
		t.Fatalf("sealed form is %d bytes", len(sealed))
	}
	again, _ := s.Seal(secret, []byte("kid-1"))
	if bytes.Equal(sealed[:12], again[:12]) {
		t.Fatal("nonce reused")
	}
	if got, err := s.Open(sealed, []byte("kid-1")); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// A copy of the same key opens it too.
	if got, err := mustSealer(t, bytes.Clone(key)).Open(sealed, []byte("kid-1")); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open with the same key = %q, %v", got, err)
	}

	tampered := bytes.Clone(sealed)
	tampered[14] ^= 1
	for name, tc := range map[string]struct {
		s      *token.Sealer
		sealed []byte
		aad    string
	}{
		"fail/other-master-key": {mustSealer(t, randomKey(t)), sealed, "kid-1"},
		"fail/other-record":     {s, sealed, "kid-2"},
		"fail/tampered":         {s, tampered, "kid-1"},
		"fail/truncated":        {s, sealed[:20], "kid-1"},
		"fail/empty":            {s, nil, "kid-1"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.s.Open(tc.sealed, []byte(tc.aad))
			if !errors.Is(err, token.ErrWrongMasterKey) {
				t.Fatalf("Open error = %v, want ErrWrongMasterKey", err)
			}
		})
	}

	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := token.NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer accepted a %d-byte key", n)
		}
	}
}

func TestSealerFingerprint(t *testing.T) {
	key := randomKey(t)
	fp := mustSealer(t, key).Fingerprint()
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(fp) {
		t.Fatalf("fingerprint %q is not 64 hex characters", fp)
	}
	if strings.Contains(fp, hex.EncodeToString(key)[:16]) {
		t.Fatal("fingerprint reveals the key")
	}
	if got := mustSealer(t, bytes.Clone(key)).Fingerprint(); got != fp {
		t.Fatal("fingerprint is not stable")
	}
	other := mustSealer(t, randomKey(t))
	if other.Fingerprint() == fp {
		t.Fatal("two keys share a fingerprint")
	}
	if err := mustSealer(t, key).CheckFingerprint(fp); err != nil {
		t.Fatal(err)
	}
	if err := other.CheckFingerprint(fp); !errors.Is(err, token.ErrWrongMasterKey) || !strings.Contains(err.Error(), "--master-key-file") {
		t.Fatalf("CheckFingerprint with another key: %v", err)
	}
}
