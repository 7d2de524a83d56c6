package apidef_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/apidef"
)

func TestParseAPI_Examples(t *testing.T) {
	tests := []struct {
		file string
		want apidef.API
	}{
		{
			file: "petstore-oas3.yaml",
			want: apidef.API{
				Name: "pet-store", Version: "2.1.0", Title: "Pet Store",
				BasePath:   "/petstore",
				Properties: map[string]string{"target-url": "http://127.0.0.1:9002"},
				TargetURL:  "$(target-url)",
				Timeout:    60 * time.Second,
				Security:   apidef.Security{ClientID: &apidef.Param{In: "query", Name: "client_id"}},
				Operations: []apidef.Operation{
					{Method: "GET", Path: "/pets"},
					{Method: "POST", Path: "/pets"},
					{Method: "GET", Path: "/pets/{petId}"},
					{Method: "DELETE", Path: "/pets/{petId}"},
				},
			},
		},
		{
			file: "status-public-oas3.json",
			want: apidef.API{
				Name: "status", Version: "1.0.0", Title: "Status",
				BasePath:   "/status",
				Properties: map[string]string{"target-url": "http://127.0.0.1:9003"},
				TargetURL:  "$(target-url)",
				Timeout:    60 * time.Second,
				Operations: []apidef.Operation{{Method: "GET", Path: "/health"}},
			},
		},
		{
			file: "weather-oas2.yaml",
			want: apidef.API{
				Name: "weather", Version: "1.0.0", Title: "Weather",
				BasePath:   "/weather",
				Properties: map[string]string{"target-url": "http://127.0.0.1:9000/v2"},
				Catalogs:   map[string]map[string]string{"prod": {"target-url": "http://127.0.0.1:9001/v2"}},
				TargetURL:  "$(target-url)$(request.path)$(request.search)",
				Timeout:    30 * time.Second,
				Security: apidef.Security{
					ClientID:     &apidef.Param{In: "header", Name: "X-IBM-Client-Id"},
					ClientSecret: &apidef.Param{In: "header", Name: "X-IBM-Client-Secret"},
				},
				Operations: []apidef.Operation{
					{Method: "POST", Path: "/alerts", OperationID: "postAlert"},
					{Method: "GET", Path: "/current", OperationID: "getCurrent"},
					{Method: "GET", Path: "/forecast/{city}", OperationID: "getForecast"},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := mustParseAPI(t, readTestdata(t, tt.file))
			assertFields(t, got, tt.want)
			if id := got.ID(); id != tt.want.Name+":"+tt.want.Version {
				t.Errorf("ID() = %q", id)
			}
		})
	}
}

// weatherOAS3 is weather-oas2.yaml written as OpenAPI 3.0.
const weatherOAS3 = `
openapi: 3.0.3
info: {x-ibm-name: weather, title: Weather, version: 1.0.0}
servers: [{url: 'https://$(catalog.host)/weather'}]
components:
  securitySchemes:
    clientIdHeader: {type: apiKey, in: header, name: X-IBM-Client-Id}
    clientSecretHeader: {type: apiKey, in: header, name: X-IBM-Client-Secret}
security: [{clientIdHeader: [], clientSecretHeader: []}]
x-ibm-configuration:
  properties: {target-url: {value: 'http://127.0.0.1:9000/v2'}}
  catalogs: {prod: {properties: {target-url: 'http://127.0.0.1:9001/v2'}}}
  assembly:
    execute:
      - invoke: {target-url: '$(target-url)$(request.path)$(request.search)', timeout: 30}
paths:
  /current:
    get:
      operationId: getCurrent
      parameters: [{name: city, in: query, required: true, schema: {type: string}}]
      responses: {'200': {description: current conditions}}
  /forecast/{city}:
    get:
      operationId: getForecast
      parameters: [{name: city, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: forecast}}
  /alerts:
    post:
      operationId: postAlert
      responses: {'201': {description: created}}
`

func TestParseAPI_OAS2ConvertsLikeOAS3(t *testing.T) {
	v2 := mustParseAPI(t, readTestdata(t, "weather-oas2.yaml"))
	v3 := mustParseAPI(t, []byte(weatherOAS3))
	assertFields(t, v2, v3)
}

// petstore31 uses what only OpenAPI 3.1 allows: type arrays, const,
// examples arrays, webhooks, info.summary, license.identifier, and a path
// item without responses elsewhere.
const petstore31 = `
openapi: 3.1.0
jsonSchemaDialect: https://json-schema.org/draft/2020-12/schema
info:
  title: Pet Store 31
  summary: pets, in 3.1
  version: 3.0.0
  license: {name: Apache 2.0, identifier: Apache-2.0}
servers: [{url: '{scheme}://api.example.com/{base}', variables: {scheme: {default: https, enum: [https, http]}, base: {default: pets31}}}]
components:
  securitySchemes:
    id: {type: apiKey, in: header, name: X-IBM-Client-Id}
  schemas:
    Pet:
      type: object
      required: [id]
      properties:
        id: {type: [string, "null"], examples: ["p-1", null]}
        kind: {const: dog}
        tags: {type: array, prefixItems: [{type: string}], items: false}
security: [{id: []}]
webhooks:
  newPet:
    post:
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}
      responses: {'200': {description: ok}}
x-ibm-configuration:
  properties: {target-url: {value: 'https://backend.example.com'}}
paths:
  /pets/{id}:
    get:
      operationId: getPet
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: one pet
          content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}
`

func TestParseAPI_OpenAPI31Accepted(t *testing.T) {
	got := mustParseAPI(t, []byte(petstore31))
	assertFields(t, got, apidef.API{
		Name: "pet-store-31", Version: "3.0.0", Title: "Pet Store 31",
		BasePath:   "/pets31",
		Properties: map[string]string{"target-url": "https://backend.example.com"},
		TargetURL:  "$(target-url)",
		Timeout:    apidef.DefaultTimeout,
		Security:   apidef.Security{ClientID: &apidef.Param{In: "header", Name: "X-IBM-Client-Id"}},
		Operations: []apidef.Operation{{Method: "GET", Path: "/pets/{id}", OperationID: "getPet"}},
	})

	// The same document declared as 3.0 breaks 3.0's rules: the 3.1 rules
	// were really the ones applied.
	_, problems, err := apidef.ParseAPI([]byte(strings.Replace(petstore31, "openapi: 3.1.0", "openapi: 3.0.3", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) == 0 {
		t.Fatal("3.1-only features declared as openapi: 3.0.3 gave no problems")
	}
}

func TestParseAPI_JSONAndYAMLCompileIdentically(t *testing.T) {
	for _, f := range []string{"petstore-oas3.yaml", "weather-oas2.yaml"} {
		t.Run(f, func(t *testing.T) {
			y := readTestdata(t, f)
			if !reflect.DeepEqual(mustParseAPI(t, y), mustParseAPI(t, yamlToJSON(t, y))) {
				t.Error("the JSON form compiles differently")
			}
		})
	}
	t.Run("status-public-oas3.json", func(t *testing.T) {
		j := readTestdata(t, "status-public-oas3.json")
		if !reflect.DeepEqual(mustParseAPI(t, j), mustParseAPI(t, jsonToYAML(t, j))) {
			t.Error("the YAML form compiles differently")
		}
	})
	// Problems are located the same way in both forms, including those
	// found by kin-openapi through source positions.
	t.Run("problems", func(t *testing.T) {
		_, py, err := apidef.ParseAPI([]byte(manyProblems))
		if err != nil {
			t.Fatal(err)
		}
		_, pj, err := apidef.ParseAPI(yamlToJSON(t, []byte(manyProblems)))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(pointers(py), pointers(pj)) {
			t.Errorf("YAML problems:\n%sJSON problems:\n%s", formatProblems(py), formatProblems(pj))
		}
	})
}

func pointers(ps []apidef.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Pointer)
	}
	return out
}

// manyProblems has several independent problems, found both by this package
// and by kin-openapi's validation.
const manyProblems = `
openapi: 3.0.3
info: {title: Many}
components:
  securitySchemes:
    basic: {type: http, scheme: basic}
  schemas:
    Pet: {type: object, properties: {id: {type: intger}}}
security: [{basic: []}]
paths:
  /pets{id}:
    get:
      responses: {'200': {description: ok}}
  /ok:
    get:
      parameters: [{name: q, in: nowhere, schema: {type: string}}]
      responses: {}
`

func TestParseAPI_ReportsEveryProblem(t *testing.T) {
	_, problems, err := apidef.ParseAPI([]byte(manyProblems))
	if err != nil {
		t.Fatal(err)
	}
	assertPointers(t, problems,
		"/info/version",                              // missing
		"/components/securitySchemes/basic",          // unsupported scheme
		"/paths/~1pets{id}",                          // bad template
		"/x-ibm-configuration/properties/target-url", // no backend
		"/components/schemas/Pet/properties/id",      // kin-openapi: bad type
		"/paths/~1ok/get/parameters/0",               // kin-openapi: bad 'in'
		"/paths/~1ok/get/responses",                  // kin-openapi: no responses
	)
}

// api builds a valid OpenAPI 3.0 document around the given paths, with extra
// top-level YAML appended.
func api(paths, extra string) string {
	return `openapi: 3.0.3
info: {title: T, version: 1.0.0}
x-ibm-configuration:
  properties: {target-url: {value: 'http://backend:8080'}}
paths:
` + paths + extra
}

const getA = "  /a: {get: {responses: {'200': {description: ok}}}}\n"

func TestParseAPI_Invalid(t *testing.T) {
	manyPaths := ""
	for i := range apidef.MaxPaths + 1 {
		manyPaths += fmt.Sprintf("  /p%d: {get: {responses: {'200': {description: ok}}}}\n", i)
	}
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"missing-info-version", `openapi: 3.0.3
info: {title: T}
x-ibm-configuration: {properties: {target-url: {value: 'http://b'}}}
paths:
` + getA, []string{"/info/version"}},
		{"info-version-a-number", `openapi: 3.0.3
info: {title: T, version: 1.0}
x-ibm-configuration: {properties: {target-url: {value: 'http://b'}}}
paths:
` + getA, []string{"/info/version"}},
		{"no-name", `openapi: 3.0.3
info: {version: 1.0.0, title: '!!!'}
x-ibm-configuration: {properties: {target-url: {value: 'http://b'}}}
paths:
` + getA, []string{"/info/x-ibm-name"}},
		{"bad-x-ibm-name", `openapi: 3.0.3
info: {version: 1.0.0, title: T, x-ibm-name: Not A Slug}
x-ibm-configuration: {properties: {target-url: {value: 'http://b'}}}
paths:
` + getA, []string{"/info/x-ibm-name"}},
		{"openapi-version-unquoted", `openapi: 3.0
info: {title: T, version: 1.0.0}
x-ibm-configuration: {properties: {target-url: {value: 'http://b'}}}
paths:
` + getA, []string{"/openapi"}},
		{"unsupported-security-scheme-oas3", api(getA, `components:
  securitySchemes:
    oauth: {type: oauth2, flows: {clientCredentials: {tokenUrl: 'https://t', scopes: {}}}}
security: [{oauth: []}]
`), []string{"/components/securitySchemes/oauth"}},
		{"unsupported-security-scheme-oas2", `swagger: '2.0'
info: {title: T, version: 1.0.0}
x-ibm-configuration: {properties: {target-url: {value: 'http://b'}}}
securityDefinitions:
  key: {type: apiKey, in: header, name: X-Api-Key}
security: [{key: []}]
paths:
  /a: {get: {responses: {'200': {description: ok}}}}
`, []string{"/securityDefinitions/key"}},
		{"secret-without-client-id", api(getA, `components:
  securitySchemes:
    secret: {type: apiKey, in: header, name: X-IBM-Client-Secret}
security: [{secret: []}]
`), []string{"/security/0"}},
		{"undeclared-security-scheme", api(getA, `security: [{nope: []}]
`), []string{"/security/0/nope"}},
		{"optional-security", api(getA, `components:
  securitySchemes:
    id: {type: apiKey, in: query, name: client_id}
security: [{id: []}, {}]
`), []string{"/security/1"}},
		{"operation-level-security", api(`  /a:
    get:
      security: []
      responses: {'200': {description: ok}}
`, `components:
  securitySchemes:
    id: {type: apiKey, in: query, name: client_id}
security: [{id: []}]
`), []string{"/paths/~1a/get/security"}},
		{"path-parameter-not-a-whole-segment", api("  /pets{id}: {get: {responses: {'200': {description: ok}}}}\n", ""), []string{"/paths/~1pets{id}"}},
		{"path-unclosed-brace", api("  /pets/{id: {get: {responses: {'200': {description: ok}}}}\n", ""), []string{"/paths/~1pets~1{id"}},
		{"paths-matching-the-same-requests", api(`  /a/{x}: {get: {parameters: [{name: x, in: path, required: true, schema: {type: string}}], responses: {'200': {description: ok}}}}
  /a/{y}: {put: {parameters: [{name: y, in: path, required: true, schema: {type: string}}], responses: {'200': {description: ok}}}}
`, ""), []string{"/paths/~1a~1{y}"}},
		{"duplicate-operation-id", api(`  /a: {get: {operationId: x, responses: {'200': {description: ok}}}, put: {operationId: x, responses: {'200': {description: ok}}}}
`, ""), []string{"/paths/~1a/put/operationId"}},
		{"no-operations", api("  {}\n", ""), []string{"/paths"}},
		{"too-many-paths", api(manyPaths, ""), []string{"/paths"}},
		{"no-backend", `openapi: 3.0.3
info: {title: T, version: 1.0.0}
paths:
` + getA, []string{"/x-ibm-configuration/properties/target-url"}},
		{"backend-not-a-url", `openapi: 3.0.3
info: {title: T, version: 1.0.0}
x-ibm-configuration: {catalogs: {prod: {properties: {target-url: 'backend:8080'}}}}
paths:
` + getA, []string{"/x-ibm-configuration/catalogs/prod/properties/target-url"}},
		{"invoke-timeout-out-of-bounds", `openapi: 3.0.3
info: {title: T, version: 1.0.0}
x-ibm-configuration:
  properties: {target-url: {value: 'http://b'}}
  assembly:
    execute:
      - set-variable: {actions: []}
      - invoke: {target-url: '$(target-url)$(request.path)', timeout: 3601}
paths:
` + getA, []string{"/x-ibm-configuration/assembly/execute/1/invoke/timeout"}},
		{"invoke-unknown-property", `openapi: 3.0.3
info: {title: T, version: 1.0.0}
x-ibm-configuration:
  assembly:
    execute: [{invoke: {target-url: '$(backend)/v1$(request.path)'}}]
paths:
` + getA, []string{"/x-ibm-configuration/assembly/execute/0/invoke/target-url"}},
		{"server-variable-without-default", api(getA, `servers: [{url: 'https://{host}/x'}]
`), []string{"/servers/0/url"}},
		{"base-path-without-slash", `swagger: '2.0'
info: {title: T, version: 1.0.0}
basePath: weather
x-ibm-configuration: {properties: {target-url: {value: 'http://b'}}}
paths:
` + getA, []string{"/basePath"}},
		{"external-ref", api(`  /a: {get: {responses: {'200': {$ref: 'https://example.com/r.yaml#/ok'}}}}
`, ""), []string{"/paths/~1a/get/responses/200/$ref"}},
		{"unresolved-ref", api(`  /a: {get: {responses: {'200': {$ref: '#/components/responses/Missing'}}}}
`, ""), []string{"/paths/~1a/get/responses/200/$ref"}},
		{"duplicate-key", `openapi: 3.0.3
info: {title: T, version: 1.0.0, version: 2.0.0}
x-ibm-configuration: {properties: {target-url: {value: 'http://b'}}}
paths:
` + getA, []string{"/info/version"}},
		{"oas2-kin-validation", `swagger: '2.0'
info: {title: T, version: 1.0.0}
x-ibm-configuration: {properties: {target-url: {value: 'http://b'}}}
definitions:
  Pet: {type: intger}
paths:
  /a:
    get:
      parameters: [{name: q, in: query, type: strin}]
      responses: {'200': {description: ok}}
`, []string{"/definitions/Pet", "/paths/~1a/get/parameters/0"}},
		{"pointer-escaping", api("  /a~b/{id: {get: {responses: {'200': {description: ok}}}}\n", ""), []string{"/paths/~1a~0b~1{id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems, err := apidef.ParseAPI([]byte(tt.doc))
			if err != nil {
				t.Fatalf("ParseAPI: %v", err)
			}
			t.Logf("problems:\n%s", formatProblems(problems))
			assertPointers(t, problems, tt.want...)
		})
	}
}

