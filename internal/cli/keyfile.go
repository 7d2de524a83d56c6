package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"gatehouse/client"
)

// keyFileTime is the createdAt layout of apikey.json: minutes, "+0000".
const keyFileTime = "2006-01-02T15:04-0700"

// keyFileOf is the apikey.json document (SPEC §2.2) of a key just created.
func keyFileOf(k *client.APIKey) client.KeyFile {
	return client.KeyFile{
		Name:        k.Name,
		Description: k.Description,
		APIKey:      k.APIKey,
		CreatedAt:   k.CreatedAt.UTC().Format(keyFileTime),
		Locked:      k.Locked,
		UUID:        k.ID,
	}
}

// marshalKeyFile renders apikey.json: tab-indented, fields in the order of SPEC §2.2.
func marshalKeyFile(kf client.KeyFile) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "\t")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(kf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkNewFile refuses, before anything is created on the server, a key file
// path that exists: overwriting it could lose another key.
func checkNewFile(path string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return usagef("%s already exists; choose another --file or remove it first", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return usagef("--file %s: %v", path, err)
	}
	return nil
}

// writeKeyFile writes apikey.json with mode 0600, never over an existing file.
func writeKeyFile(path string, k *client.APIKey) error {
	data, err := marshalKeyFile(keyFileOf(k))
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// showNewKey prints a key that was just created or rotated: saved to file
// when one was named, else shown once on stdout with a warning on stderr.
// The record printed (in -o format) carries the value only in the latter case.
func (e *env) showNewKey(k *client.APIKey, file string) error {
	value := k.APIKey
	if file != "" {
		if err := writeKeyFile(file, k); err != nil {
			// The key exists now; losing its only copy would be worse than printing it.
			fmt.Fprintf(e.stderr, "warning: could not write %s (%v); here is the key instead. Save it now: it cannot be shown again.\n", file, err)
			file = ""
		} else {
			rec := *k
			rec.APIKey = ""
			if err := render(e.stdout, e.format(), &rec, func() *table { return apikeyTable([]client.APIKey{rec}) }); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Saved the API key %s to %s (mode 0600). Keep it safe: it cannot be shown again.\n", k.ID, file)
			return nil
		}
	}
	fmt.Fprintln(e.stderr, "Save this API key now: it cannot be shown again.")
	if e.format() == formatTable {
		if err := apikeyTable([]client.APIKey{*k}).write(e.stdout); err != nil {
			return err
		}
		_, err := fmt.Fprintf(e.stdout, "\nAPI key: %s\n", value)
		return err
	}
	return render(e.stdout, e.format(), k, nil)
}

// parseWhen reads a time flag: RFC 3339, a date (midnight UTC), or a
// duration from now ("720h", "30d").
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	if d, err := parseDuration(s); err == nil {
		return now.Add(d).UTC().Truncate(time.Second), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-12-31T23:59:00Z), a date (2026-12-31) or a duration from now (720h, 30d)", s)
}

// parsePast reads a time flag that looks back: RFC 3339, a date, or a
// duration ago ("24h", "7d").
func parsePast(s string, now time.Time) (time.Time, error) {
	if d, err := parseDuration(s); err == nil && d > 0 {
		return now.Add(-d).UTC().Truncate(time.Second), nil
	}
	t, err := parseWhen(s, now)
	if err != nil {
		return t, fmt.Errorf("%q is not a time: use RFC 3339 (2026-11-25T10:00:00Z), a date (2026-11-25) or a duration ago (24h, 7d)", s)
	}
	return t, nil
}

// parseDuration is time.ParseDuration plus whole days ("30d").
func parseDuration(s string) (time.Duration, error) {
	var n int
	if _, err := fmt.Sscanf(s, "%dd", &n); err == nil && fmt.Sprintf("%dd", n) == s {
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
