package iam

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"gatehouse/internal/store"
)

// BootstrapOptions configures Bootstrap.
type BootstrapOptions struct {
	File string // where the admin key goes (apikey.json format, 0600)
	Now  func() time.Time
	Rand io.Reader
}

// Bootstrap creates, on an empty store, the account, the user admin with the
// Administrator role on the whole account, and an Administrator API key written
// to opts.File. It reports whether it did; a store that has an account is left
// alone, so later starts and other nodes never create a second admin key.
//
// The key file is written before the records are committed (as a temporary
// file of this process's own, renamed after the commit), so a crash can never
// leave a committed admin key that nobody has, and of several processes
// starting at once only the one whose commit won renames its file; a
// temporary file left by a crash after the commit is finished on the next start.
func Bootstrap(ctx context.Context, st store.Store, opts BootstrapOptions) (bool, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	accounts, err := st.ListAccounts(ctx)
	if err != nil {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	if len(accounts) > 0 {
		return false, finishKeyFiles(ctx, st, opts.File)
	}

	now := opts.Now().UTC().Truncate(time.Microsecond)
	var acct [16]byte
	if _, err := io.ReadFull(opts.Rand, acct[:]); err != nil {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	value, err := GenerateKey(opts.Rand)
	if err != nil {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	uid := uuid.NewString()
	b := store.Bootstrap{
		Account: store.Account{ID: hex.EncodeToString(acct[:]), Name: "default", CreatedAt: now},
		User: store.User{
			ID: "User-" + uid, IAMID: "iam-User-" + uid, Username: "admin", Name: "Administrator",
			CreatedAt: now, ModifiedAt: now, Version: 1,
		},
	}
	b.User.AccountID = b.Account.ID
	b.Policy = store.Policy{
		ID: "Policy-" + uuid.NewString(), AccountID: b.Account.ID, Subject: b.User.IAMID,
		Role: Administrator.String(), CreatedBy: b.User.IAMID, CreatedAt: now,
	}
	b.APIKey = store.APIKey{
		ID: "ApiKey-" + uuid.NewString(), AccountID: b.Account.ID, IAMID: b.User.IAMID,
		Name: "admin", Description: "Administrator key created at first start",
		Digest: Digest(value), Hint: Hint(value), ActionWhenLeaked: LeakDisable,
		CreatedBy: b.User.IAMID, CreatedAt: now, ModifiedAt: now, Version: 1,
		History: []store.HistoryEntry{{Time: now, IAMID: b.User.IAMID, Action: "created", Message: "bootstrap"}},
	}

	if err := os.MkdirAll(filepath.Dir(opts.File), 0o700); err != nil {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	kf := NewKeyFile(b.APIKey.Name, b.APIKey.Description, value, b.APIKey.ID, now, false)
	tmp, err := writeTemp(opts.File, kf.Marshal())
	if err != nil {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	if err := st.Bootstrap(ctx, b); err != nil {
		os.Remove(tmp)
		if errors.Is(err, store.ErrAlreadyExists) {
			return false, nil // another node bootstrapped first
		}
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	if err := commitFile(tmp, opts.File); err != nil {
		// A process that started meanwhile may have finished our file for us.
		if have, rerr := os.ReadFile(opts.File); rerr == nil && bytes.Equal(have, kf.Marshal()) {
			return true, nil
		}
		return false, fmt.Errorf("bootstrap: the admin key was created but its file could not be written: %w", err)
	}
	return true, nil
}

// finishKeyFiles handles temporary key files left by a crash: the one whose
// key was committed becomes the key file (unless there is one), the others are
// removed.
func finishKeyFiles(ctx context.Context, st store.Store, path string) error {
	tmps, err := filepath.Glob(filepath.Join(filepath.Dir(path), tempPattern(path)))
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	for _, tmp := range tmps {
		committed, err := keyFileCommitted(ctx, st, tmp)
		if err != nil {
			return err
		}
		_, statErr := os.Stat(path)
		if committed && errors.Is(statErr, os.ErrNotExist) {
			if err := commitFile(tmp, path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("bootstrap: %w", err)
			}
			continue
		}
		if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
	return nil
}

// keyFileCommitted reports whether the key in an apikey.json file is in the store.
func keyFileCommitted(ctx context.Context, st store.Store, file string) (bool, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	var kf KeyFile
	if json.Unmarshal(data, &kf) != nil || kf.APIKey == "" {
		return false, nil
	}
	_, err = st.GetAPIKeyByDigest(ctx, Digest(kf.APIKey))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	return true, nil
}
