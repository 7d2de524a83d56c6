package apidef_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/apidef"
	"gatehouse/internal/ratelimit"
)

func rate(count int64, window time.Duration) ratelimit.Rate {
	return ratelimit.Rate{Count: count, Window: window}
}

func TestParseProduct_Example(t *testing.T) {
	got := mustParseProduct(t, readTestdata(t, "weather-product.yaml"))
	want := apidef.Product{
		Name: "weather-product", Version: "1.0.0", Title: "Weather Product",
		APIs: map[string]string{"weather": "weather:1.0.0", "petstore": "pet-store:2.1.0"},
		Plans: map[string]apidef.Plan{
			"default": {
				Name: "default", Title: "Default Plan", Description: "100 calls an hour",
				Limits: []apidef.Limit{{Name: "default", Rate: rate(100, time.Hour), Hard: true}},
			},
			"gold": {
				Name: "gold", Title: "Gold Plan", Approval: true,
				Limits: []apidef.Limit{ // sorted by name
					{Name: "per-day", Rate: rate(100000, 24*time.Hour), Hard: false},
					{Name: "per-second", Rate: rate(50, time.Second), Hard: true},
				},
			},
			"forecast-only": {
				Name: "forecast-only", Title: "Forecast only",
				Limits: []apidef.Limit{{Name: "default", Rate: rate(1000, 24*time.Hour), Hard: true}},
				APIs: map[string]apidef.PlanAPI{
					"weather": {Operations: []apidef.PlanOperation{{
						Method: "GET", Path: "/forecast/{city}",
						Limits: []apidef.Limit{{Name: "default", Rate: rate(10, time.Minute), Hard: true}},
					}}},
				},
			},
		},
	}
	assertFields(t, got, want)
	for name, plan := range want.Plans {
		t.Run("plan/"+name, func(t *testing.T) { assertFields(t, got.Plans[name], plan) })
	}
	if got.ID() != "weather-product:1.0.0" {
		t.Errorf("ID() = %q", got.ID())
	}
}

func TestParseProduct_DefaultPlan(t *testing.T) {
	for name, plans := range map[string]string{"absent": "", "null": "plans:\n", "empty": "plans: {}\n"} {
		t.Run(name, func(t *testing.T) {
			p := mustParseProduct(t, []byte("product: 1.0.0\ninfo: {name: p, version: 1.0.0}\napis: {a: {name: 'a:1'}}\n"+plans))
			want := map[string]apidef.Plan{"default": {
				Name: "default", Title: "Default Plan",
				Limits: []apidef.Limit{{Name: "default", Rate: rate(100, time.Hour), Hard: true}},
			}}
			if !reflect.DeepEqual(p.Plans, want) {
				t.Errorf("Plans = %+v", p.Plans)
			}
			if p.Title != "p" {
				t.Errorf("Title = %q, want the name", p.Title)
			}
		})
	}
}

// product builds a product document with the given plans.
func product(plans string) string {
	return `product: 1.0.0
info: {name: weather-product, version: 1.0.0}
apis:
  weather: {name: 'weather:1.0.0'}
plans:
` + plans
}

func TestParseProduct_Operations(t *testing.T) {
	p := mustParseProduct(t, []byte(product(`  p:
    apis:
      weather:
        operations:
          - {operation: Post, path: /alerts}
          - {operation: delete}
          - {operation: getForecast}
          - {operationId: getCurrent, rate-limits: {b: {value: 2/1second}, a: {value: unlimited, hard-limit: false}}}
`)))
	want := []apidef.PlanOperation{
		{Method: "POST", Path: "/alerts"},
		{Method: "DELETE"},
		{OperationID: "getForecast"},
		{OperationID: "getCurrent", Limits: []apidef.Limit{
			{Name: "a", Rate: ratelimit.Rate{Unlimited: true}, Hard: false},
			{Name: "b", Rate: rate(2, time.Second), Hard: true},
		}},
	}
	if got := p.Plans["p"].APIs["weather"].Operations; !reflect.DeepEqual(got, want) {
		t.Errorf("Operations =\n %+v\nwant\n %+v", got, want)
	}
	if p.Plans["p"].Title != "p" || p.Plans["p"].Limits != nil {
		t.Errorf("plan = %+v", p.Plans["p"])
	}

	// An API listed without operations is included whole.
	p = mustParseProduct(t, []byte(product("  p: {apis: {weather: {}}}\n  q: {apis: {weather: }}\n")))
	for _, name := range []string{"p", "q"} {
		if got := p.Plans[name].APIs; !reflect.DeepEqual(got, map[string]apidef.PlanAPI{"weather": {}}) {
			t.Errorf("plan %s: APIs = %+v", name, got)
		}
	}
}

