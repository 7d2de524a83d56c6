package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"gatehouse/internal/store"
)

func testPolicyCreateGet(t *testing.T, s store.Store) {
	p := mustCreatePolicy(t, s, newPolicy("iam-User-a", "Writer", "org-1"))
	got, err := s.GetPolicy(t.Context(), p.ID)
	wantErr(t, "GetPolicy", err, nil)
	wantEqual(t, "policy", got, p)
}

func testPolicyDuplicates(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := mustCreatePolicy(t, s, newPolicy("iam-User-a", "Reader", ""))
	mustCreatePolicy(t, s, newPolicy("iam-User-a", "Writer", "org-1"))
	for _, tc := range []struct {
		name string
		p    store.Policy
		want error
	}{
		{"same-subject-account-wide", newPolicy("iam-User-a", "Administrator", ""), store.ErrAlreadyExists},
		{"same-subject-same-org", newPolicy("iam-User-a", "Manager", "org-1"), store.ErrAlreadyExists},
		{"same-id", func() store.Policy { p := newPolicy("iam-User-b", "Reader", ""); p.ID = base.ID; return p }(), store.ErrAlreadyExists},
		{"same-subject-other-org", newPolicy("iam-User-a", "Reader", "org-2"), nil},
		{"other-subject-same-scope", newPolicy("iam-User-b", "Reader", ""), nil},
		{"same-subject-other-account", func() store.Policy { p := newPolicy("iam-User-a", "Reader", ""); p.AccountID = other; return p }(), nil},
	} {
		wantErr(t, "CreatePolicy "+tc.name, s.CreatePolicy(ctx, tc.p), tc.want)
	}
	got, err := s.GetPolicy(ctx, base.ID)
	wantErr(t, "GetPolicy", err, nil)
	wantEqual(t, "first policy after the clashes", got, base)
}

func testPolicyListFilters(t *testing.T, s store.Store) {
	aAll := mustCreatePolicy(t, s, newPolicy("iam-User-a", "Reader", ""))
	aOrg1 := mustCreatePolicy(t, s, newPolicy("iam-User-a", "Writer", "org-1"))
	bOrg1 := mustCreatePolicy(t, s, newPolicy("iam-User-b", "Manager", "org-1"))
	bOrg2 := mustCreatePolicy(t, s, newPolicy("iam-User-b", "Writer", "org-2"))
	stranger := newPolicy("iam-User-c", "Administrator", "")
	stranger.AccountID = other
	mustCreatePolicy(t, s, stranger)

	for _, tc := range []struct {
		name string
		q    store.PolicyQuery
		want []store.Policy
	}{
		{"account", store.PolicyQuery{AccountID: acct}, []store.Policy{aAll, aOrg1, bOrg1, bOrg2}},
		{"subject", store.PolicyQuery{Subject: "iam-User-a"}, []store.Policy{aAll, aOrg1}},
		{"org", store.PolicyQuery{AccountID: acct, Org: "org-1"}, []store.Policy{aOrg1, bOrg1}},
		{"subject-and-org", store.PolicyQuery{AccountID: acct, Subject: "iam-User-b", Org: "org-2"}, []store.Policy{bOrg2}},
		{"other-account", store.PolicyQuery{AccountID: other}, []store.Policy{stranger}},
		{"no-filter", store.PolicyQuery{}, []store.Policy{aAll, aOrg1, bOrg1, bOrg2, stranger}},
		{"unknown-subject", store.PolicyQuery{AccountID: acct, Subject: "iam-User-z"}, nil},
	} {
		slices.SortFunc(tc.want, func(x, y store.Policy) int { return strings.Compare(x.ID, y.ID) })
		got, err := s.ListPolicies(t.Context(), tc.q)
		wantErr(t, "ListPolicies "+tc.name, err, nil)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		wantEqual(t, "policies "+tc.name, got, tc.want)
	}
}

func testPolicyListPages(t *testing.T, s store.Store) {
	var want []string
	for i := range 5 {
		want = append(want, mustCreatePolicy(t, s, newPolicy(fmt.Sprint("iam-User-", i), "Reader", "")).ID)
	}
	slices.Sort(want) // byte order
	for _, limit := range []int{1, 2, 5} {
		got := walkPages(t, limit, func(p store.Page) ([]store.Policy, error) {
			return s.ListPolicies(t.Context(), store.PolicyQuery{AccountID: acct, Page: p})
		}, policyID)
		wantEqual(t, fmt.Sprintf("policies in pages of %d", limit), idsOf(got, policyID), want)
	}
}

func testPolicyDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := mustCreatePolicy(t, s, newPolicy("iam-User-a", "Reader", ""))
	kept := mustCreatePolicy(t, s, newPolicy("iam-User-a", "Writer", "org-1"))
	wantErr(t, "DeletePolicy", s.DeletePolicy(ctx, p.ID), nil)
	_, err := s.GetPolicy(ctx, p.ID)
	wantErr(t, "GetPolicy(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeletePolicy again", s.DeletePolicy(ctx, p.ID), store.ErrNotFound)
	got, err := s.ListPolicies(ctx, store.PolicyQuery{Subject: "iam-User-a"})
	wantErr(t, "ListPolicies", err, nil)
	wantEqual(t, "remaining policies", got, []store.Policy{kept})
	// The scope is free again.
	mustCreatePolicy(t, s, newPolicy("iam-User-a", "Administrator", ""))
}
