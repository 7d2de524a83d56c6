package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"gatehouse/internal/store"
)

// docKinds are the draft kinds of the store contract; most draft tests run
// once per kind.
var docKinds = []string{"api", "product"}

// otherKind is the draft kind that is not kind.
func otherKind(kind string) string {
	if kind == "api" {
		return "product"
	}
	return "api"
}

// newDocument is a draft of o. Source and Compiled hold bytes that are not
// text, so a backend that stores them as strings fails.
func newDocument(o store.Org, name, version string) store.Document {
	src := fmt.Appendf(nil, "openapi: 3.0.0\ninfo: {x-ibm-name: %s, version: %q}\n", name, version)
	return store.Document{
		ID:         newUUID(),
		AccountID:  o.AccountID,
		OrgID:      o.ID,
		Name:       name,
		Version:    version,
		Title:      "Title of " + name,
		Source:     append(src, 0, 0xff),
		Format:     "yaml",
		Compiled:   fmt.Appendf(nil, `{"name":%q,"version":%q}`, name, version),
		Rev:        1,
		CreatedBy:  "iam-User-author",
		CreatedAt:  t0,
		ModifiedAt: t0,
	}
}

// docRef is the "name:version" of a draft.
func docRef(d store.Document) string { return d.Name + ":" + d.Version }

func docID(d store.Document) string { return d.ID }

func mustCreateDocument(t *testing.T, s store.Store, kind string, d store.Document) store.Document {
	t.Helper()
	if err := s.CreateDocument(t.Context(), kind, d); err != nil {
		t.Fatalf("CreateDocument(%s %s): %v", kind, docRef(d), err)
	}
	return d
}

func mustGetDocument(t *testing.T, s store.Store, kind, orgID, ref string) store.Document {
	t.Helper()
	d, err := s.GetDocument(t.Context(), kind, orgID, ref)
	if err != nil {
		t.Fatalf("GetDocument(%s %s): %v", kind, ref, err)
	}
	return d
}

func mustListDocuments(t *testing.T, s store.Store, kind, orgID string) []store.Document {
	t.Helper()
	ds, err := s.ListDocuments(t.Context(), kind, orgID, store.Page{Limit: 1000})
	if err != nil {
		t.Fatalf("ListDocuments(%s): %v", kind, err)
	}
	return ds
}

// newPublication is what a publish's closure returns for the product
// name:version in e.
func newPublication(e store.Environment, name, version string) store.Publication {
	return store.Publication{
		ID:             newUUID(),
		AccountID:      e.AccountID,
		OrgID:          e.OrgID,
		EnvID:          e.ID,
		ProductName:    name,
		ProductVersion: version,
		State:          "published",
		Snapshot:       append(fmt.Appendf(nil, `{"product":"%s:%s"}`, name, version), 0),
		Rev:            1,
		PublishedBy:    "iam-User-publisher",
		PublishedAt:    t0,
		ModifiedAt:     t0,
	}
}

func pubID(p store.Publication) string { return p.ID }

// mustPublish stores p as a new publication and returns it as stored.
func mustPublish(t *testing.T, s store.Store, p store.Publication) store.Publication {
	t.Helper()
	got, err := s.PutPublication(t.Context(), p.EnvID, p.ProductName, p.ProductVersion, func(old *store.Publication) (store.Publication, error) {
		if old != nil {
			return store.Publication{}, fmt.Errorf("%s:%s is published already", p.ProductName, p.ProductVersion)
		}
		return p, nil
	})
	if err != nil {
		t.Fatalf("PutPublication(%s:%s): %v", p.ProductName, p.ProductVersion, err)
	}
	return got
}

func mustGetPublication(t *testing.T, s store.Store, envID, ref string) store.Publication {
	t.Helper()
	p, err := s.GetPublication(t.Context(), envID, ref)
	if err != nil {
		t.Fatalf("GetPublication(%s): %v", ref, err)
	}
	return p
}

func mustListPublications(t *testing.T, s store.Store, q store.PublicationQuery) []store.Publication {
	t.Helper()
	ps, err := s.ListPublications(t.Context(), q)
	if err != nil {
		t.Fatalf("ListPublications(%+v): %v", q, err)
	}
	return ps
}

func testDocCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, kind := range docKinds {
		acme, _ := mustCreateOrg(t, s, newOrg("acme-"+kind))
		bolt, _ := mustCreateOrg(t, s, newOrg("bolt-"+kind))
		d := mustCreateDocument(t, s, kind, newDocument(acme, "weather", "1.0.0"))
		// Names cannot hold ':', versions can: the ref splits at the first.
		colon := mustCreateDocument(t, s, kind, newDocument(acme, "clock", "2.0:beta"))
		empty := newDocument(acme, "empty", "1.0.0")
		empty.Source, empty.Compiled = nil, nil
		mustCreateDocument(t, s, kind, empty)

		for _, ref := range []string{d.ID, "weather:1.0.0"} {
			wantEqual(t, kind+" GetDocument("+ref+")", mustGetDocument(t, s, kind, acme.ID, ref), d)
			_, err := s.GetDocument(ctx, kind, bolt.ID, ref)
			wantErr(t, kind+" GetDocument("+ref+") in another org", err, store.ErrNotFound)
			_, err = s.GetDocument(ctx, otherKind(kind), acme.ID, ref)
			wantErr(t, kind+" GetDocument("+ref+") as the other kind", err, store.ErrNotFound)
		}
		wantEqual(t, kind+" GetDocument(clock:2.0:beta)", mustGetDocument(t, s, kind, acme.ID, "clock:2.0:beta"), colon)
		wantEqual(t, kind+" GetDocument(empty blobs)", mustGetDocument(t, s, kind, acme.ID, empty.ID), empty)
		for _, ref := range []string{"weather", "weather:", "weather:1.0", "Weather:1.0.0", ":1.0.0", "clock:2.0", "1.0.0:weather"} {
			_, err := s.GetDocument(ctx, kind, acme.ID, ref)
			wantErr(t, kind+" GetDocument("+ref+")", err, store.ErrNotFound)
		}
	}
}

func testDocDuplicates(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, kind := range docKinds {
		acme, _ := mustCreateOrg(t, s, newOrg("acme-"+kind))
		bolt, _ := mustCreateOrg(t, s, newOrg("bolt-"+kind))
		d := mustCreateDocument(t, s, kind, newDocument(acme, "weather", "1.0.0"))
		seq := mustLastChange(t, s)
		sameID := newDocument(acme, "other", "1.0.0")
		sameID.ID = d.ID
		wantErr(t, kind+" CreateDocument(same id)", s.CreateDocument(ctx, kind, sameID), store.ErrAlreadyExists)
		sameIDOtherOrg := newDocument(bolt, "other", "1.0.0")
		sameIDOtherOrg.ID = d.ID
		wantErr(t, kind+" CreateDocument(same id, other org)", s.CreateDocument(ctx, kind, sameIDOtherOrg), store.ErrAlreadyExists)
		wantErr(t, kind+" CreateDocument(same name:version)", s.CreateDocument(ctx, kind, newDocument(acme, "weather", "1.0.0")), store.ErrAlreadyExists)
		wantNoChange(t, s, seq)
		wantEqual(t, kind+" drafts after the failed creates", mustListDocuments(t, s, kind, acme.ID), []store.Document{d})
		wantEqual(t, kind+" drafts of the other org", len(mustListDocuments(t, s, kind, bolt.ID)), 0)

		// Unique per org and version only.
		mustCreateDocument(t, s, kind, newDocument(bolt, "weather", "1.0.0"))
		mustCreateDocument(t, s, kind, newDocument(acme, "weather", "1.0.1"))
		stranger, _ := mustCreateOrg(t, s, newOrgOf(other, "acme-"+kind))
		mustCreateDocument(t, s, kind, newDocument(stranger, "weather", "1.0.0"))
	}
}

