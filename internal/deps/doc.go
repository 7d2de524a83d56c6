// Package deps holds no code: its test keeps the dependency review of
// docs/security.md current. Every direct dependency in go.mod must have a
// row in that document's table, at the version go.mod pins, and the table
// names nothing go.mod does not require directly.
package deps
