package iam

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"gatehouse/internal/errs"
	"gatehouse/internal/store"
)

// Leak actions (SPEC §2.3).
const (
	LeakNone    = "none"
	LeakDisable = "disable"
	LeakDelete  = "delete"
)

const (
	maxHistory     = 100
	maxRotateGrace = 30 * 24 * time.Hour
	maxLeakReport  = 100
)

// OptionalTime is a time field of a partial update: Set false leaves the field
// as it is; Set with a zero Value clears it.
type OptionalTime struct {
	Set   bool
	Value time.Time
}

// CreateKeyInput is the body of POST /v1/apikeys.
type CreateKeyInput struct {
	Name             string
	Description      string
	IAMID            string // default: the caller
	ExpiresAt        time.Time
	Role             string
	ActionWhenLeaked string
	APIKey           string // a value to import instead of generating one
}

// CreatedKey is a new key with its value, which is never available again.
type CreatedKey struct {
	Key   store.APIKey
	Value string
}

// CreateAPIKey creates a key for the caller or, for an Administrator, for
// another identity of the account. Nobody creates a key more powerful than
// their own effective role: without an explicit role the key is capped at it.
func (s *Service) CreateAPIKey(ctx context.Context, p *Principal, in CreateKeyInput) (CreatedKey, error) {
	if err := requireWriter(p); err != nil {
		return CreatedKey{}, err
	}
	owner := p.ident
	if in.IAMID != "" && !p.isSelf(in.IAMID) {
		if p.AccountRole() < Administrator {
			return CreatedKey{}, errs.E(errs.Forbidden, "Only an Administrator creates API keys for other identities.")
		}
		var err error
		if owner, err = s.identityOf(ctx, in.IAMID); err != nil {
			return CreatedKey{}, errs.Invalid("iam_id", "Identity %s not found.", errs.Printable(in.IAMID))
		}
	}
	k, value, err := s.newKey(p, owner, in, s.now())
	if err != nil {
		return CreatedKey{}, err
	}
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return CreatedKey{}, errs.E(errs.AlreadyExists, "That API key value is already in use.")
		}
		return CreatedKey{}, fmt.Errorf("create api key: %w", err)
	}
	s.forgetKey(k.ID)
	return CreatedKey{Key: k, Value: value}, nil
}

// newKey validates a key request for owner and builds the record and value.
func (s *Service) newKey(p *Principal, owner *identity, in CreateKeyInput, now time.Time) (store.APIKey, string, error) {
	if err := validateText("name", in.Name, 1, 128); err != nil {
		return store.APIKey{}, "", err
	}
	if err := validateText("description", in.Description, 0, 1024); err != nil {
		return store.APIKey{}, "", err
	}
	keyCap, err := s.capFor(p, owner, in.Role)
	if err != nil {
		return store.APIKey{}, "", err
	}
	leak, err := leakAction(in.ActionWhenLeaked)
	if err != nil {
		return store.APIKey{}, "", err
	}
	if !in.ExpiresAt.IsZero() && !in.ExpiresAt.After(now) {
		return store.APIKey{}, "", errs.Invalid("expires_at", "expires_at must be in the future.")
	}
	value := in.APIKey
	if value == "" {
		if value, err = GenerateKey(s.rand); err != nil {
			return store.APIKey{}, "", fmt.Errorf("generate api key: %w", err)
		}
	} else if CheckKey(value) != nil {
		return store.APIKey{}, "", errs.Invalid("apikey", "An imported API key must be 32 to 256 printable ASCII characters without spaces (or a valid Gatehouse key).")
	}
	k := store.APIKey{
		ID:               "ApiKey-" + uuid.NewString(),
		AccountID:        s.accountID,
		IAMID:            owner.IAMID,
		Name:             strings.TrimSpace(in.Name),
		Description:      in.Description,
		Digest:           Digest(value),
		Hint:             Hint(value),
		Role:             keyCap.String(),
		ExpiresAt:        in.ExpiresAt,
		ActionWhenLeaked: leak,
		CreatedBy:        p.IAMID(),
		CreatedAt:        now,
		ModifiedAt:       now,
		Version:          1,
	}
	addHistory(&k, now, p, "created", "")
	return k, value, nil
}