func testDocKindsAreSeparate(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, _ := mustCreateOrg(t, s, newOrg("acme"))
	api := mustCreateDocument(t, s, "api", newDocument(o, "weather", "1.0.0"))
	product := newDocument(o, "weather", "1.0.0")
	product.Format = "json"
	product = mustCreateDocument(t, s, "product", product)

	wantEqual(t, "the api by name:version", mustGetDocument(t, s, "api", o.ID, "weather:1.0.0"), api)
	wantEqual(t, "the product by name:version", mustGetDocument(t, s, "product", o.ID, "weather:1.0.0"), product)
	wantEqual(t, "apis", mustListDocuments(t, s, "api", o.ID), []store.Document{api})
	wantEqual(t, "products", mustListDocuments(t, s, "product", o.ID), []store.Document{product})

	_, err := s.UpdateDocument(ctx, "product", api.ID, func(*store.Document) error { return nil })
	wantErr(t, "UpdateDocument(the api's id as a product)", err, store.ErrNotFound)
	wantErr(t, "DeleteDocument(the api's id as a product)", s.DeleteDocument(ctx, "product", api.ID, nil), store.ErrNotFound)
	wantErr(t, "DeleteDocument(api)", s.DeleteDocument(ctx, "api", api.ID, nil), nil)
	wantEqual(t, "the product after the api's delete", mustGetDocument(t, s, "product", o.ID, product.ID), product)
}

func testDocUnknownKind(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, _ := mustCreateOrg(t, s, newOrg("acme"))
	d := mustCreateDocument(t, s, "api", newDocument(o, "weather", "1.0.0"))
	seq := mustLastChange(t, s)
	called := false
	for _, kind := range []string{"policy", "", "API", "apis"} {
		for _, tc := range []struct {
			name string
			call func() error
		}{
			{"CreateDocument", func() error { return s.CreateDocument(ctx, kind, newDocument(o, "clock", "1.0.0")) }},
			{"GetDocument", func() error { _, err := s.GetDocument(ctx, kind, o.ID, d.ID); return err }},
			{"ListDocuments", func() error { _, err := s.ListDocuments(ctx, kind, o.ID, store.Page{}); return err }},
			{"UpdateDocument", func() error {
				_, err := s.UpdateDocument(ctx, kind, d.ID, func(*store.Document) error { called = true; return nil })
				return err
			}},
			{"DeleteDocument", func() error {
				return s.DeleteDocument(ctx, kind, d.ID, func(store.Document) error { called = true; return nil })
			}},
		} {
			// The caller's mistake: an error, and not one that reads as a
			// missing or clashing record.
			err := tc.call()
			if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAlreadyExists) {
				t.Fatalf("%s(kind %q): error %v, want one that is no store sentinel", tc.name, kind, err)
			}
		}
	}
	if called {
		t.Fatal("a closure was called for an unknown kind")
	}
	wantNoChange(t, s, seq)
	wantEqual(t, "apis", mustListDocuments(t, s, "api", o.ID), []store.Document{d})
	wantEqual(t, "products", len(mustListDocuments(t, s, "product", o.ID)), 0)
}

func testDocList(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, kind := range docKinds {
		o, _ := mustCreateOrg(t, s, newOrg("acme-"+kind))
		bolt, _ := mustCreateOrg(t, s, newOrg("bolt-"+kind))
		byRef := map[string]store.Document{}
		// Byte order of (name, version), which is not the order of the
		// "name:version" strings: "a" < "a-b" although "a:" > "a-".
		for _, ref := range [][2]string{
			{"weather", "2.0.0"}, {"a-b", "1.0.0"}, {"weather", "1.10.0"}, {"Zoo", "1.0.0"},
			{"a", "2.0.0"}, {"weather", "1.0.0"}, {"a", "10.0.0"},
		} {
			d := mustCreateDocument(t, s, kind, newDocument(o, ref[0], ref[1]))
			byRef[docRef(d)] = d
		}
		mustCreateDocument(t, s, kind, newDocument(bolt, "b", "1.0.0"))
		mustCreateDocument(t, s, otherKind(kind), newDocument(o, "b", "1.0.0"))
		var want []string
		for _, ref := range []string{"Zoo:1.0.0", "a:10.0.0", "a:2.0.0", "a-b:1.0.0", "weather:1.0.0", "weather:1.10.0", "weather:2.0.0"} {
			want = append(want, byRef[ref].ID)
		}

		all, err := s.ListDocuments(ctx, kind, o.ID, store.Page{})
		wantErr(t, kind+" ListDocuments", err, nil)
		wantEqual(t, kind+" drafts in one page", idsOf(all, docID), want)
		wantEqual(t, kind+" first listed draft", all[0], byRef["Zoo:1.0.0"])
		for _, limit := range []int{1, 2, 3, 7} {
			got := walkPages(t, limit, func(p store.Page) ([]store.Document, error) { return s.ListDocuments(ctx, kind, o.ID, p) }, docRef)
			wantEqual(t, fmt.Sprintf("%s drafts in pages of %d", kind, limit), idsOf(got, docID), want)
		}
		none, err := s.ListDocuments(ctx, kind, "no-such-org", store.Page{})
		wantErr(t, kind+" ListDocuments(missing org)", err, nil)
		wantEqual(t, kind+" drafts of a missing org", len(none), 0)
	}
}

func testDocUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, kind := range docKinds {
		o, _ := mustCreateOrg(t, s, newOrg("acme-"+kind))
		d := mustCreateDocument(t, s, kind, newDocument(o, "weather", "1.0.0"))
		got, err := s.UpdateDocument(ctx, kind, d.ID, func(v *store.Document) error {
			if !reflect.DeepEqual(*v, d) {
				return fmt.Errorf("fn got %+v, want the stored draft %+v", *v, d)
			}
			v.Name, v.Version, v.Title, v.Format = "forecast", "2.0.0", "Forecast", "json"
			v.Source, v.Compiled = []byte(`{"openapi":"3.1.0"}`), []byte(`{"name":"forecast"}`)
			v.ModifiedAt = t0.Add(time.Hour)
			// Ignored: the store keeps these and sets Rev.
			v.ID, v.AccountID, v.OrgID, v.CreatedBy, v.CreatedAt = "changed", other, "org-changed", "iam-User-x", t0.Add(time.Hour)
			v.Rev = 42
			return nil
		})
		wantErr(t, kind+" UpdateDocument", err, nil)
		want := d
		want.Name, want.Version, want.Title, want.Format = "forecast", "2.0.0", "Forecast", "json"
		want.Source, want.Compiled = []byte(`{"openapi":"3.1.0"}`), []byte(`{"name":"forecast"}`)
		want.ModifiedAt = t0.Add(time.Hour)
		want.Rev = d.Rev + 1
		wantEqual(t, kind+" returned draft", got, want)
		wantEqual(t, kind+" stored draft", mustGetDocument(t, s, kind, o.ID, d.ID), want)
		wantEqual(t, kind+" draft by new name:version", mustGetDocument(t, s, kind, o.ID, "forecast:2.0.0"), want)
		_, err = s.GetDocument(ctx, kind, o.ID, "weather:1.0.0")
		wantErr(t, kind+" GetDocument(old name:version)", err, store.ErrNotFound)
		// The old name:version is free again.
		mustCreateDocument(t, s, kind, newDocument(o, "weather", "1.0.0"))

		got, err = s.UpdateDocument(ctx, kind, d.ID, func(v *store.Document) error { v.Title = "again"; return nil })
		wantErr(t, kind+" UpdateDocument again", err, nil)
		wantEqual(t, kind+" rev after two updates", got.Rev, d.Rev+2)
	}
}

func testDocUpdateTakenName(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, kind := range docKinds {
		o, _ := mustCreateOrg(t, s, newOrg("acme-"+kind))
		bolt, _ := mustCreateOrg(t, s, newOrg("bolt-"+kind))
		a := mustCreateDocument(t, s, kind, newDocument(o, "weather", "1.0.0"))
		b := mustCreateDocument(t, s, kind, newDocument(o, "forecast", "1.0.0"))
		mustCreateDocument(t, s, kind, newDocument(bolt, "clock", "1.0.0"))
		seq := mustLastChange(t, s)
		_, err := s.UpdateDocument(ctx, kind, b.ID, func(v *store.Document) error {
			v.Name, v.Version, v.Title = a.Name, a.Version, "changed"
			return nil
		})
		wantErr(t, kind+" UpdateDocument to a taken name:version", err, store.ErrAlreadyExists)
		wantEqual(t, kind+" draft after the failed update", mustGetDocument(t, s, kind, o.ID, b.ID), b)
		wantNoChange(t, s, seq)

		// Taken in another org, or by the other kind, only: free.
		mustCreateDocument(t, s, otherKind(kind), newDocument(o, "sun", "1.0.0"))
		for _, ref := range [][2]string{{"clock", "1.0.0"}, {"sun", "1.0.0"}} {
			got, err := s.UpdateDocument(ctx, kind, b.ID, func(v *store.Document) error { v.Name, v.Version = ref[0], ref[1]; return nil })
			wantErr(t, kind+" UpdateDocument to "+ref[0], err, nil)
			wantEqual(t, kind+" renamed draft", docRef(got), ref[0]+":"+ref[1])
		}
	}
}