func TestParseProduct_Invalid(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"missing-product-version", "info: {name: p, version: 1.0.0}\napis: {a: {name: 'a:1'}}\n", []string{"/product"}},
		{"unsupported-product-version", "product: 2.0.0\ninfo: {name: p, version: 1.0.0}\napis: {a: {name: 'a:1'}}\n", []string{"/product"}},
		{"missing-info", "product: 1.0.0\napis: {a: {name: 'a:1'}}\n", []string{"/info"}},
		{"missing-name-and-version", "product: 1.0.0\ninfo: {title: P}\napis: {a: {name: 'a:1'}}\n", []string{"/info/name", "/info/version"}},
		{"invalid-name", "product: 1.0.0\ninfo: {name: My Product, version: 1.0.0}\napis: {a: {name: 'a:1'}}\n", []string{"/info/name"}},
		{"version-a-number", "product: 1.0.0\ninfo: {name: p, version: 1.0}\napis: {a: {name: 'a:1'}}\n", []string{"/info/version"}},
		{"no-apis", "product: 1.0.0\ninfo: {name: p, version: 1.0.0}\n", []string{"/apis"}},
		{"api-without-version", "product: 1.0.0\ninfo: {name: p, version: 1.0.0}\napis: {weather: {name: weather}}\n", []string{"/apis/weather/name"}},
		{"api-reference-with-space", "product: 1.0.0\ninfo: {name: p, version: 1.0.0}\napis: {weather: {name: 'weather: 1.0.0'}}\n", []string{"/apis/weather/name"}},
		{"api-by-ref", "product: 1.0.0\ninfo: {name: p, version: 1.0.0}\napis: {weather: {$ref: weather.yaml}}\n", []string{"/apis/weather/$ref", "/apis/weather/name"}},
		{"bad-rate-limit-value", product(`  gold:
    rate-limits:
      per-second: {value: 50/1second}
      per-day: {value: 100000/1dya, hard-limit: false}
`), []string{"/plans/gold/rate-limits/per-day/value"}},
		{"rate-limit-without-value", product("  gold: {rate-limit: {hard-limit: true}}\n"), []string{"/plans/gold/rate-limit/value"}},
		{"rate-limit-and-rate-limits", product(`  gold:
    rate-limit: {value: 100/1hour}
    rate-limits: {per-day: {value: 1000/1day}}
`), []string{"/plans/gold/rate-limits"}},
		{"plan-restricts-unknown-api", product("  gold: {apis: {petstore: {}}}\n"), []string{"/plans/gold/apis/petstore"}},
		{"unknown-plan-field", product("  gold: {rate_limit: {value: 100/1hour}}\n"), []string{"/plans/gold/rate_limit"}},
		{"unknown-limit-field", product("  gold: {rate-limit: {value: 100/1hour, hard: true}}\n"), []string{"/plans/gold/rate-limit/hard"}},
		{"hard-limit-not-boolean", product("  gold: {rate-limit: {value: 100/1hour, hard-limit: 'yes'}}\n"), []string{"/plans/gold/rate-limit/hard-limit"}},
		{"approval-not-boolean", product("  gold: {approval: maybe}\n"), []string{"/plans/gold/approval"}},
		{"invalid-plan-name", product("  'gold plan': {title: Gold}\n"), []string{"/plans/gold plan"}},
		{"plan-not-an-object", product("  gold: 5\n"), []string{"/plans/gold"}},
		{"operation-with-unknown-method", product("  gold: {apis: {weather: {operations: [{operation: fetch, path: /current}]}}}\n"),
			[]string{"/plans/gold/apis/weather/operations/0/operation"}},
		{"operation-missing", product("  gold: {apis: {weather: {operations: [{path: /current}]}}}\n"),
			[]string{"/plans/gold/apis/weather/operations/0"}},
		{"operation-and-operationId", product("  gold: {apis: {weather: {operations: [{operation: get, operationId: getCurrent}]}}}\n"),
			[]string{"/plans/gold/apis/weather/operations/0"}},
		{"operation-bad-path", product("  gold: {apis: {weather: {operations: [{operation: get, path: 'current{x}'}]}}}\n"),
			[]string{"/plans/gold/apis/weather/operations/0/path"}},
		{"operation-unknown-field", product("  gold: {apis: {weather: {operations: [{operation: get, path: /current, rate_limit: {value: 1/1second}}]}}}\n"),
			[]string{"/plans/gold/apis/weather/operations/0/rate_limit"}},
		{"operation-bad-limit", product("  gold: {apis: {weather: {operations: [{operation: get, path: /current, rate-limit: {value: ten/minute}}]}}}\n"),
			[]string{"/plans/gold/apis/weather/operations/0/rate-limit/value"}},
		{"operations-empty", product("  gold: {apis: {weather: {operations: []}}}\n"),
			[]string{"/plans/gold/apis/weather/operations"}},
		{"operation-listed-twice", product("  gold: {apis: {weather: {operations: [{operation: get, path: /a}, {operation: GET, path: /a}]}}}\n"),
			[]string{"/plans/gold/apis/weather/operations/1"}},
		{"duplicate-key", "product: 1.0.0\ninfo: {name: p, version: 1.0.0}\napis: {a: {name: 'a:1'}, a: {name: 'b:1'}}\n", []string{"/apis/a"}},
		{"many-problems-at-once", `product: 1.0.0
info: {name: p}
apis:
  weather: {name: weather}
plans:
  gold:
    rate-limit: {value: 100/1hour}
    rate-limits: {per-day: {value: 100000/1dya}}
    apis:
      petstore: {}
      weather: {operations: [{operation: fetch, path: /x}]}
`, []string{
			"/info/version",
			"/apis/weather/name",
			"/plans/gold/rate-limits",
			"/plans/gold/rate-limits/per-day/value",
			"/plans/gold/apis/petstore",
			"/plans/gold/apis/weather/operations/0/operation",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems, err := apidef.ParseProduct([]byte(tt.doc))
			if err != nil {
				t.Fatalf("ParseProduct: %v", err)
			}
			t.Logf("problems:\n%s", formatProblems(problems))
			assertPointers(t, problems, tt.want...)
		})
	}
}

