// Package apidef is the compiled form of the documents providers write: an
// API (from its OpenAPI 2.0/3.0/3.1 document with x-ibm-configuration) and a
// product (the V5 product document with plans and rate limits). It holds only
// what the gateway and the API Manager need, validated once at import, so the
// gateway never parses OpenAPI on its hot path or while building a snapshot.
//
// The compiled forms are stored as JSON inside a publication's snapshot: keep
// their JSON shape backward compatible.
package apidef

import (
	"time"

	"gatehouse/internal/ratelimit"
)

// Problem is one thing wrong with a document, located by a JSON pointer
// (RFC 6901) into it, e.g. "/paths/~1pets/get/responses".
type Problem struct {
	Pointer string `json:"pointer"`
	Message string `json:"message"`
}

// API is what is needed to serve an API.
type API struct {
	Name    string `json:"name"`    // info.x-ibm-name, else the slug of info.title
	Version string `json:"version"` // info.version
	Title   string `json:"title"`
	// BasePath is the routing base: basePath (2.0) or the path of servers[0].url
	// (3.x); "" for the root, otherwise starting with '/' and without a
	// trailing '/'.
	BasePath string `json:"basePath"`
	// Properties are x-ibm-configuration.properties (name → value), with
	// Catalogs holding per-catalog overrides (catalog name → name → value).
	Properties map[string]string            `json:"properties,omitempty"`
	Catalogs   map[string]map[string]string `json:"catalogs,omitempty"`
	// TargetURL is the template of the backend URL: the target-url of the
	// first invoke/proxy policy of the assembly, else "$(target-url)", which
	// then means the target-url property followed by $(request.path) and
	// $(request.search). $(name) refers to a property; $(request.path) is the
	// path after the base path, $(request.search) the query with its '?'.
	TargetURL string        `json:"targetURL"`
	Timeout   time.Duration `json:"timeout"` // invoke timeout; default 60 s
	Security  Security      `json:"security"`
	// Operations are the declared paths and methods; only these are routed.
	Operations []Operation `json:"operations"`
}

// ID is the API's identity, "name:version".
func (a API) ID() string { return a.Name + ":" + a.Version }

// Security is how the API identifies the calling app (SPEC §8). A nil
// ClientID means the API is public.
type Security struct {
	ClientID     *Param `json:"clientID,omitempty"`
	ClientSecret *Param `json:"clientSecret,omitempty"`
}

// Param is where a credential is sent.
type Param struct {
	In   string `json:"in"`   // "header" or "query"
	Name string `json:"name"` // e.g. X-IBM-Client-Id or client_id
}

// Operation is one declared method on one path template.
type Operation struct {
	Method      string `json:"method"` // upper case, e.g. GET
	Path        string `json:"path"`   // template, e.g. /forecast/{city}
	OperationID string `json:"operationId,omitempty"`
}

// Product is a compiled product document.
type Product struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Title   string `json:"title"`
	// APIs maps the product's key for an API to the API's "name:version".
	APIs  map[string]string `json:"apis"`
	Plans map[string]Plan   `json:"plans"`
}

// ID is the product's identity, "name:version".
func (p Product) ID() string { return p.Name + ":" + p.Version }

// Plan is one plan of a product.
type Plan struct {
	Name        string  `json:"name"`
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	Approval    bool    `json:"approval"`
	Limits      []Limit `json:"limits,omitempty"` // every one applies to every call
	// APIs restricts the plan to these of the product's APIs (keyed like
	// Product.APIs); nil means every API of the product, every operation.
	APIs map[string]PlanAPI `json:"apis,omitempty"`
}

// PlanAPI restricts a plan to some operations of one API; no Operations
// means every operation of it.
type PlanAPI struct {
	Operations []PlanOperation `json:"operations,omitempty"`
}

// PlanOperation is an operation a plan includes, with its own limits (which
// apply on top of the plan's).
//
// The product document names an operation either by method and path
// ({operation: get, path: /x}; a method without a path means every path with
// that method) or by operationId ({operation: getX} or {operationId: getX}).
// In the second form Method and Path are empty and OperationID is set:
// operationIds are resolved against the API when the product is published,
// where the API is known.
type PlanOperation struct {
	Method      string  `json:"method"` // upper case; "" when OperationID is set
	Path        string  `json:"path"`   // as declared in the API
	OperationID string  `json:"operationId,omitempty"`
	Limits      []Limit `json:"limits,omitempty"`
}

// Limit is a named rate limit. Name is "default" for a plan's rate-limit, the
// key for each of its rate-limits, and likewise within an operation.
type Limit struct {
	Name string         `json:"name"`
	Rate ratelimit.Rate `json:"rate"`
	Hard bool           `json:"hard"`
}