func testDocUpdateFnError(t *testing.T, s store.Store) {
	for _, kind := range docKinds {
		o, _ := mustCreateOrg(t, s, newOrg("acme-"+kind))
		d := mustCreateDocument(t, s, kind, newDocument(o, "weather", "1.0.0"))
		seq := mustLastChange(t, s)
		_, err := s.UpdateDocument(t.Context(), kind, d.ID, func(v *store.Document) error {
			v.Title = "changed"
			v.Source = []byte("changed")
			return errBoom
		})
		if err != errBoom {
			t.Fatalf("%s UpdateDocument with failing fn: got %v, want fn's own error", kind, err)
		}
		wantEqual(t, kind+" draft after the failed update", mustGetDocument(t, s, kind, o.ID, d.ID), d)
		wantNoChange(t, s, seq)
	}
}

func testDocDeleteCheck(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, kind := range docKinds {
		o, _ := mustCreateOrg(t, s, newOrg("acme-"+kind))
		d := mustCreateDocument(t, s, kind, newDocument(o, "weather", "1.0.0"))
		kept := mustCreateDocument(t, s, kind, newDocument(o, "weather", "2.0.0"))
		seq := mustLastChange(t, s)
		refused := errors.New("draft is referenced by a product")
		var seen store.Document
		err := s.DeleteDocument(ctx, kind, d.ID, func(cur store.Document) error {
			seen = cur
			return refused
		})
		if err != refused {
			t.Fatalf("%s DeleteDocument with a refusing check: got %v, want the check's own error", kind, err)
		}
		wantEqual(t, kind+" draft the check saw", seen, d)
		wantEqual(t, kind+" draft after the refused delete", mustGetDocument(t, s, kind, o.ID, d.ID), d)
		wantNoChange(t, s, seq)

		wantErr(t, kind+" DeleteDocument by name:version", s.DeleteDocument(ctx, kind, docRef(d), nil), store.ErrNotFound) // ids only
		wantErr(t, kind+" DeleteDocument with a passing check", s.DeleteDocument(ctx, kind, d.ID, func(store.Document) error { return nil }), nil)
		_, err = s.GetDocument(ctx, kind, o.ID, d.ID)
		wantErr(t, kind+" GetDocument(deleted)", err, store.ErrNotFound)
		called := false
		err = s.DeleteDocument(ctx, kind, d.ID, func(store.Document) error { called = true; return nil })
		wantErr(t, kind+" DeleteDocument(missing) with a check", err, store.ErrNotFound)
		if called {
			t.Fatalf("%s DeleteDocument called its check for a missing draft", kind)
		}
		wantErr(t, kind+" DeleteDocument(missing) without a check", s.DeleteDocument(ctx, kind, d.ID, nil), store.ErrNotFound)
		wantEqual(t, kind+" drafts left", mustListDocuments(t, s, kind, o.ID), []store.Document{kept})
	}
}

