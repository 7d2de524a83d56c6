package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrInvalidRate is returned by Take for a rate that ParseRate would never
// produce: no window (Window <= 0) or a negative Count.
var ErrInvalidRate = errors.New("invalid rate")

// Result is the state of one limit after counting a call.
type Result struct {
	Allowed   bool          // the call is within the limit (used <= Count after counting it)
	Limit     int64         // the rate's Count; -1 for an Unlimited rate
	Remaining int64         // Count - used, never below 0; -1 for an Unlimited rate
	Reset     time.Duration // until the current window ends (> 0); 0 for an Unlimited rate
}

// Limiter counts calls against named limits in fixed windows aligned to the
// Unix epoch (a window of w starts at multiples of w), so every node of a
// cluster agrees on window edges. Implementations: Memory (one node) and
// Redis (cluster mode); both pass ratelimittest.
//
// Every call is counted, refused ones too, so a client that keeps calling
// over the limit stays refused until the window ends. Counters are kept per
// key and window length: the same key under 10/1minute and 100/1hour counts
// twice, independently; under 10/1minute and 20/1minute it shares a counter
// (a changed Count applies to the calls already made in the window).
type Limiter interface {
	// Take counts one call against key under r at the limiter's current time.
	// An Unlimited rate is always allowed and counts nothing (Remaining -1).
	// Errors: ErrInvalidRate (wrapped) for a rate without a window or with a
	// negative count; implementations backed by a server return its errors.
	Take(ctx context.Context, key string, r Rate) (Result, error)
}

// unlimited is the Result of every Take under an Unlimited rate.
var unlimited = Result{Allowed: true, Limit: -1, Remaining: -1}

// check returns ErrInvalidRate, wrapped, if r cannot be counted.
func (r Rate) check() error {
	if r.Window <= 0 || r.Count < 0 {
		return fmt.Errorf("%w: %d calls per %v", ErrInvalidRate, r.Count, r.Window)
	}
	return nil
}

// windowStart returns the start, in Unix nanoseconds, of the window of length
// w (> 0) that holds the instant now (Unix nanoseconds). It rounds towards
// minus infinity, so instants before 1970 fall in the right window too.
func windowStart(now, w int64) int64 {
	start := now - now%w
	if now%w < 0 {
		start -= w
	}
	return start
}

// result builds the Result of a call that made the window's count used,
// with the window ending in reset.
func result(count, used int64, reset time.Duration) Result {
	return Result{
		Allowed:   used <= count,
		Limit:     count,
		Remaining: max(count-used, 0),
		Reset:     reset,
	}
}