// capFor decides the role cap of a new key for owner: the requested role, which
// must not exceed the caller's own effective role; without one, the caller's
// credential ceiling (key cap or token role), lowered to the caller's effective
// role when the owner's is higher — so a capped key or down-scoped token never
// mints a key with more power than itself, now or after a later promotion.
func (s *Service) capFor(p *Principal, owner *identity, requested string) (Role, error) {
	callerMax := p.MaxRole()
	if requested == "" {
		// A capped credential passes its cap on, so the new key can never grow
		// past it when the owner is granted more later.
		keyCap := p.Ceiling()
		if owner.maxRole() > callerMax && (keyCap == NoRole || callerMax < keyCap) {
			keyCap = callerMax
		}
		return keyCap, nil
	}
	r, err := ParseRole(requested)
	if err != nil {
		return NoRole, errs.Invalid("role", "%s", err.Error())
	}
	if r > callerMax {
		return NoRole, errs.E(errs.Forbidden, "You cannot create an API key with role %s: your own effective role is %s.", r, RoleName(callerMax))
	}
	return r, nil
}

// requireWriter refuses callers who may not change anything anywhere (a
// Reader never changes anything, its own keys included).
func requireWriter(p *Principal) error {
	if r := p.MaxRole(); r < Writer {
		return errs.E(errs.Forbidden, "Changing API keys needs the Writer role; your effective role is %s.", RoleName(r))
	}
	return nil
}

// RoleName is r's name, or "none" for NoRole (for messages).
func RoleName(r Role) string {
	if r == NoRole {
		return "none"
	}
	return r.String()
}

func leakAction(s string) (string, error) {
	switch s {
	case "":
		return LeakDisable, nil
	case LeakNone, LeakDisable, LeakDelete:
		return s, nil
	}
	return "", errs.Invalid("action_when_leaked", "action_when_leaked must be none, disable or delete.")
}

// validateText checks a user-supplied string field's length (in characters)
// and that it is valid UTF-8 without control characters.
func validateText(field, v string, minLen, maxLen int) error {
	if !utf8.ValidString(v) {
		return errs.Invalid(field, "%s must be valid UTF-8.", field)
	}
	n := utf8.RuneCountInString(strings.TrimSpace(v))
	if n < minLen {
		return errs.Invalid(field, "%s is required.", field)
	}
	if utf8.RuneCountInString(v) > maxLen {
		return errs.Invalid(field, "%s must be at most %d characters.", field, maxLen)
	}
	for _, r := range v {
		if r < ' ' && r != '\n' && r != '\t' || r == 0x7f {
			return errs.Invalid(field, "%s must not contain control characters.", field)
		}
	}
	return nil
}

func addHistory(k *store.APIKey, at time.Time, p *Principal, action, msg string) {
	k.History = append(k.History, store.HistoryEntry{Time: at, IAMID: p.IAMID(), Action: action, Message: msg})
	if n := len(k.History); n > maxHistory {
		k.History = append([]store.HistoryEntry(nil), k.History[n-maxHistory:]...)
	}
}

// keyFor returns a key the caller may act on: their own, or any key of the
// account for an Administrator. Other keys are reported as not found, so their
// existence is not revealed.
func (s *Service) keyFor(ctx context.Context, p *Principal, id string) (store.APIKey, error) {
	k, err := s.getKeyWithActivity(func() (store.APIKey, error) { return s.store.GetAPIKey(ctx, id) })
	if err == nil && !s.mayActOn(p, k) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.APIKey{}, errs.E(errs.NotFound, "API key %s not found.", errs.Printable(id))
	}
	return k, err
}

func (s *Service) mayActOn(p *Principal, k store.APIKey) bool {
	return k.AccountID == s.accountID && (p.isSelf(k.IAMID) || p.AccountRole() >= Administrator)
}

// keyToChange returns a key the caller may change: one it may act on and, for
// a capped credential, only keys capped no higher than that credential — a
// Writer-capped key must not disable, re-enable, delete or rotate the owner's
// Administrator key.
func (s *Service) keyToChange(ctx context.Context, p *Principal, id string) (store.APIKey, error) {
	if err := requireWriter(p); err != nil {
		return store.APIKey{}, err
	}
	k, err := s.store.GetAPIKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.mayActOn(p, k)) {
		return store.APIKey{}, errs.E(errs.NotFound, "API key %s not found.", errs.Printable(id))
	}
	if err != nil {
		return k, err
	}
	if ceiling := p.Ceiling(); ceiling != NoRole {
		keyCap, _ := ParseRole(k.Role)
		if keyCap == NoRole || keyCap > ceiling {
			return store.APIKey{}, errs.E(errs.Forbidden, "API key %s can do more than your credential (at most %s); use a key or token that is not capped below it.", k.ID, ceiling)
		}
	}
	return k, nil
}

