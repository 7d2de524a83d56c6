package storetest

import (
	"fmt"
	"testing"

	"gatehouse/internal/store"
)

func testSigningKeyList(t *testing.T, s store.Store) {
	// Created out of order, with ids that sort the other way round.
	var ks []store.SigningKey
	for _, gen := range []int64{3, 1, 2} {
		k := newSigningKey(gen)
		k.ID = fmt.Sprint("kid-", 9-gen)
		ks = append(ks, mustCreateSigningKey(t, s, k))
	}
	k3, k1, k2 := ks[0], ks[1], ks[2]
	got, err := s.ListSigningKeys(t.Context())
	wantErr(t, "ListSigningKeys", err, nil)
	wantEqual(t, "signing keys", got, []store.SigningKey{k1, k2, k3})
}

func testSigningKeyDuplicates(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := mustCreateSigningKey(t, s, newSigningKey(1))
	sameGen := newSigningKey(1)
	wantErr(t, "CreateSigningKey(same generation)", s.CreateSigningKey(ctx, sameGen), store.ErrAlreadyExists)
	sameID := newSigningKey(2)
	sameID.ID = k.ID
	wantErr(t, "CreateSigningKey(same id)", s.CreateSigningKey(ctx, sameID), store.ErrAlreadyExists)
	ks, err := s.ListSigningKeys(ctx)
	wantErr(t, "ListSigningKeys", err, nil)
	wantEqual(t, "signing keys", ks, []store.SigningKey{k})
}

func testSigningKeyDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	k1 := mustCreateSigningKey(t, s, newSigningKey(1))
	k2 := mustCreateSigningKey(t, s, newSigningKey(2))
	k3 := mustCreateSigningKey(t, s, newSigningKey(3))
	wantErr(t, "DeleteSigningKey", s.DeleteSigningKey(ctx, k2.ID), nil)
	wantErr(t, "DeleteSigningKey again", s.DeleteSigningKey(ctx, k2.ID), store.ErrNotFound)
	ks, err := s.ListSigningKeys(ctx)
	wantErr(t, "ListSigningKeys", err, nil)
	wantEqual(t, "signing keys", ks, []store.SigningKey{k1, k3})
}

func testMeta(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetMeta(ctx, "cluster-id")
	wantErr(t, "GetMeta(unset)", err, store.ErrNotFound)
	wantErr(t, "PutMetaIfAbsent", s.PutMetaIfAbsent(ctx, "cluster-id", "first"), nil)
	wantErr(t, "PutMetaIfAbsent again", s.PutMetaIfAbsent(ctx, "cluster-id", "second"), store.ErrAlreadyExists)
	wantErr(t, "PutMetaIfAbsent(empty value)", s.PutMetaIfAbsent(ctx, "empty", ""), nil)
	for name, want := range map[string]string{"cluster-id": "first", "empty": ""} {
		got, err := s.GetMeta(ctx, name)
		wantErr(t, "GetMeta("+name+")", err, nil)
		wantEqual(t, "meta "+name, got, want)
	}
}