func testPublicationPut(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	sb, prod := envs[0], envs[1]

	p := newPublication(sb, "climbon", "1.0.0")
	var seen []*store.Publication
	got, err := s.PutPublication(ctx, sb.ID, "climbon", "1.0.0", func(old *store.Publication) (store.Publication, error) {
		seen = append(seen, old)
		return p, nil
	})
	wantErr(t, "PutPublication(new)", err, nil)
	wantEqual(t, "old publication seen by the first publish", seen, []*store.Publication{nil})
	wantEqual(t, "created publication", got, p)
	wantEqual(t, "stored publication", mustGetPublication(t, s, sb.ID, p.ID), p)

	// Republishing replaces the snapshot and state of the same record.
	again := newPublication(sb, "climbon", "1.0.0")
	again.Snapshot = []byte(`{"product":"climbon:1.0.0","plans":["gold"]}`)
	again.PublishedBy, again.PublishedAt, again.ModifiedAt = "iam-User-other", t0.Add(time.Hour), t0.Add(2*time.Hour)
	got, err = s.PutPublication(ctx, sb.ID, "climbon", "1.0.0", func(old *store.Publication) (store.Publication, error) {
		if old == nil || !reflect.DeepEqual(*old, p) {
			return store.Publication{}, fmt.Errorf("fn got %+v, want the stored publication %+v", old, p)
		}
		old.State = "scribbled on" // the store must not use what fn does to old
		r := again
		// Ignored: the existing record keeps its identity and sets Rev.
		r.AccountID, r.OrgID, r.EnvID, r.ProductName, r.ProductVersion = other, "org-x", prod.ID, "other", "9"
		r.Rev = 42
		return r, nil
	})
	wantErr(t, "PutPublication(republish)", err, nil)
	want := p
	want.Snapshot, want.PublishedBy, want.PublishedAt, want.ModifiedAt = again.Snapshot, again.PublishedBy, again.PublishedAt, again.ModifiedAt
	want.Rev = p.Rev + 1
	wantEqual(t, "republished publication", got, want)
	wantEqual(t, "stored republished publication", mustGetPublication(t, s, sb.ID, "climbon:1.0.0"), want)

	// A deprecated one is republished as what fn says.
	_, err = s.UpdatePublication(ctx, p.ID, func(v *store.Publication) error { v.State = "deprecated"; return nil })
	wantErr(t, "UpdatePublication", err, nil)
	got, err = s.PutPublication(ctx, sb.ID, "climbon", "1.0.0", func(old *store.Publication) (store.Publication, error) {
		if old == nil || old.State != "deprecated" {
			return store.Publication{}, fmt.Errorf("fn got %+v, want the deprecated publication", old)
		}
		r := *old
		r.State = "published"
		return r, nil
	})
	wantErr(t, "PutPublication(deprecated)", err, nil)
	wantEqual(t, "state after republishing", got.State, "published")
	wantEqual(t, "rev after republishing twice", got.Rev, p.Rev+3) // two puts and an update

	// Each catalog and version is a publication of its own.
	inProd := mustPublish(t, s, newPublication(prod, "climbon", "1.0.0"))
	next := mustPublish(t, s, newPublication(sb, "climbon", "1.1.0"))
	wantEqual(t, "publications of sb", idsOf(mustListPublications(t, s, store.PublicationQuery{EnvID: sb.ID}), pubID),
		[]string{p.ID, next.ID})
	wantEqual(t, "publications of prod", mustListPublications(t, s, store.PublicationQuery{EnvID: prod.ID}),
		[]store.Publication{inProd})

	// A new publication belongs to the arguments' catalog and product and to
	// the catalog's org and account, whatever fn put in those fields.
	stray := newPublication(prod, "stray", "9.9.9")
	stray.AccountID, stray.OrgID = other, "org-x"
	got, err = s.PutPublication(ctx, sb.ID, "routes", "1.0.0", func(*store.Publication) (store.Publication, error) { return stray, nil })
	wantErr(t, "PutPublication(stray fields)", err, nil)
	want = stray
	want.AccountID, want.OrgID, want.EnvID, want.ProductName, want.ProductVersion = o.AccountID, o.ID, sb.ID, "routes", "1.0.0"
	wantEqual(t, "publication stored under the arguments", got, want)
	wantEqual(t, "stored publication by name:version", mustGetPublication(t, s, sb.ID, "routes:1.0.0"), want)
}

