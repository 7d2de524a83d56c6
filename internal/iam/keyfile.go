package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// KeyFile is the apikey.json document (SPEC §2.2).
type KeyFile struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	APIKey      string `json:"apikey"`
	CreatedAt   string `json:"createdAt"`
	Locked      bool   `json:"locked"`
	UUID        string `json:"uuid"`
}

// KeyFileTime is the createdAt layout of apikey.json: minute precision, +0000.
const KeyFileTime = "2006-01-02T15:04-0700"

// NewKeyFile describes a key for apikey.json.
func NewKeyFile(name, description, value, id string, created time.Time, locked bool) KeyFile {
	return KeyFile{Name: name, Description: description, APIKey: value, CreatedAt: created.UTC().Format(KeyFileTime), Locked: locked, UUID: id}
}

// Marshal renders the file: tab-indented JSON with a final newline.
func (f KeyFile) Marshal() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "\t")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(f) // only strings and a bool: cannot fail
	return b.Bytes()
}

// WriteSecretFile writes data to path with mode 0600 so that a crash never
// leaves a partial file: it writes a temporary file of its own in the same
// directory, syncs it, renames it into place and syncs the directory.
func WriteSecretFile(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	return commitFile(tmp, path)
}

// tempPattern names the temporary files of path: unique per writer, so
// concurrent writers (two processes bootstrapping at once) never share one.
func tempPattern(path string) string { return filepath.Base(path) + ".*.tmp" }

// writeTemp writes data, synced, to a new 0600 temporary file beside path.
func writeTemp(path string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), tempPattern(path))
	if err != nil {
		return "", err
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}

func commitFile(tmp, path string) error {
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // best effort: not every filesystem syncs directories
		d.Close()
	}
	return nil
}
