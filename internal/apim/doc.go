// Package apim is the API Manager: provider orgs and their catalogs
// (environments), and later the APIs, products, plans and consumers in them.
//
// Its rules (who may create, change or see what) live here, above storage,
// and are expressed with the iam role ladder: an org's scope is where org
// policies attach. Objects of orgs the caller cannot see are reported as not
// found, never as forbidden, so their existence is not revealed.
package apim