func TestParseAPI_Unreadable(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want error
	}{
		{"empty", " \n", apidef.ErrUnreadable},
		{"not-yaml", "openapi: 3.0.3\n x: : :\n", apidef.ErrUnreadable},
		{"not-json", `{"openapi": "3.0.3",}`, apidef.ErrUnreadable},
		{"a-list", "- openapi\n- 3.0.3\n", apidef.ErrUnreadable},
		{"a-string", "openapi", apidef.ErrUnreadable},
		{"two-documents", "openapi: 3.0.3\n---\nopenapi: 3.0.3\n", apidef.ErrUnreadable},
		{"no-version", "info: {title: T, version: 1.0.0}\npaths: {}\n", apidef.ErrUnreadable},
		{"openapi-3.2", "openapi: 3.2.0\ninfo: {title: T, version: 1.0.0}\n", apidef.ErrUnreadable},
		{"swagger-1.2", "swagger: '1.2'\n", apidef.ErrUnreadable},
		{"both-versions", "swagger: '2.0'\nopenapi: 3.0.3\n", apidef.ErrUnreadable},
		{"a-product", "product: 1.0.0\ninfo: {name: p, version: 1.0.0}\n", apidef.ErrUnreadable},
		{"too-large", "openapi: 3.0.3\nx: '" + strings.Repeat("a", apidef.MaxDocumentSize) + "'\n", apidef.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := apidef.ParseAPI([]byte(tt.doc))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if len(err.Error()) < len(tt.want.Error())+10 {
				t.Errorf("the message %q does not say what is wrong", err)
			}
		})
	}
}

