package ratelimit_test

import (
	"testing"

	"gatehouse/internal/ratelimit"
)

// FuzzParseRate checks that ParseRate never panics and that what it accepts
// is a rate the limiters can count, which String writes back unchanged.
// Seeds: testdata/fuzz/FuzzParseRate.
func FuzzParseRate(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ratelimit.ParseRate(s)
		if err != nil {
			if r != (ratelimit.Rate{}) {
				t.Fatalf("ParseRate(%q) = %+v with error %v, want the zero Rate", s, r, err)
			}
			return
		}
		if r.Unlimited {
			if r.Count != 0 || r.Window != 0 {
				t.Fatalf("ParseRate(%q) = %+v: unlimited with a count or window", s, r)
			}
		} else if r.Window <= 0 || r.Count < 0 {
			t.Fatalf("ParseRate(%q) = %+v: want Window > 0 and Count >= 0", s, r)
		}
		back, err := ratelimit.ParseRate(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseRate(%q) = %+v, whose String %q parses to %+v, %v", s, r, r.String(), back, err)
		}
	})
}
