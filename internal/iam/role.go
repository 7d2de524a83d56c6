package iam

import (
	"fmt"
	"strings"
)

// Role is a rung of the role ladder (SPEC §5.2); each role includes the ones below it.
// The zero Role is "no access".
type Role uint8

// The ladder, lowest first.
const (
	NoRole Role = iota
	Reader
	Writer
	Manager
	Administrator
)

var roleNames = [...]string{"", "Reader", "Writer", "Manager", "Administrator"}

// String returns the role's canonical name ("" for NoRole).
func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// ParseRole accepts a role name in any letter case.
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames[1:] {
		if strings.EqualFold(s, n) {
			return Role(i + 1), nil
		}
	}
	return NoRole, fmt.Errorf("unknown role %q: use Reader, Writer, Manager or Administrator", s)
}

// MinRole returns the lower of two roles.
func MinRole(a, b Role) Role {
	if a < b {
		return a
	}
	return b
}

// capRole lowers r to limit when limit is set (NoRole as a limit means "no cap").
func capRole(r, limit Role) Role {
	if limit == NoRole {
		return r
	}
	return MinRole(r, limit)
}