// billionLaughs defines ten levels of aliases, each repeating the previous
// nine times: 10^9 strings once expanded.
func billionLaughs(head string) string {
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(`l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	for i := 1; i < 10; i++ {
		p := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, strings.Repeat(p+",", 8)+p)
	}
	return b.String()
}

// hostileDocuments must be refused with an error, quickly.
func hostileDocuments() map[string]string {
	const n = 10000
	return map[string]string{
		"billion-laughs":     billionLaughs("openapi: 3.0.3\nproduct: 1.0.0\n"),
		"deep-yaml-flow":     "openapi: 3.0.3\nproduct: 1.0.0\nx: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n",
		"deep-yaml-block":    "openapi: 3.0.3\nproduct: 1.0.0\nx:\n" + strings.Repeat("- ", n) + "x\n",
		"deep-yaml-mappings": "openapi: 3.0.3\nproduct: 1.0.0\nx: " + strings.Repeat("{a: ", n) + "1" + strings.Repeat("}", n) + "\n",
		"deep-json":          `{"openapi": "3.0.3", "product": "1.0.0", "x": ` + strings.Repeat("[", n) + strings.Repeat("]", n) + "}",
		"depth-65":           "openapi: 3.0.3\nproduct: 1.0.0\nx: " + strings.Repeat("[", apidef.MaxDepth) + strings.Repeat("]", apidef.MaxDepth) + "\n",
		"alias-cycle":        "openapi: 3.0.3\nproduct: 1.0.0\nx: &a [*a]\n",
		"deep-through-alias": "openapi: 3.0.3\nproduct: 1.0.0\na: &a " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\nb: " + strings.Repeat("[", 40) + "*a" + strings.Repeat("]", 40) + "\n",
	}
}

func TestParseAPI_RefusesHostileDocuments(t *testing.T) {
	for name, doc := range hostileDocuments() {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, _, err := apidef.ParseAPI([]byte(doc)); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, apidef.ErrUnreadable) {
					t.Fatalf("err = %v, want ErrUnreadable", err)
				}
			case <-time.After(30 * time.Second): // generous: the point is "bounded", not a benchmark
				t.Fatal("still parsing after 30s")
			}
		})
	}
	// Nesting up to the limit is fine.
	ok := api(getA, "x-deep: "+strings.Repeat("[", apidef.MaxDepth-1)+strings.Repeat("]", apidef.MaxDepth-1)+"\n")
	mustParseAPI(t, []byte(ok))
}

func TestParseAPI_BasePath(t *testing.T) {
	tests := []struct{ servers, want string }{
		{"", ""},
		{"servers: [{url: /}]\n", ""},
		{"servers: [{url: /status/}]\n", "/status"},
		{"servers: [{url: status}]\n", "/status"},
		{"servers: [{url: 'https://api.example.com'}]\n", ""},
		{"servers: [{url: 'https://api.example.com/a/b?x=1'}]\n", "/a/b"},
		{"servers: [{url: '//api.example.com/c'}]\n", "/c"},
		{"servers: [{url: 'https://$(catalog.host)/weather'}]\n", "/weather"},
		{"servers: [{url: 'https://{env}.example.com/{base}/v1', variables: {env: {default: prod}, base: {default: shop}}}, {url: /other}]\n", "/shop/v1"},
	}
	for _, tt := range tests {
		t.Run(tt.servers, func(t *testing.T) {
			a := mustParseAPI(t, []byte(api(getA, tt.servers)))
			if a.BasePath != tt.want {
				t.Errorf("BasePath = %q, want %q", a.BasePath, tt.want)
			}
		})
	}
}

func TestParseAPI_Security(t *testing.T) {
	schemes := `components:
  securitySchemes:
    idH: {type: apiKey, in: header, name: x-ibm-client-id}
    secH: {type: apiKey, in: header, name: X-IBM-CLIENT-SECRET}
    idQ: {type: apiKey, in: query, name: client_id}
    secQ: {type: apiKey, in: query, name: client_secret}
`
	tests := []struct {
		security string
		want     apidef.Security
	}{
		{"", apidef.Security{}},
		{"security: []\n", apidef.Security{}},
		{"security: [{}]\n", apidef.Security{}},
		{"security: [{idH: []}]\n", apidef.Security{ClientID: &apidef.Param{In: "header", Name: "x-ibm-client-id"}}},
		{"security: [{idQ: [], secQ: []}]\n", apidef.Security{
			ClientID:     &apidef.Param{In: "query", Name: "client_id"},
			ClientSecret: &apidef.Param{In: "query", Name: "client_secret"},
		}},
		{"security: [{idH: [], secH: []}, {secH: [], idH: []}]\n", apidef.Security{
			ClientID:     &apidef.Param{In: "header", Name: "x-ibm-client-id"},
			ClientSecret: &apidef.Param{In: "header", Name: "X-IBM-CLIENT-SECRET"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.security, func(t *testing.T) {
			a := mustParseAPI(t, []byte(api(getA, schemes+tt.security)))
			if !reflect.DeepEqual(a.Security, tt.want) {
				t.Errorf("Security = %+v, want %+v", a.Security, tt.want)
			}
		})
	}
}

func TestParseAPI_TargetURLAndTimeout(t *testing.T) {
	a := mustParseAPI(t, []byte(`openapi: 3.0.3
info: {title: T, version: 1.0.0}
x-ibm-configuration:
  properties: {backend: 'http://b:1'}
  assembly:
    execute:
      - operation-switch:
          case:
            - operations: [getA]
              execute: [{proxy: {target-url: '$(backend)$(request.path)', timeout: 5}}]
paths:
`+getA))
	if a.TargetURL != "$(backend)$(request.path)" || a.Timeout != 5*time.Second {
		t.Errorf("TargetURL, Timeout = %q, %v", a.TargetURL, a.Timeout)
	}
	if a.Properties["backend"] != "http://b:1" {
		t.Errorf("Properties = %v", a.Properties)
	}
}
