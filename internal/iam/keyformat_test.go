package iam_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/iam"
)

func TestGenerateKeyHasPrefixLengthAndValidChecksum(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		k, err := iam.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(k, iam.KeyPrefix) || len(k) != len(iam.KeyPrefix)+43+6 {
			t.Fatalf("key %q: want prefix %q and %d characters", k, iam.KeyPrefix, len(iam.KeyPrefix)+49)
		}
		if err := iam.CheckKey(k); err != nil {
			t.Fatalf("CheckKey(generated) = %v", err)
		}
		if seen[k] {
			t.Fatalf("duplicate key generated")
		}
		seen[k] = true
	}
}

func TestGenerateKeyIsDeterministicForItsEntropy(t *testing.T) {
	src := bytes.Repeat([]byte{0xff}, 32)
	a, _ := iam.GenerateKey(bytes.NewReader(src))
	b, _ := iam.GenerateKey(bytes.NewReader(src))
	if a != b {
		t.Fatalf("same entropy, different keys: %q %q", a, b)
	}
	zero, _ := iam.GenerateKey(bytes.NewReader(make([]byte, 32)))
	if zero == a {
		t.Fatal("different entropy, same key")
	}
	if _, err := iam.GenerateKey(bytes.NewReader(make([]byte, 5))); err == nil {
		t.Fatal("GenerateKey with a short entropy source succeeded")
	}
}

func TestCheckKey(t *testing.T) {
	good, err := iam.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	body := good[len(iam.KeyPrefix):]
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"ok/generated", good, true},
		{"ok/imported-32-printable", strings.Repeat("x", 32), true},
		{"ok/imported-with-symbols", "legacy-key:" + strings.Repeat("Z9", 20), true},
		{"fail/one-character-changed-in-body", flip(good, len(iam.KeyPrefix)+3), false},
		{"fail/checksum-changed", flip(good, len(good)-1), false},
		{"fail/truncated", good[:len(good)-1], false},
		{"fail/extended", good + "A", false},
		{"fail/non-base62-in-body", iam.KeyPrefix + "-" + body[1:], false},
		{"fail/empty", "", false},
		{"fail/imported-too-short", strings.Repeat("x", 31), false},
		{"fail/imported-too-long", strings.Repeat("x", 257), false},
		{"fail/imported-with-space", strings.Repeat("x", 20) + " " + strings.Repeat("x", 20), false},
		{"fail/imported-with-nul", strings.Repeat("x", 20) + "\x00" + strings.Repeat("x", 20), false},
		{"fail/imported-non-ascii", strings.Repeat("x", 30) + "é", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := iam.CheckKey(tt.key)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckKey(%q) = %v, want ok=%v", tt.key, err, tt.ok)
			}
		})
	}
}

func TestDigestAndHint(t *testing.T) {
	k, _ := iam.GenerateKey(rand.Reader)
	want := sha256.Sum256([]byte(k))
	if !bytes.Equal(iam.Digest(k), want[:]) {
		t.Fatal("Digest is not SHA-256 of the value")
	}
	if h := iam.Hint(k); h != iam.KeyPrefix+"…"+k[len(k)-4:] {
		t.Fatalf("Hint = %q", h)
	}
	imported := strings.Repeat("q", 28) + "WXYZ"
	if h := iam.Hint(imported); h != "…WXYZ" || strings.Contains(h, "qqqq") {
		t.Fatalf("Hint(imported) = %q, want only the last 4 characters", h)
	}
}

func TestParseRoleAndLadder(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want iam.Role
	}{{"Reader", iam.Reader}, {"writer", iam.Writer}, {"MANAGER", iam.Manager}, {"Administrator", iam.Administrator}} {
		got, err := iam.ParseRole(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseRole(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "admin", "Owner", "Reader "} {
		if _, err := iam.ParseRole(bad); err == nil {
			t.Errorf("ParseRole(%q) succeeded", bad)
		}
	}
	if !(iam.NoRole < iam.Reader && iam.Reader < iam.Writer && iam.Writer < iam.Manager && iam.Manager < iam.Administrator) {
		t.Fatal("the ladder is out of order")
	}
	if iam.MinRole(iam.Manager, iam.Reader) != iam.Reader || iam.MinRole(iam.Reader, iam.Manager) != iam.Reader {
		t.Fatal("MinRole is not the lower role")
	}
}

func TestETagMatches(t *testing.T) {
	tests := []struct {
		ifMatch string
		version int64
		want    bool
	}{
		{"3", 3, true},
		{`"3"`, 3, true},
		{`W/"3"`, 3, false},
		{"*", 9, true},
		{`"1", "3"`, 3, true},
		{"2", 3, false},
		{`"33"`, 3, false},
		{"", 3, false},
	}
	for _, tt := range tests {
		if got := iam.ETagMatches(tt.ifMatch, tt.version); got != tt.want {
			t.Errorf("ETagMatches(%q, %d) = %v, want %v", tt.ifMatch, tt.version, got, tt.want)
		}
	}
}

func TestKeyFileFormat(t *testing.T) {
	kf := iam.NewKeyFile("MyKey", "this is my API key", "secret-value", "ApiKey-1", mustTime(t, "2026-11-25T10:24:59Z"), false)
	want := "{\n\t\"name\": \"MyKey\",\n\t\"description\": \"this is my API key\",\n\t\"apikey\": \"secret-value\",\n\t\"createdAt\": \"2026-11-25T10:24+0000\",\n\t\"locked\": false,\n\t\"uuid\": \"ApiKey-1\"\n}\n"
	if got := string(kf.Marshal()); got != want {
		t.Fatalf("apikey.json:\n%s\nwant:\n%s", got, want)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
