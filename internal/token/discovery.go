package token

import (
	"encoding/json"
	"strings"
)

// GrantTypeAPIKey is the IAM grant type of an API-key exchange (SPEC §3.2).
const GrantTypeAPIKey = "urn:ibm:params:oauth:grant-type:apikey"

// OpenIDConfiguration returns the discovery document served at
// /.well-known/openid-configuration (SPEC §3.5) for issuer, listing algs (the
// published keys' algorithms, see Keyring.Algorithms) as the signing
// algorithms. Endpoint URLs are issuer + "/identity/token" and
// issuer + "/identity/keys".
func OpenIDConfiguration(issuer string, algs []Algorithm) []byte {
	base := strings.TrimSuffix(issuer, "/")
	names := make([]string, 0, len(algs))
	for _, a := range algs {
		names = append(names, string(a))
	}
	doc := struct {
		Issuer           string   `json:"issuer"`
		TokenEndpoint    string   `json:"token_endpoint"`
		JWKSURI          string   `json:"jwks_uri"`
		GrantTypes       []string `json:"grant_types_supported"`
		ResponseTypes    []string `json:"response_types_supported"`
		SubjectTypes     []string `json:"subject_types_supported"`
		SigningAlgs      []string `json:"id_token_signing_alg_values_supported"`
		TokenAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
		Scopes           []string `json:"scopes_supported"`
	}{
		Issuer:           issuer,
		TokenEndpoint:    base + "/identity/token",
		JWKSURI:          base + "/identity/keys",
		GrantTypes:       []string{GrantTypeAPIKey},
		ResponseTypes:    []string{"cloud_iam"},
		SubjectTypes:     []string{"public"},
		SigningAlgs:      names,
		TokenAuthMethods: []string{"none"},
		Scopes:           []string{"ibm", "openid"},
	}
	b, err := json.Marshal(doc)
	if err != nil { // strings and string slices always marshal
		panic(err)
	}
	return b
}
