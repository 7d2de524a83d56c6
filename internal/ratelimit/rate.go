package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is a parsed rate-limit value: Count calls per Window, or Unlimited.
type Rate struct {
	Count     int64         `json:"count,omitempty"`
	Window    time.Duration `json:"window,omitempty"`
	Unlimited bool          `json:"unlimited,omitempty"`
}

// Month is the length of the "month" unit: 30 days (fixed windows, not
// calendar months).
const Month = 30 * 24 * time.Hour

var units = map[string]time.Duration{
	"second": time.Second,
	"minute": time.Minute,
	"hour":   time.Hour,
	"day":    24 * time.Hour,
	"week":   7 * 24 * time.Hour,
	"month":  Month,
}

// Limits on the grammar's numbers, so a value never overflows a window.
const (
	maxCount      = 1 << 40
	maxMultiplier = 1000
)

// ParseRate parses the API Connect rate-limit grammar (SPEC §7):
// "<count>/[<n>]<unit>" with unit second, minute, hour, day, week or month,
// singular or plural (e.g. "100/1hour", "10/minute", "5/2days"), or "unlimited".
func ParseRate(s string) (Rate, error) {
	v := strings.TrimSpace(s)
	if strings.EqualFold(v, "unlimited") {
		return Rate{Unlimited: true}, nil
	}
	count, per, ok := strings.Cut(v, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate limit %q: want <count>/[<n>]<unit>, e.g. 100/1hour, or unlimited", s)
	}
	// Digits only: ParseInt alone would take a sign, and "-0" is not a count.
	n, err := strconv.ParseInt(count, 10, 64)
	if err != nil || n > maxCount || !allDigits(count) {
		return Rate{}, fmt.Errorf("rate limit %q: the count must be a whole number from 0 to %d", s, int64(maxCount))
	}
	i := 0
	for i < len(per) && per[i] >= '0' && per[i] <= '9' {
		i++
	}
	mult := int64(1)
	if i > 0 {
		if mult, err = strconv.ParseInt(per[:i], 10, 64); err != nil || mult < 1 || mult > maxMultiplier {
			return Rate{}, fmt.Errorf("rate limit %q: the number of units must be from 1 to %d", s, maxMultiplier)
		}
	}
	unit := strings.ToLower(per[i:])
	d, ok := units[strings.TrimSuffix(unit, "s")]
	if !ok || unit == "" {
		return Rate{}, errors.New("rate limit " + strconv.Quote(s) + ": the unit must be second, minute, hour, day, week or month")
	}
	return Rate{Count: n, Window: time.Duration(mult) * d}, nil
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// String renders a rate in the grammar ParseRate reads.
func (r Rate) String() string {
	if r.Unlimited {
		return "unlimited"
	}
	for _, u := range []string{"month", "week", "day", "hour", "minute", "second"} {
		if d := units[u]; r.Window >= d && r.Window%d == 0 {
			return fmt.Sprintf("%d/%d%s", r.Count, r.Window/d, u)
		}
	}
	return fmt.Sprintf("%d/%dsecond", r.Count, r.Window/time.Second)
}
