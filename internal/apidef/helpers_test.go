package apidef_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"gatehouse/internal/apidef"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustParseAPI compiles doc and fails the test on any error or problem.
func mustParseAPI(t *testing.T, doc []byte) apidef.API {
	t.Helper()
	a, problems, err := apidef.ParseAPI(doc)
	if err != nil {
		t.Fatalf("ParseAPI: %v", err)
	}
	if len(problems) > 0 {
		t.Fatalf("ParseAPI: unexpected problems:\n%s", formatProblems(problems))
	}
	return a
}

func mustParseProduct(t *testing.T, doc []byte) apidef.Product {
	t.Helper()
	p, problems, err := apidef.ParseProduct(doc)
	if err != nil {
		t.Fatalf("ParseProduct: %v", err)
	}
	if len(problems) > 0 {
		t.Fatalf("ParseProduct: unexpected problems:\n%s", formatProblems(problems))
	}
	return p
}

func formatProblems(ps []apidef.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.Pointer + ": " + p.Message + "\n")
	}
	return b.String()
}

// assertFields compares two structs field by field, naming each field that
// differs.
func assertFields(t *testing.T, got, want any) {
	t.Helper()
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if !reflect.DeepEqual(g, w) {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			t.Errorf("%s:\n got  %s\n want %s", name, gj, wj)
		}
	}
}

// assertPointers checks that every wanted pointer has a problem, and that
// every problem has a message.
func assertPointers(t *testing.T, problems []apidef.Problem, want ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, p := range problems {
		have[p.Pointer] = true
		if strings.TrimSpace(p.Message) == "" {
			t.Errorf("problem at %q has no message", p.Pointer)
		}
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("no problem at %q; got:\n%s", w, formatProblems(problems))
		}
	}
}

// yamlToJSON re-encodes a YAML document as JSON.
func yamlToJSON(t *testing.T, doc []byte) []byte {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonToYAML re-encodes a JSON document as YAML.
func jsonToYAML(t *testing.T, doc []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
