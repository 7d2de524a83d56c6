package ratelimit_test

import (
	"strings"
	"testing"
	"time"

	"gatehouse/internal/ratelimit"
)

const (
	day   = 24 * time.Hour
	week  = 7 * day
	month = 30 * day
)

func TestParseRateAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want ratelimit.Rate
	}{
		// Every unit, singular and plural, with and without the multiplier.
		{"second", "10/second", ratelimit.Rate{Count: 10, Window: time.Second}},
		{"seconds", "10/seconds", ratelimit.Rate{Count: 10, Window: time.Second}},
		{"1second", "10/1second", ratelimit.Rate{Count: 10, Window: time.Second}},
		{"30seconds", "10/30seconds", ratelimit.Rate{Count: 10, Window: 30 * time.Second}},
		{"minute", "10/minute", ratelimit.Rate{Count: 10, Window: time.Minute}},
		{"minutes", "10/minutes", ratelimit.Rate{Count: 10, Window: time.Minute}},
		{"1minute", "10/1minute", ratelimit.Rate{Count: 10, Window: time.Minute}},
		{"2minutes", "5/2minutes", ratelimit.Rate{Count: 5, Window: 2 * time.Minute}},
		{"2minute", "5/2minute", ratelimit.Rate{Count: 5, Window: 2 * time.Minute}},
		{"hour", "100/hour", ratelimit.Rate{Count: 100, Window: time.Hour}},
		{"hours", "100/hours", ratelimit.Rate{Count: 100, Window: time.Hour}},
		{"1hour", "100/1hour", ratelimit.Rate{Count: 100, Window: time.Hour}},
		{"12hours", "100/12hours", ratelimit.Rate{Count: 100, Window: 12 * time.Hour}},
		{"day", "1000/day", ratelimit.Rate{Count: 1000, Window: day}},
		{"days", "1000/days", ratelimit.Rate{Count: 1000, Window: day}},
		{"1day", "1000/1day", ratelimit.Rate{Count: 1000, Window: day}},
		{"2days", "5/2days", ratelimit.Rate{Count: 5, Window: 2 * day}},
		{"week", "7/week", ratelimit.Rate{Count: 7, Window: week}},
		{"weeks", "7/weeks", ratelimit.Rate{Count: 7, Window: week}},
		{"1week", "7/1week", ratelimit.Rate{Count: 7, Window: week}},
		{"3weeks", "7/3weeks", ratelimit.Rate{Count: 7, Window: 3 * week}},
		{"month", "30/month", ratelimit.Rate{Count: 30, Window: month}},
		{"months", "30/months", ratelimit.Rate{Count: 30, Window: month}},
		{"1month", "30/1month", ratelimit.Rate{Count: 30, Window: month}},
		{"6months", "30/6months", ratelimit.Rate{Count: 30, Window: 6 * month}},

		// Numbers at their limits.
		{"count-zero", "0/1hour", ratelimit.Rate{Count: 0, Window: time.Hour}},
		{"count-max", "1099511627776/second", ratelimit.Rate{Count: 1 << 40, Window: time.Second}},
		{"count-leading-zeros", "007/hour", ratelimit.Rate{Count: 7, Window: time.Hour}},
		{"multiplier-max", "1/1000months", ratelimit.Rate{Count: 1, Window: 1000 * month}},
		{"multiplier-leading-zeros", "1/0002hours", ratelimit.Rate{Count: 1, Window: 2 * time.Hour}},

		// Case and surrounding whitespace.
		{"unit-upper-case", "10/1HOUR", ratelimit.Rate{Count: 10, Window: time.Hour}},
		{"unit-mixed-case", "10/2Minutes", ratelimit.Rate{Count: 10, Window: 2 * time.Minute}},
		{"space-around", "  100/1hour  ", ratelimit.Rate{Count: 100, Window: time.Hour}},
		{"tabs-and-newlines-around", "\t100/1hour\n", ratelimit.Rate{Count: 100, Window: time.Hour}},
		{"unlimited", "unlimited", ratelimit.Rate{Unlimited: true}},
		{"unlimited-upper-case", "UNLIMITED", ratelimit.Rate{Unlimited: true}},
		{"unlimited-mixed-case", "UnLimited", ratelimit.Rate{Unlimited: true}},
		{"unlimited-space-around", " \tUnlimited\r\n", ratelimit.Rate{Unlimited: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ratelimit.ParseRate(tc.in)
			if err != nil {
				t.Fatalf("ParseRate(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("ParseRate(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseRateRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		says string // part of the error message
	}{
		{"empty", "", "want <count>/[<n>]<unit>"},
		{"blank", "   ", "want <count>/[<n>]<unit>"},
		{"missing-slash", "100hour", "want <count>/[<n>]<unit>"},
		{"count-only", "100", "want <count>/[<n>]<unit>"},
		{"unlimited-with-suffix", "unlimited/hour", "the count"},
		{"unlimited-misspelt", "unlimitted", "want <count>/[<n>]<unit>"},

		{"no-count", "/hour", "the count"},
		{"negative-count", "-5/hour", "the count"},
		{"negative-zero-count", "-0/hour", "the count"},
		{"plus-count", "+5/hour", "the count"},
		{"huge-count", "1099511627777/hour", "the count"},
		{"overflowing-count", "99999999999999999999/hour", "the count"},
		{"fractional-count", "1.5/hour", "the count"},
		{"hex-count", "0x10/hour", "the count"},
		{"underscored-count", "1_000/hour", "the count"},
		{"space-in-count", "10 /hour", "the count"},
		{"non-ascii-digit-count", "٣/hour", "the count"},

		{"multiplier-zero", "10/0hour", "the number of units"},
		{"multiplier-over-1000", "10/1001hours", "the number of units"},
		{"multiplier-overflowing", "10/99999999999999999999hours", "the number of units"},
		{"multiplier-plus", "10/+2hours", "the unit"},
		{"multiplier-negative", "10/-2hours", "the unit"},

		{"empty-unit", "10/", "the unit"},
		{"multiplier-without-unit", "10/1", "the unit"},
		{"unknown-unit", "10/fortnight", "the unit"},
		{"abbreviated-unit", "10/1h", "the unit"},
		{"bare-s", "10/s", "the unit"},
		{"double-plural", "10/hourss", "the unit"},
		{"space-before-unit", "10/1 hour", "the unit"},
		{"space-after-slash", "10/ hour", "the unit"},
		{"trailing-words", "10/1hour extra", "the unit"},
		{"second-slash", "10/1hour/2", "the unit"},
		{"millisecond", "10/millisecond", "the unit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ratelimit.ParseRate(tc.in)
			if err == nil {
				t.Fatalf("ParseRate(%q) = %+v, want an error", tc.in, got)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("ParseRate(%q) error %q, want it to say %q", tc.in, err, tc.says)
			}
			if got != (ratelimit.Rate{}) {
				t.Errorf("ParseRate(%q) returned %+v with its error, want the zero Rate", tc.in, got)
			}
		})
	}
}

func TestRateStringRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"100/1hour", "100/1hour"},
		{"10/minute", "10/1minute"},
		{"5/2days", "5/2day"},
		{"0/1second", "0/1second"},
		{"1/60minutes", "1/1hour"}, // the largest unit that divides evenly
		{"1/14days", "1/2week"},
		{"1/30days", "1/1month"},
		{"1/90seconds", "1/90second"},
		{"1/1000weeks", "1/1000week"},
		{"1/1000months", "1/1000month"},
		{"UNLIMITED", "unlimited"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := ratelimit.ParseRate(tc.in)
			if err != nil {
				t.Fatalf("ParseRate(%q): %v", tc.in, err)
			}
			s := r.String()
			if s != tc.want {
				t.Errorf("ParseRate(%q).String() = %q, want %q", tc.in, s, tc.want)
			}
			back, err := ratelimit.ParseRate(s)
			if err != nil || back != r {
				t.Errorf("ParseRate(%q) = %+v, %v; want %+v", s, back, err, r)
			}
		})
	}
}