// GetAPIKey returns a key the caller may see, with activity.
func (s *Service) GetAPIKey(ctx context.Context, p *Principal, id string) (store.APIKey, error) {
	return s.keyFor(ctx, p, id)
}

// GetAPIKeyByValue returns the record of the key with the given value
// (GET /v1/apikeys/details), under the same rules as GetAPIKey.
func (s *Service) GetAPIKeyByValue(ctx context.Context, p *Principal, value string) (store.APIKey, error) {
	notFound := errs.E(errs.NotFound, "API key not found.")
	if CheckKey(value) != nil {
		return store.APIKey{}, notFound
	}
	k, err := s.getKeyWithActivity(func() (store.APIKey, error) { return s.store.GetAPIKeyByDigest(ctx, Digest(value)) })
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.mayActOn(p, k)) {
		return store.APIKey{}, notFound
	}
	return k, err
}

// ListKeysInput is the query of GET /v1/apikeys.
type ListKeysInput struct {
	IAMID       string
	Scope       string // "entity" (default) or "account"
	PageSize    int    // 1–100
	PageSizeSet bool   // false: the default, 20
	PageToken   string
	Sort        string // "created_at" (default) or "name"
	Order       string // "asc" (default) or "desc"
}

// pageToken is the opaque pagetoken: the query it belongs to and where the page ends.
type pageToken struct {
	Scope   string `json:"s"`
	IAMID   string `json:"i,omitempty"`
	Sort    string `json:"o"`
	Desc    bool   `json:"d,omitempty"`
	Offset  int    `json:"n"`
	Name    string `json:"kn,omitempty"`
	Created int64  `json:"kc"`
	ID      string `json:"k"`
}

// ListAPIKeys lists the caller's keys (scope entity) or, for an Administrator,
// the account's keys (scope account, optionally one iam_id's).
func (s *Service) ListAPIKeys(ctx context.Context, p *Principal, in ListKeysInput) (Page[store.APIKey], error) {
	q := pageToken{Scope: in.Scope, IAMID: in.IAMID, Sort: in.Sort}
	if q.Scope == "" {
		q.Scope = "entity"
	}
	if q.Sort == "" {
		q.Sort = "created_at"
	}
	switch in.Order {
	case "", "asc":
	case "desc":
		q.Desc = true
	default:
		return Page[store.APIKey]{}, errs.Invalid("order", "order must be asc or desc.")
	}
	if q.Sort != "created_at" && q.Sort != "name" {
		return Page[store.APIKey]{}, errs.Invalid("sort", "sort must be created_at or name.")
	}
	limit, err := pageSize(in.PageSize, in.PageSizeSet)
	if err != nil {
		return Page[store.APIKey]{}, err
	}
	switch q.Scope {
	case "entity":
		if q.IAMID == "" {
			q.IAMID = p.IAMID()
		}
		if !p.isSelf(q.IAMID) && p.AccountRole() < Administrator {
			return Page[store.APIKey]{}, errs.E(errs.Forbidden, "Only an Administrator lists other identities' API keys.")
		}
	case "account":
		if p.AccountRole() < Administrator {
			return Page[store.APIKey]{}, errs.E(errs.Forbidden, "Only an Administrator lists the account's API keys.")
		}
	default:
		return Page[store.APIKey]{}, errs.Invalid("scope", "scope must be entity or account.")
	}

	sq := store.APIKeyQuery{AccountID: s.accountID, IAMID: q.IAMID, SortBy: q.Sort, Desc: q.Desc, Limit: limit + 1}
	offset := 0
	if in.PageToken != "" {
		t, err := decodeToken[pageToken](in.PageToken)
		if err != nil || t.Scope != q.Scope || t.IAMID != q.IAMID || t.Sort != q.Sort || t.Desc != q.Desc {
			return Page[store.APIKey]{}, errs.Invalid("pagetoken", "pagetoken is not valid for this query; start again without it.")
		}
		offset = t.Offset
		sq.After = &store.APIKeyCursor{Name: t.Name, CreatedAt: time.UnixMicro(t.Created).UTC(), ID: t.ID}
	}
	keys, err := s.listKeysWithActivity(ctx, sq)
	if err != nil {
		return Page[store.APIKey]{}, fmt.Errorf("list api keys: %w", err)
	}
	page := Page[store.APIKey]{Offset: offset, Limit: limit}
	if len(keys) > limit {
		keys = keys[:limit]
		last := keys[limit-1]
		t := q
		t.Offset, t.Name, t.Created, t.ID = offset+limit, last.Name, last.CreatedAt.UnixMicro(), last.ID
		page.NextToken = encodeToken(t)
	}
	page.Items = keys
	return page, nil
}

