package iam

import (
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
// file, renamed after the commit), so a crash can never leave a committed admin
// key that nobody has; a temporary file left by a crash after the commit is
// finished on the next start.
func Bootstrap(ctx context.Context, st store.Store, opts BootstrapOptions) (bool, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	tmp := opts.File + ".tmp"
	accounts, err := st.ListAccounts(ctx)
	if err != nil {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	if len(accounts) > 0 {
		return false, finishKeyFile(ctx, st, tmp, opts.File)
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
	if _, err := writeSynced(tmp, kf.Marshal()); err != nil {
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
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	return true, nil
}

// finishKeyFile handles a temporary key file left by a crash: it becomes the
// key file if its key was committed, and is removed otherwise.
func finishKeyFile(ctx context.Context, st store.Store, tmp, path string) error {
	data, err := os.ReadFile(tmp)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	var kf KeyFile
	committed := false
	if json.Unmarshal(data, &kf) == nil && kf.APIKey != "" {
		_, err := st.GetAPIKeyByDigest(ctx, Digest(kf.APIKey))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("bootstrap: %w", err)
		}
		committed = err == nil
	}
	if _, statErr := os.Stat(path); committed && errors.Is(statErr, os.ErrNotExist) {
		return commitFile(tmp, path)
	}
	return os.Remove(tmp)
}
