package deps_test

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// direct returns the modules go.mod requires directly, with their versions.
func direct(gomod string) (map[string]string, error) {
	out := map[string]string{}
	inBlock := false
	sc := bufio.NewScanner(strings.NewReader(gomod))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "require (":
			inBlock = true
			continue
		case inBlock && line == ")":
			inBlock = false
			continue
		case strings.HasPrefix(line, "require "):
			line = strings.TrimSpace(strings.TrimPrefix(line, "require "))
		case !inBlock:
			continue
		}
		if line == "" || strings.HasPrefix(line, "//") || strings.Contains(line, "// indirect") {
			continue
		}
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("go.mod line %d: cannot read %q", n, sc.Text())
		}
		out[f[0]] = f[1]
	}
	return out, sc.Err()
}

// reviewRow is a row of the dependency table: | `module` | `version` | … | date |
var reviewRow = regexp.MustCompile("^\\|\\s*`([^`]+)`\\s*\\|\\s*`([^`]+)`\\s*\\|(.*)\\|\\s*(\\d{4}-\\d{2}-\\d{2})\\s*\\|\\s*$")

// reviewed returns the modules of the table in the "Dependency review"
// section of docs/security.md, with the versions reviewed.
func reviewed(doc string) (map[string]string, error) {
	out := map[string]string{}
	in := false
	for line := range strings.Lines(doc) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, "## Dependency review")
			continue
		}
		if !in {
			continue
		}
		if m := reviewRow.FindStringSubmatch(line); m != nil {
			if cells := strings.Split(m[3], "|"); len(cells) != 3 || slices.ContainsFunc(cells, func(c string) bool { return strings.TrimSpace(c) == "" }) {
				return nil, fmt.Errorf("row of %s: want use, why and risk notes filled in: %q", m[1], line)
			}
			out[m[1]] = m[2]
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf(`no "## Dependency review" table with rows | ` + "`module` | `version` | use | why | risk | YYYY-MM-DD |")
	}
	return out, nil
}

// compare lists how the review and go.mod disagree.
func compare(mods, rev map[string]string) []string {
	var problems []string
	for m, v := range mods {
		switch rv, ok := rev[m]; {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s %s is a direct dependency in go.mod without a review row in docs/security.md", m, v))
		case rv != v:
			problems = append(problems, fmt.Sprintf("%s: go.mod pins %s, docs/security.md reviewed %s", m, v, rv))
		}
	}
	for m := range rev {
		if _, ok := mods[m]; !ok {
			problems = append(problems, fmt.Sprintf("docs/security.md reviews %s, which go.mod does not require directly", m))
		}
	}
	slices.Sort(problems)
	return problems
}

// Every direct dependency is reviewed in docs/security.md, at the version
// pinned, and the review names nothing else.
func TestEveryDirectDependencyIsReviewed(t *testing.T) {
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	mods, err := direct(string(gomod))
	if err != nil {
		t.Fatal(err)
	}
	rev, err := reviewed(string(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) == 0 {
		t.Fatal("go.mod has no direct dependency: the parser is broken")
	}
	for _, p := range compare(mods, rev) {
		t.Error(p)
	}
}

// The check itself fails for a new, changed or dropped dependency.
func TestReviewCheckCatchesDrift(t *testing.T) {
	gomod := "module m\n\ngo 1.26.0\n\nrequire example.com/single v1.0.0\n\nrequire (\n\texample.com/a v1.2.3\n\texample.com/b v0.1.0 // a comment\n\texample.com/c v2.0.0 // indirect\n)\n"
	doc := "# Security\n\n## Dependency review\n\n| module | version | use | why | risk | reviewed |\n|---|---|---|---|---|---|\n" +
		"| `example.com/single` | `v1.0.0` | u | w | r | 2026-11-25 |\n" +
		"| `example.com/a` | `v1.2.0` | u | w | r | 2026-11-25 |\n" +
		"| `example.com/gone` | `v1.0.0` | u | w | r | 2026-11-25 |\n\n## Next\n\n| `example.com/b` | `v0.1.0` | u | w | r | 2026-11-25 |\n"
	mods, err := direct(gomod)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"example.com/single": "v1.0.0", "example.com/a": "v1.2.3", "example.com/b": "v0.1.0"}; fmt.Sprint(mods) != fmt.Sprint(want) {
		t.Fatalf("direct = %v, want %v", mods, want)
	}
	rev, err := reviewed(doc)
	if err != nil {
		t.Fatal(err)
	}
	got := compare(mods, rev)
	want := []string{
		"docs/security.md reviews example.com/gone, which go.mod does not require directly",
		"example.com/a: go.mod pins v1.2.3, docs/security.md reviewed v1.2.0",
		"example.com/b v0.1.0 is a direct dependency in go.mod without a review row in docs/security.md", // its row is outside the section
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := reviewed("## Dependency review\n\n| `example.com/a` | `v1` | use |  | risk | 2026-11-25 |\n"); err == nil {
		t.Error("a row with an empty cell is accepted")
	}
}