// UpdateKeyInput is the body of PUT /v1/apikeys/{id}; nil fields stay as they are.
type UpdateKeyInput struct {
	IfMatch          string
	Name             *string
	Description      *string
	ExpiresAt        OptionalTime
	ActionWhenLeaked *string
}

// UpdateAPIKey changes a key's settings. It needs If-Match with the current
// entity tag (428 without, 412 when stale) and refuses locked keys (409).
func (s *Service) UpdateAPIKey(ctx context.Context, p *Principal, id string, in UpdateKeyInput) (store.APIKey, error) {
	if in.IfMatch == "" {
		return store.APIKey{}, errs.E(errs.PreconditionRequired, "Send the key's entity tag in If-Match (from GET /v1/apikeys/%s).", errs.Printable(id))
	}
	if in.Name != nil {
		if err := validateText("name", *in.Name, 1, 128); err != nil {
			return store.APIKey{}, err
		}
	}
	if in.Description != nil {
		if err := validateText("description", *in.Description, 0, 1024); err != nil {
			return store.APIKey{}, err
		}
	}
	var leak string
	if in.ActionWhenLeaked != nil {
		var err error
		if leak, err = leakAction(*in.ActionWhenLeaked); err != nil {
			return store.APIKey{}, err
		}
	}
	now := s.now()
	if in.ExpiresAt.Set && !in.ExpiresAt.Value.IsZero() && !in.ExpiresAt.Value.After(now) {
		return store.APIKey{}, errs.Invalid("expires_at", "expires_at must be in the future.")
	}
	return s.updateKey(ctx, p, id, "updated", func(k *store.APIKey) error {
		if !ETagMatches(in.IfMatch, k.Version) {
			return errs.E(errs.PreconditionFailed, "The API key was changed since you read it; read it again and retry.")
		}
		if k.Locked {
			return errLocked(k.ID)
		}
		if in.Name != nil {
			k.Name = strings.TrimSpace(*in.Name)
		}
		if in.Description != nil {
			k.Description = *in.Description
		}
		if in.ExpiresAt.Set {
			if err := checkNewExpiry(k, in.ExpiresAt.Value, s.now()); err != nil {
				return err
			}
			k.ExpiresAt = in.ExpiresAt.Value
		}
		if in.ActionWhenLeaked != nil {
			k.ActionWhenLeaked = leak
		}
		return nil
	})
}

// checkNewExpiry refuses to revive an expired key or to extend the grace of
// a rotated one: both would bring back a credential its owner retired.
func checkNewExpiry(k *store.APIKey, to, now time.Time) error {
	if !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(now) {
		return errs.E(errs.Conflict, "API key %s has expired and cannot be revived; create a new key.", k.ID)
	}
	extends := to.IsZero() || (!k.ExpiresAt.IsZero() && to.After(k.ExpiresAt))
	if extends && slices.ContainsFunc(k.History, func(h store.HistoryEntry) bool { return h.Action == "rotated" }) {
		return errs.E(errs.Conflict, "API key %s was rotated; its grace period can be shortened, not extended.", k.ID)
	}
	return nil
}

func errLocked(id string) error {
	return errs.E(errs.EntityLocked, "API key %s is locked; unlock it first.", id)
}

// ETag is the entity tag of a record version.
func ETag(version int64) string { return strconv.FormatInt(version, 10) }

