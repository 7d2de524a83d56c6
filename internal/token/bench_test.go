package token_test

import (
	"context"
	"testing"
	"time"

	"gatehouse/internal/token"
)

func BenchmarkSign(b *testing.B) {
	for _, alg := range []token.Algorithm{token.ES256, token.EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			e := newEnv(b)
			kr := e.mustKeyring(b, alg)
			c := e.claims(time.Hour)
			c.Name, c.Email = "Ada Lovelace", "ada@example.com"
			b.ReportAllocs()
			for b.Loop() {
				if _, err := kr.Sign(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []token.Algorithm{token.ES256, token.EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			e := newEnv(b)
			kr := e.mustKeyring(b, alg)
			c := e.claims(time.Hour)
			c.Name, c.Email = "Ada Lovelace", "ada@example.com"
			tok := mustSign(b, kr, c)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := kr.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