func testPublicationPutFails(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	sb := envs[0]
	p := mustPublish(t, s, newPublication(sb, "climbon", "1.0.0"))
	seq := mustLastChange(t, s)

	for _, tc := range []struct {
		name, product string
		fn            func(old *store.Publication) (store.Publication, error)
		want          error
	}{
		{"fn-error-on-create", "routes", func(*store.Publication) (store.Publication, error) {
			return newPublication(sb, "routes", "1.0.0"), errBoom
		}, errBoom},
		{"fn-error-on-republish", "climbon", func(old *store.Publication) (store.Publication, error) {
			old.State = "retired"
			r := *old
			r.Snapshot = []byte("changed")
			return r, errBoom
		}, errBoom},
		{"id-taken", "routes", func(*store.Publication) (store.Publication, error) {
			r := newPublication(sb, "routes", "1.0.0")
			r.ID = p.ID
			return r, nil
		}, store.ErrAlreadyExists},
	} {
		_, err := s.PutPublication(ctx, sb.ID, tc.product, "1.0.0", tc.fn)
		if tc.want == errBoom && err != errBoom {
			t.Fatalf("PutPublication %s: got %v, want fn's own error", tc.name, err)
		}
		wantErr(t, "PutPublication "+tc.name, err, tc.want)
	}
	wantEqual(t, "publications after the failed puts", mustListPublications(t, s, store.PublicationQuery{EnvID: sb.ID}),
		[]store.Publication{p})
	wantNoChange(t, s, seq)

	// No publication outlives its catalog: publishing to a missing one fails
	// before fn is called.
	called := false
	_, err := s.PutPublication(ctx, "no-such-env", "climbon", "1.0.0", func(*store.Publication) (store.Publication, error) {
		called = true
		return newPublication(store.Environment{ID: "no-such-env", AccountID: acct}, "climbon", "1.0.0"), nil
	})
	wantErr(t, "PutPublication(missing environment)", err, store.ErrNotFound)
	if called {
		t.Fatal("PutPublication called fn for a missing environment")
	}
	wantNoChange(t, s, seq)
}

func testPublicationGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	sb, prod := envs[0], envs[1]
	p := mustPublish(t, s, newPublication(sb, "climbon", "1.0.0"))
	beta := mustPublish(t, s, newPublication(sb, "climbon", "1.0:beta"))
	inProd := mustPublish(t, s, newPublication(prod, "climbon", "1.0.0"))
	for _, ref := range []string{p.ID, "climbon:1.0.0"} {
		wantEqual(t, "GetPublication("+ref+")", mustGetPublication(t, s, sb.ID, ref), p)
	}
	wantEqual(t, "GetPublication(version with ':')", mustGetPublication(t, s, sb.ID, "climbon:1.0:beta"), beta)
	wantEqual(t, "GetPublication(prod's by name:version)", mustGetPublication(t, s, prod.ID, "climbon:1.0.0"), inProd)
	_, err := s.GetPublication(ctx, prod.ID, p.ID)
	wantErr(t, "GetPublication(sb's id in prod)", err, store.ErrNotFound)
	for _, ref := range []string{"climbon", "climbon:1.0", "climbon:", ":1.0.0", "ClimbOn:1.0.0"} {
		_, err := s.GetPublication(ctx, sb.ID, ref)
		wantErr(t, "GetPublication("+ref+")", err, store.ErrNotFound)
	}
}

func testPublicationList(t *testing.T, s store.Store) {
	acme, acmeEnvs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	bolt, boltEnvs := mustCreateOrg(t, s, newOrg("bolt"), "sb")
	stranger, strangerEnvs := mustCreateOrg(t, s, newOrgOf(other, "acme"), "sb")
	sb, prod, boltSB := acmeEnvs[0], acmeEnvs[1], boltEnvs[0]

	publish := func(e store.Environment, name, version, state string) store.Publication {
		p := newPublication(e, name, version)
		p.State = state
		return mustPublish(t, s, p)
	}
	// Names and versions in byte order, not the order of creation.
	routes := publish(sb, "routes", "1.0.0", "published")
	climbon2 := publish(sb, "climbon", "2.0.0", "deprecated")
	climbon10 := publish(sb, "climbon", "10.0.0", "retired")
	weather := publish(prod, "weather", "1.0.0", "published")
	apis := publish(prod, "apis", "1.0.0", "retired")
	boltP := publish(boltSB, "bolt", "1.0.0", "published")
	strangerP := publish(strangerEnvs[0], "alien", "1.0.0", "published")

	for _, tc := range []struct {
		name string
		q    store.PublicationQuery
		want []store.Publication
	}{
		{"no-filter", store.PublicationQuery{}, []store.Publication{strangerP, apis, boltP, climbon10, climbon2, routes, weather}},
		{"account", store.PublicationQuery{AccountID: acct}, []store.Publication{apis, boltP, climbon10, climbon2, routes, weather}},
		{"other-account", store.PublicationQuery{AccountID: other}, []store.Publication{strangerP}},
		{"org", store.PublicationQuery{OrgID: acme.ID}, []store.Publication{apis, climbon10, climbon2, routes, weather}},
		{"other-org", store.PublicationQuery{AccountID: acct, OrgID: bolt.ID}, []store.Publication{boltP}},
		{"org-of-another-account", store.PublicationQuery{AccountID: acct, OrgID: stranger.ID}, nil},
		{"env", store.PublicationQuery{EnvID: sb.ID}, []store.Publication{climbon10, climbon2, routes}},
		{"org-and-env", store.PublicationQuery{OrgID: acme.ID, EnvID: prod.ID}, []store.Publication{apis, weather}},
		{"env-of-another-org", store.PublicationQuery{OrgID: bolt.ID, EnvID: prod.ID}, nil},
		{"one-state", store.PublicationQuery{AccountID: acct, States: []string{"published"}}, []store.Publication{boltP, routes, weather}},
		{"live-states", store.PublicationQuery{OrgID: acme.ID, States: []string{"published", "deprecated"}}, []store.Publication{climbon2, routes, weather}},
		{"env-and-state", store.PublicationQuery{EnvID: prod.ID, States: []string{"retired"}}, []store.Publication{apis}},
		{"unknown-state", store.PublicationQuery{States: []string{"draft"}}, nil},
		{"empty-states", store.PublicationQuery{EnvID: prod.ID, States: []string{}}, []store.Publication{apis, weather}},
		{"unknown-env", store.PublicationQuery{EnvID: "no-such-env"}, nil},
	} {
		got := mustListPublications(t, s, tc.q)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		wantEqual(t, "publications listed by "+tc.name, idsOf(got, pubID), idsOf(tc.want, pubID))
	}
	wantEqual(t, "publications of sb, whole", mustListPublications(t, s, store.PublicationQuery{EnvID: sb.ID}),
		[]store.Publication{climbon10, climbon2, routes})
}

func testPublicationUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	p := mustPublish(t, s, newPublication(envs[0], "climbon", "1.0.0"))
	got, err := s.UpdatePublication(ctx, p.ID, func(v *store.Publication) error {
		if !reflect.DeepEqual(*v, p) {
			return fmt.Errorf("fn got %+v, want the stored publication %+v", *v, p)
		}
		v.State = "deprecated"
		v.ModifiedAt = t0.Add(time.Hour)
		// Ignored: only the state changes this way.
		v.Snapshot, v.PublishedBy, v.PublishedAt = []byte("changed"), "iam-User-x", t0.Add(time.Hour)
		v.ID, v.AccountID, v.OrgID, v.EnvID, v.ProductName, v.ProductVersion = "changed", other, "x", "x", "x", "x"
		v.Rev = 42
		return nil
	})
	wantErr(t, "UpdatePublication", err, nil)
	want := p
	want.State, want.ModifiedAt, want.Rev = "deprecated", t0.Add(time.Hour), p.Rev+1
	wantEqual(t, "returned publication", got, want)
	wantEqual(t, "stored publication", mustGetPublication(t, s, p.EnvID, p.ID), want)

	seq := mustLastChange(t, s)
	_, err = s.UpdatePublication(ctx, p.ID, func(v *store.Publication) error {
		v.State = "retired"
		return errBoom
	})
	if err != errBoom {
		t.Fatalf("UpdatePublication with failing fn: got %v, want fn's own error", err)
	}
	wantEqual(t, "publication after the failed update", mustGetPublication(t, s, p.EnvID, p.ID), want)
	wantNoChange(t, s, seq)
}

func testPublicationDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	p := mustPublish(t, s, newPublication(envs[0], "climbon", "1.0.0"))
	kept := mustPublish(t, s, newPublication(envs[0], "climbon", "2.0.0"))
	wantErr(t, "DeletePublication by name:version", s.DeletePublication(ctx, "climbon:1.0.0"), store.ErrNotFound) // ids only
	wantErr(t, "DeletePublication", s.DeletePublication(ctx, p.ID), nil)
	_, err := s.GetPublication(ctx, p.EnvID, p.ID)
	wantErr(t, "GetPublication(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeletePublication again", s.DeletePublication(ctx, p.ID), store.ErrNotFound)
	wantEqual(t, "publications left", mustListPublications(t, s, store.PublicationQuery{EnvID: p.EnvID}), []store.Publication{kept})
	// Publishing it again makes a new record.
	again := mustPublish(t, s, newPublication(envs[0], "climbon", "1.0.0"))
	wantEqual(t, "rev of the new publication", again.Rev, int64(1))
}