// ETagMatches implements If-Match: "*" or any listed tag (quoted or not)
// equal to the current version. Weak tags (W/"…") never match: If-Match uses
// the strong comparison (RFC 9110 §13.1.1).
func ETagMatches(ifMatch string, version int64) bool {
	want := ETag(version)
	for _, t := range strings.Split(ifMatch, ",") {
		t = strings.TrimSpace(t)
		if strings.HasPrefix(t, "W/") {
			continue
		}
		t = strings.Trim(t, `"`)
		if t == "*" || t == want {
			return true
		}
	}
	return false
}

// updateKey applies fn to a key the caller may act on, records the action in
// the key's history and drops cached state.
func (s *Service) updateKey(ctx context.Context, p *Principal, id, action string, fn func(k *store.APIKey) error) (store.APIKey, error) {
	if _, err := s.keyToChange(ctx, p, id); err != nil {
		return store.APIKey{}, err
	}
	k, err := s.store.UpdateAPIKey(ctx, id, func(k *store.APIKey) error {
		if err := fn(k); err != nil {
			return err
		}
		now := s.now()
		k.ModifiedAt = now
		addHistory(k, now, p, action, "")
		return nil
	})
	s.forgetKey(id)
	if errors.Is(err, store.ErrNotFound) {
		return store.APIKey{}, errs.E(errs.NotFound, "API key %s not found.", errs.Printable(id))
	}
	return k, err
}

// SetAPIKeyLocked locks or unlocks a key.
func (s *Service) SetAPIKeyLocked(ctx context.Context, p *Principal, id string, locked bool) error {
	action := map[bool]string{true: "locked", false: "unlocked"}[locked]
	_, err := s.updateKey(ctx, p, id, action, func(k *store.APIKey) error {
		k.Locked = locked
		return nil
	})
	return err
}

// SetAPIKeyDisabled disables or enables a key. A disabled key cannot be
// exchanged and its live tokens stop working at once. Locked keys may be
// disabled: disabling is how one reacts to a leak.
func (s *Service) SetAPIKeyDisabled(ctx context.Context, p *Principal, id string, disabled bool) error {
	action := map[bool]string{true: "disabled", false: "enabled"}[disabled]
	_, err := s.updateKey(ctx, p, id, action, func(k *store.APIKey) error {
		k.Disabled = disabled
		return nil
	})
	return err
}

// DeleteAPIKey deletes a key unless it is locked; its live tokens stop working at once.
func (s *Service) DeleteAPIKey(ctx context.Context, p *Principal, id string) error {
	if _, err := s.keyToChange(ctx, p, id); err != nil {
		return err
	}
	err := s.store.DeleteAPIKey(ctx, id, func(k store.APIKey) error {
		if k.Locked {
			return errLocked(k.ID)
		}
		return nil
	})
	s.forgetKey(id)
	if errors.Is(err, store.ErrNotFound) {
		return errs.E(errs.NotFound, "API key %s not found.", errs.Printable(id))
	}
	return err
}

