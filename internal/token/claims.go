package token

import (
	"strconv"
	"time"
)

// Limits of tokens (SPEC §1 --token-ttl, §3.4).
const (
	MaxTokenTTL  = 24 * time.Hour   // the largest --token-ttl; Sign refuses longer-lived tokens
	Leeway       = 60 * time.Second // clock leeway for exp, nbf and iat
	MaxTokenSize = 8 << 10          // bytes; Verify rejects longer tokens and Sign refuses to make them
)

// Account is the account a token's subject belongs to.
type Account struct {
	BSS string `json:"bss"`
}

// Claims are the claims of a Gatehouse access token (SPEC §3.4). Times are
// seconds since the Unix epoch.
type Claims struct {
	Issuer    string  `json:"iss"`
	Subject   string  `json:"sub"`
	IAMID     string  `json:"iam_id"`
	SubType   string  `json:"sub_type"` // "user" or "ServiceId"
	Account   Account `json:"account"`
	APIKeyID  string  `json:"apikey_id"`
	IssuedAt  int64   `json:"iat"`
	ExpiresAt int64   `json:"exp"`
	NotBefore int64   `json:"nbf,omitempty"`
	ID        string  `json:"jti"`
	GrantType string  `json:"grant_type"`
	Scope     string  `json:"scope"`
	Name      string  `json:"name,omitempty"`
	Email     string  `json:"email,omitempty"`
	Role      string  `json:"role,omitempty"` // only when down-scoped
}

// appendClaims appends c as JSON, members in the order of the struct and with
// the same omissions as encoding/json would make, without reflection.
func appendClaims(b []byte, c *Claims) []byte {
	b = append(b, `{"iss":`...)
	b = appendJSONString(b, c.Issuer)
	b = append(b, `,"sub":`...)
	b = appendJSONString(b, c.Subject)
	b = append(b, `,"iam_id":`...)
	b = appendJSONString(b, c.IAMID)
	b = append(b, `,"sub_type":`...)
	b = appendJSONString(b, c.SubType)
	b = append(b, `,"account":{"bss":`...)
	b = appendJSONString(b, c.Account.BSS)
	b = append(b, `},"apikey_id":`...)
	b = appendJSONString(b, c.APIKeyID)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.IssuedAt, 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.ExpiresAt, 10)
	if c.NotBefore != 0 {
		b = append(b, `,"nbf":`...)
		b = strconv.AppendInt(b, c.NotBefore, 10)
	}
	b = append(b, `,"jti":`...)
	b = appendJSONString(b, c.ID)
	b = append(b, `,"grant_type":`...)
	b = appendJSONString(b, c.GrantType)
	b = append(b, `,"scope":`...)
	b = appendJSONString(b, c.Scope)
	if c.Name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, c.Name)
	}
	if c.Email != "" {
		b = append(b, `,"email":`...)
		b = appendJSONString(b, c.Email)
	}
	if c.Role != "" {
		b = append(b, `,"role":`...)
		b = appendJSONString(b, c.Role)
	}
	return append(b, '}')
}

// parsedClaims are Claims plus which of the optional time claims were present.
type parsedClaims struct {
	Claims
	hasIAT, hasEXP, hasNBF bool
}

// parseClaims reads a claims object strictly: no duplicate member names at any
// depth, known members must have their JSON type, unknown members are
// validated and ignored.
func parseClaims(payload []byte) (parsedClaims, error) {
	var pc parsedClaims
	c := &pc.Claims
	p := jsonReader{b: payload, s: string(payload)}
	err := p.object(func(name []byte) (err error) {
		switch string(name) {
		case "iss":
			c.Issuer, err = p.stringValue()
		case "sub":
			c.Subject, err = p.stringValue()
		case "iam_id":
			c.IAMID, err = p.stringValue()
		case "sub_type":
			c.SubType, err = p.stringValue()
		case "account":
			if p.peek() != '{' {
				return errJSONType
			}
			err = p.object(func(name []byte) (err error) {
				if string(name) == "bss" {
					c.Account.BSS, err = p.stringValue()
					return err
				}
				return p.skip()
			})
		case "apikey_id":
			c.APIKeyID, err = p.stringValue()
		case "iat":
			c.IssuedAt, err = p.intValue()
			pc.hasIAT = true
		case "exp":
			c.ExpiresAt, err = p.intValue()
			pc.hasEXP = true
		case "nbf":
			c.NotBefore, err = p.intValue()
			pc.hasNBF = true
		case "jti":
			c.ID, err = p.stringValue()
		case "grant_type":
			c.GrantType, err = p.stringValue()
		case "scope":
			c.Scope, err = p.stringValue()
		case "name":
			c.Name, err = p.stringValue()
		case "email":
			c.Email, err = p.stringValue()
		case "role":
			c.Role, err = p.stringValue()
		default:
			err = p.skip()
		}
		return err
	})
	if err == nil {
		err = p.end()
	}
	return pc, err
}