func TestParseProduct_UnknownTopLevelKeysIgnored(t *testing.T) {
	mustParseProduct(t, []byte("product: 1.0.0\ninfo: {name: p, version: 1.0.0}\napis: {a: {name: 'a:1'}}\nvisibility: {view: {type: public}}\nx-anything: 1\n"))
}

func TestParseProduct_JSONAndYAMLCompileIdentically(t *testing.T) {
	y := readTestdata(t, "weather-product.yaml")
	if !reflect.DeepEqual(mustParseProduct(t, y), mustParseProduct(t, yamlToJSON(t, y))) {
		t.Error("the JSON form compiles differently")
	}
}

func TestParseProduct_Unreadable(t *testing.T) {
	tests := map[string]struct {
		doc  string
		want error
	}{
		"not-yaml":  {"product: 1.0.0\n x: : :\n", apidef.ErrUnreadable},
		"not-json":  {`{"product": }`, apidef.ErrUnreadable},
		"a-list":    {"- product\n", apidef.ErrUnreadable},
		"empty":     {"", apidef.ErrUnreadable},
		"too-large": {"product: 1.0.0\nx: '" + strings.Repeat("a", apidef.MaxDocumentSize) + "'\n", apidef.ErrTooLarge},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if _, _, err := apidef.ParseProduct([]byte(tt.doc)); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseProduct_RefusesHostileDocuments(t *testing.T) {
	for name, doc := range hostileDocuments() {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, _, err := apidef.ParseProduct([]byte(doc)); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, apidef.ErrUnreadable) {
					t.Fatalf("err = %v, want ErrUnreadable", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("still parsing after 30s")
			}
		})
	}
}
