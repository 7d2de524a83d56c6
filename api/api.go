// Package api holds the management API's contract, api/openapi.yaml (OpenAPI
// 3.1), embedded so the server can serve it as /openapi.json.
package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed openapi.yaml
var document []byte

// YAML is the contract as written.
func YAML() []byte { return document }

var (
	jsonOnce sync.Once
	jsonDoc  []byte
	jsonErr  error
)

// JSON is the contract converted to JSON (computed once).
func JSON() ([]byte, error) {
	jsonOnce.Do(func() {
		var v any
		if err := yaml.Unmarshal(document, &v); err != nil {
			jsonErr = fmt.Errorf("api: openapi.yaml: %w", err)
			return
		}
		jsonDoc, jsonErr = json.Marshal(normalize(v))
	})
	return jsonDoc, jsonErr
}

// normalize turns YAML's map[string]any trees into JSON-marshalable ones
// (yaml.v3 already yields string keys for mappings with string keys).
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
		return t
	}
	return v
}