// RotateAPIKey creates a replacement key with the same settings and lets the
// old one work until the grace period ends (it expires then). Locked and
// disabled keys are not rotated.
func (s *Service) RotateAPIKey(ctx context.Context, p *Principal, id string, grace time.Duration) (CreatedKey, error) {
	if grace < 0 || grace > maxRotateGrace {
		return CreatedKey{}, errs.Invalid("grace", "grace must be between 0s and 720h.")
	}
	cur, err := s.keyToChange(ctx, p, id)
	if err != nil {
		return CreatedKey{}, err
	}
	owner, err := s.identityOf(ctx, cur.IAMID)
	if err != nil {
		return CreatedKey{}, err
	}
	keyCap, _ := ParseRole(cur.Role)
	if capRole(owner.maxRole(), keyCap) > p.MaxRole() {
		return CreatedKey{}, errs.E(errs.Forbidden, "You cannot rotate a key with more power than your own effective role.")
	}
	value, err := GenerateKey(s.rand)
	if err != nil {
		return CreatedKey{}, fmt.Errorf("generate api key: %w", err)
	}
	now := s.now()
	var created store.APIKey
	_, created, err = s.store.RotateAPIKey(ctx, id, func(old *store.APIKey) (store.APIKey, error) {
		switch {
		case old.Locked:
			return store.APIKey{}, errLocked(old.ID)
		case old.Disabled:
			return store.APIKey{}, errs.E(errs.Conflict, "API key %s is disabled; enable it before rotating.", old.ID)
		case !old.ExpiresAt.IsZero() && !old.ExpiresAt.After(now):
			return store.APIKey{}, errs.E(errs.Conflict, "API key %s has expired; create a new key instead.", old.ID)
		}
		n := store.APIKey{
			ID:               "ApiKey-" + uuid.NewString(),
			AccountID:        old.AccountID,
			IAMID:            old.IAMID,
			Name:             old.Name,
			Description:      old.Description,
			Digest:           Digest(value),
			Hint:             Hint(value),
			Role:             old.Role,
			ExpiresAt:        old.ExpiresAt,
			ActionWhenLeaked: old.ActionWhenLeaked,
			CreatedBy:        p.IAMID(),
			CreatedAt:        now,
			ModifiedAt:       now,
			Version:          1,
		}
		addHistory(&n, now, p, "created", "rotated from "+old.ID)
		if end := now.Add(grace); old.ExpiresAt.IsZero() || end.Before(old.ExpiresAt) {
			old.ExpiresAt = end
		}
		old.ModifiedAt = now
		addHistory(old, now, p, "rotated", "replaced by "+n.ID+"; works until "+old.ExpiresAt.UTC().Format(time.RFC3339))
		return n, nil
	})
	s.forgetKey(id)
	if errors.Is(err, store.ErrNotFound) {
		return CreatedKey{}, errs.E(errs.NotFound, "API key %s not found.", errs.Printable(id))
	}
	if err != nil {
		return CreatedKey{}, err
	}
	return CreatedKey{Key: created, Value: value}, nil
}

// LeakResult is the outcome for one reported value.
type LeakResult struct {
	Index   int    `json:"index"`
	Matched bool   `json:"matched"`
	ID      string `json:"id,omitempty"`
	Hint    string `json:"hint,omitempty"`
	Action  string `json:"action,omitempty"` // none, disabled or deleted
}

// ReportLeaked applies each matched key's action_when_leaked. Holding a key's
// value is what makes a report credible, so any caller allowed to write may
// report any key of the account; unmatched values reveal nothing. A locked key
// whose action is delete is disabled instead.
func (s *Service) ReportLeaked(ctx context.Context, p *Principal, values []string) ([]LeakResult, error) {
	if err := requireWriter(p); err != nil {
		return nil, err
	}
	if len(values) == 0 || len(values) > maxLeakReport {
		return nil, errs.Invalid("apikeys", "apikeys must hold 1 to %d key values.", maxLeakReport)
	}
	out := make([]LeakResult, len(values))
	for i, v := range values {
		out[i] = LeakResult{Index: i}
		if CheckKey(v) != nil {
			continue
		}
		k, err := s.store.GetAPIKeyByDigest(ctx, Digest(v))
		if errors.Is(err, store.ErrNotFound) || (err == nil && k.AccountID != s.accountID) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("report leaked: %w", err)
		}
		out[i].Matched, out[i].ID, out[i].Hint = true, k.ID, k.Hint
		if out[i].Action, err = s.applyLeakAction(ctx, p, k); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) applyLeakAction(ctx context.Context, p *Principal, k store.APIKey) (string, error) {
	if k.ActionWhenLeaked == LeakDelete && !k.Locked {
		err := s.store.DeleteAPIKey(ctx, k.ID, func(cur store.APIKey) error {
			if cur.Locked {
				return errLocked(cur.ID)
			}
			return nil
		})
		s.forgetKey(k.ID)
		if err == nil || errors.Is(err, store.ErrNotFound) {
			return "deleted", nil
		}
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != errs.EntityLocked {
			return "", err
		}
		// Locked in the meantime: fall through and disable it.
	}
	action := "none"
	_, err := s.store.UpdateAPIKey(ctx, k.ID, func(cur *store.APIKey) error {
		now := s.now()
		msg := "reported leaked; action none"
		if cur.ActionWhenLeaked != LeakNone {
			cur.Disabled, action, msg = true, "disabled", "reported leaked; disabled"
		}
		cur.ModifiedAt = now
		addHistory(cur, now, p, "reported-leaked", msg)
		return nil
	})
	s.forgetKey(k.ID)
	if errors.Is(err, store.ErrNotFound) {
		return "deleted", nil
	}
	return action, err
}
