package apidef_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"gatehouse/internal/apidef"
)

// The seed corpora are testdata/fuzz/Fuzz*/: the examples and broken
// variants of them (truncated, mistyped, hostile). The examples are added
// here as well so the targets have seeds even without the corpus files.

func FuzzParseAPI(f *testing.F) {
	for _, name := range []string{"petstore-oas3.yaml", "status-public-oas3.json", "weather-oas2.yaml"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(weatherOAS3))
	f.Add([]byte(petstore31))
	f.Fuzz(func(t *testing.T, doc []byte) {
		a, problems, err := apidef.ParseAPI(doc)
		checkOutcome(t, err, problems)
		if err != nil || len(problems) > 0 {
			return
		}
		if a.Name == "" || a.Version == "" || len(a.Operations) == 0 {
			t.Fatalf("compiled without problems but incomplete: %+v", a)
		}
		if a.TargetURL == "" || a.Timeout < apidef.MinTimeout || a.Timeout > apidef.MaxTimeout {
			t.Fatalf("backend %q, timeout %v", a.TargetURL, a.Timeout)
		}
		if a.BasePath != "" && (!strings.HasPrefix(a.BasePath, "/") || strings.HasSuffix(a.BasePath, "/")) {
			t.Fatalf("base path %q is not normalized", a.BasePath)
		}
		roundTrip(t, a, &apidef.API{})
	})
}

func FuzzParseProduct(f *testing.F) {
	f.Add(readTestdata(f, "weather-product.yaml"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, problems, err := apidef.ParseProduct(doc)
		checkOutcome(t, err, problems)
		if err != nil || len(problems) > 0 {
			return
		}
		if p.Name == "" || p.Version == "" || len(p.Plans) == 0 || len(p.APIs) == 0 {
			t.Fatalf("compiled without problems but incomplete: %+v", p)
		}
		for name, plan := range p.Plans {
			if plan.Name != name || plan.Title == "" {
				t.Fatalf("plan %q: %+v", name, plan)
			}
			for key := range plan.APIs {
				if _, ok := p.APIs[key]; !ok {
					t.Fatalf("plan %q restricts to unknown API %q", name, key)
				}
			}
		}
		roundTrip(t, p, &apidef.Product{})
	})
}

// checkOutcome checks what holds for every input: an error is one of the
// package's and comes alone; every problem is located and explained.
func checkOutcome(t *testing.T, err error, problems []apidef.Problem) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, apidef.ErrUnreadable) && !errors.Is(err, apidef.ErrTooLarge) {
			t.Fatalf("unexpected error type: %v", err)
		}
		if problems != nil {
			t.Fatalf("problems with an error: %v", problems)
		}
		return
	}
	for _, p := range problems {
		if p.Pointer != "" && !strings.HasPrefix(p.Pointer, "/") {
			t.Fatalf("pointer %q is not a JSON pointer", p.Pointer)
		}
		if strings.TrimSpace(p.Message) == "" {
			t.Fatalf("problem at %q without a message", p.Pointer)
		}
	}
}

// roundTrip checks that a compiled form survives being stored as JSON.
func roundTrip[T any](t *testing.T, v T, into *T) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v, *into) {
		t.Fatalf("JSON round trip changed it:\n %+v\n %+v", v, *into)
	}
}
