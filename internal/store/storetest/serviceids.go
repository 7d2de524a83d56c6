package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"gatehouse/internal/store"
)

func testServiceIDCreateGet(t *testing.T, s store.Store) {
	v := mustCreateServiceID(t, s, newServiceID("billing"))
	for _, id := range []string{v.ID, v.IAMID} {
		wantEqual(t, "GetServiceID("+id+")", mustGetServiceID(t, s, id), v)
	}
}

func testServiceIDFirstKey(t *testing.T, s store.Store) {
	v := newServiceID("billing")
	k := newAPIKey(v.IAMID, "first")
	wantErr(t, "CreateServiceID", s.CreateServiceID(t.Context(), v, &k), nil)
	wantEqual(t, "service id", mustGetServiceID(t, s, v.ID), v)
	wantEqual(t, "first key", mustGetAPIKey(t, s, k.ID), k)
}

func testServiceIDFirstKeyConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	taken := mustCreateAPIKey(t, s, newAPIKey("iam-User-x", "taken"))
	v := newServiceID("billing")
	k := newAPIKey(v.IAMID, "first")
	k.Digest = taken.Digest
	wantErr(t, "CreateServiceID with a clashing key", s.CreateServiceID(ctx, v, &k), store.ErrAlreadyExists)
	_, err := s.GetServiceID(ctx, v.ID)
	wantErr(t, "GetServiceID", err, store.ErrNotFound)
	_, err = s.GetAPIKey(ctx, k.ID)
	wantErr(t, "GetAPIKey", err, store.ErrNotFound)
}

func testServiceIDDuplicates(t *testing.T, s store.Store) {
	ctx := t.Context()
	v := mustCreateServiceID(t, s, newServiceID("billing"))
	for _, tc := range []struct {
		name  string
		clash func(w *store.ServiceID)
	}{
		{"same-id", func(w *store.ServiceID) { w.ID = v.ID }},
		{"same-iam-id", func(w *store.ServiceID) { w.IAMID = v.IAMID }},
	} {
		w := newServiceID("other")
		tc.clash(&w)
		wantErr(t, "CreateServiceID "+tc.name, s.CreateServiceID(ctx, w, nil), store.ErrAlreadyExists)
	}
	vs, err := s.ListServiceIDs(ctx, acct, store.Page{})
	wantErr(t, "ListServiceIDs", err, nil)
	wantEqual(t, "service ids after failed creates", vs, []store.ServiceID{v})
	// Names are not unique.
	mustCreateServiceID(t, s, newServiceID("billing"))
}

func testServiceIDList(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []string
	for i := range 5 {
		want = append(want, mustCreateServiceID(t, s, newServiceID(fmt.Sprint("svc-", i))).ID)
	}
	stranger := newServiceID("stranger")
	stranger.AccountID = other
	mustCreateServiceID(t, s, stranger)
	slices.Sort(want) // byte order

	all, err := s.ListServiceIDs(ctx, acct, store.Page{})
	wantErr(t, "ListServiceIDs", err, nil)
	wantEqual(t, "service ids in one page", idsOf(all, serviceIDID), want)
	for _, limit := range []int{1, 2, 5} {
		got := walkPages(t, limit, func(p store.Page) ([]store.ServiceID, error) { return s.ListServiceIDs(ctx, acct, p) }, serviceIDID)
		wantEqual(t, fmt.Sprintf("service ids in pages of %d", limit), idsOf(got, serviceIDID), want)
	}
}

func testServiceIDUpdate(t *testing.T, s store.Store) {
	v := mustCreateServiceID(t, s, newServiceID("billing"))
	got, err := s.UpdateServiceID(t.Context(), v.ID, func(w *store.ServiceID) error {
		if !reflect.DeepEqual(*w, v) {
			return fmt.Errorf("fn got %+v, want the stored service id %+v", *w, v)
		}
		w.Name = "invoicing"
		w.Description = "renamed"
		w.Locked = true
		w.ModifiedAt = t0.Add(time.Minute)
		return nil
	})
	wantErr(t, "UpdateServiceID", err, nil)
	want := v
	want.Name, want.Description, want.Locked = "invoicing", "renamed", true
	want.ModifiedAt = t0.Add(time.Minute)
	want.Version = v.Version + 1
	wantEqual(t, "returned service id", got, want)
	wantEqual(t, "stored service id", mustGetServiceID(t, s, v.IAMID), want)
}

func testServiceIDUpdateFnError(t *testing.T, s store.Store) {
	v := mustCreateServiceID(t, s, newServiceID("billing"))
	seq := mustLastChange(t, s)
	_, err := s.UpdateServiceID(t.Context(), v.ID, func(w *store.ServiceID) error {
		w.Locked = true
		return errBoom
	})
	wantErr(t, "UpdateServiceID with failing fn", err, errBoom)
	wantEqual(t, "service id after the failed update", mustGetServiceID(t, s, v.ID), v)
	wantNoChange(t, s, seq)
}

func testServiceIDDeleteCascades(t *testing.T, s store.Store) {
	v := mustCreateServiceID(t, s, newServiceID("billing"))
	w := mustCreateServiceID(t, s, newServiceID("survivor"))
	checkCascade(t, s, v.IAMID, w.IAMID, func() error { return s.DeleteServiceID(t.Context(), v.ID, nil) })
	_, err := s.GetServiceID(t.Context(), v.ID)
	wantErr(t, "GetServiceID(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteServiceID again", s.DeleteServiceID(t.Context(), v.ID, nil), store.ErrNotFound)
	mustGetServiceID(t, s, w.ID)
}

func testServiceIDDeleteCheck(t *testing.T, s store.Store) {
	v := newServiceID("guarded")
	v.Locked = true
	v = mustCreateServiceID(t, s, v)
	seq := mustLastChange(t, s)
	refused := errors.New("locked")
	err := s.DeleteServiceID(t.Context(), v.IAMID, func(cur store.ServiceID) error {
		if cur.ID != v.ID || !cur.Locked {
			t.Errorf("check saw %+v, want the stored %+v", cur, v)
		}
		return refused
	})
	if err != refused {
		t.Fatalf("DeleteServiceID with a refusing check: got %v, want the check's own error", err)
	}
	wantEqual(t, "service ID after the refused delete", mustGetServiceID(t, s, v.ID), v)
	wantNoChange(t, s, seq)
}
