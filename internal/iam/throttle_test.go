package iam_test

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/iam"
)

// throttleClock is the injected clock of the throttle tests: time moves only when
// the test says so.
type throttleClock struct {
	mu sync.Mutex
	t  time.Time
}

func newThrottleClock() *throttleClock {
	return &throttleClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *throttleClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *throttleClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	throttleLimit  = 5
	throttleWindow = time.Minute
)

func newTestThrottle(t *testing.T) (*iam.Throttle, *throttleClock) {
	t.Helper()
	clk := newThrottleClock()
	return iam.NewThrottle(throttleLimit, throttleWindow, clk.Now), clk
}

func parseIP(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func failTimes(th *iam.Throttle, a netip.Addr, n int) {
	for range n {
		th.Fail(a)
	}
}

func wantThrottled(t *testing.T, th *iam.Throttle, a netip.Addr, want time.Duration) {
	t.Helper()
	got, blocked := th.Blocked(a)
	if !blocked || got != want {
		t.Fatalf("Blocked(%v) = %v, %v; want %v, true", a, got, blocked, want)
	}
}

func wantNotThrottled(t *testing.T, th *iam.Throttle, a netip.Addr) {
	t.Helper()
	if got, blocked := th.Blocked(a); blocked || got != 0 {
		t.Fatalf("Blocked(%v) = %v, %v; want 0, false", a, got, blocked)
	}
}

func TestThrottleBlocksAtLimitForRestOfWindow(t *testing.T) {
	th, clk := newTestThrottle(t)
	a := parseIP(t, "192.0.2.1")

	wantNotThrottled(t, th, a) // never seen
	// Failures spread 10 s apart: the window starts at the first one.
	for i := range throttleLimit - 1 {
		th.Fail(a)
		wantNotThrottled(t, th, a)
		if i < throttleLimit-2 {
			clk.Advance(10 * time.Second)
		}
	}
	clk.Advance(10 * time.Second) // t = 40 s
	th.Fail(a)                    // the Limit-th failure
	wantThrottled(t, th, a, 20*time.Second)

	clk.Advance(19*time.Second + 999*time.Millisecond)
	wantThrottled(t, th, a, time.Millisecond)
	clk.Advance(time.Millisecond - time.Nanosecond)
	wantThrottled(t, th, a, time.Nanosecond) // the last instant of the window
	clk.Advance(time.Nanosecond)             // t = 60 s: the window has passed
	wantNotThrottled(t, th, a)
}

func TestThrottleFailuresWhileBlockedDoNotExtendTheBlock(t *testing.T) {
	th, clk := newTestThrottle(t)
	a := parseIP(t, "192.0.2.1")
	failTimes(th, a, throttleLimit)
	wantThrottled(t, th, a, throttleWindow)
	clk.Advance(30 * time.Second)
	failTimes(th, a, 10)
	wantThrottled(t, th, a, 30*time.Second)
	clk.Advance(30 * time.Second)
	wantNotThrottled(t, th, a)
}

func TestThrottleNewWindowStartsFresh(t *testing.T) {
	th, clk := newTestThrottle(t)
	a := parseIP(t, "192.0.2.1")
	failTimes(th, a, throttleLimit+3)
	clk.Advance(throttleWindow)
	wantNotThrottled(t, th, a)

	// The old count is gone: Limit-1 new failures do not block.
	clk.Advance(5 * time.Second)
	failTimes(th, a, throttleLimit-1)
	wantNotThrottled(t, th, a)
	clk.Advance(7 * time.Second)
	th.Fail(a)
	wantThrottled(t, th, a, throttleWindow-7*time.Second) // the new window began at the first new failure
}

func TestThrottleFailuresBelowLimitExpire(t *testing.T) {
	th, clk := newTestThrottle(t)
	a := parseIP(t, "192.0.2.1")
	failTimes(th, a, throttleLimit-1)
	clk.Advance(throttleWindow) // those failures' window passes
	th.Fail(a)
	wantNotThrottled(t, th, a)
}

func TestThrottleKeysByClientAddress(t *testing.T) {
	tests := []struct {
		name     string
		attacker string
		other    string
		shared   bool
	}{
		{"ipv4/other-address-independent", "192.0.2.1", "192.0.2.2", false},
		{"ipv4/other-network-independent", "192.0.2.1", "198.51.100.1", false},
		{"ipv6/same-64-shares", "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true},
		{"ipv6/same-64-other-interface-id-shares", "2001:db8:1:2:aaaa::1", "2001:db8:1:2:bbbb::2", true},
		{"ipv6/neighbouring-64-independent", "2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"ipv6/other-prefix-independent", "2001:db8:1:2::1", "2001:db8:ffff:2::1", false},
		{"ipv6-vs-ipv4-independent", "2001:db8::1", "192.0.2.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, _ := newTestThrottle(t)
			a, b := parseIP(t, tt.attacker), parseIP(t, tt.other)
			failTimes(th, a, throttleLimit-1)
			th.Fail(b) // the Limit-th failure if they share a counter
			if !tt.shared {
				wantNotThrottled(t, th, a)
				wantNotThrottled(t, th, b)
				th.Fail(a)
				wantThrottled(t, th, a, throttleWindow)
				wantNotThrottled(t, th, b)
				return
			}
			wantThrottled(t, th, a, throttleWindow)
			wantThrottled(t, th, b, throttleWindow)
		})
	}
}

// spray fails once from each of n distinct IPv6 /64s.
func sprayPrefixes(th *iam.Throttle, n int) {
	for i := range n {
		var b [16]byte
		b[0], b[1] = 0x20, 0x01
		b[4], b[5], b[6], b[7] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		th.Fail(netip.AddrFrom16(b))
	}
}

func sprayPrefixCount() int {
	if testing.Short() {
		return 120_000 // still past the tracked-address bound
	}
	return 200_000
}

func TestThrottleStaysUsableAfterAddressSpray(t *testing.T) {
	th, clk := newTestThrottle(t)
	start := time.Now()
	sprayPrefixes(th, sprayPrefixCount())
	// Not a benchmark: the bound is loose (the spray takes well under a second
	// even under -race) and catches only sweeping that turns quadratic.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("spraying %d addresses took %v; tracking should stay cheap and bounded", sprayPrefixCount(), d)
	}
	clk.Advance(time.Second)
	fresh := parseIP(t, "198.51.100.9")
	failTimes(th, fresh, throttleLimit-1)
	wantNotThrottled(t, th, fresh)
	th.Fail(fresh)
	wantThrottled(t, th, fresh, throttleWindow)
}

func TestThrottleConcurrentUse(t *testing.T) {
	clk := newThrottleClock()
	th := iam.NewThrottle(50, throttleWindow, clk.Now)
	shared := parseIP(t, "203.0.113.5")
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			own := netip.AddrFrom4([4]byte{10, 0, byte(g), 1})
			for i := range 200 {
				th.Fail(own)
				th.Blocked(own)
				if i%4 == 0 {
					th.Fail(shared) // 32 × 50 = 1600 failures in all
				}
				th.Blocked(shared)
				if g == 0 && i%50 == 0 {
					clk.Advance(time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	// Each goroutine's own address failed 200 times and the shared one 1600
	// times, all well inside one window: every one is blocked.
	if _, blocked := th.Blocked(shared); !blocked {
		t.Fatal("shared address not blocked after 1600 concurrent failures")
	}
	for g := range 32 {
		if _, blocked := th.Blocked(netip.AddrFrom4([4]byte{10, 0, byte(g), 1})); !blocked {
			t.Fatalf("address of goroutine %d not blocked", g)
		}
	}
}

func TestThrottleBlockSurvivesAddressSpray(t *testing.T) {
	t.Skip("BUG: Throttle.sweep evicts blocked clients: when 100k other addresses fail inside the window it " +
		"drops every entry (clear) or the older half, so a blocked address is unblocked before its window " +
		"passes (SPEC §3.3: refused until the window passes); evict clients below the limit first")
	// SPEC §3.3: once blocked, an address is refused until its window passes,
	// whatever other addresses do meanwhile.
	th, clk := newTestThrottle(t)
	blocked := parseIP(t, "192.0.2.66")
	failTimes(th, blocked, throttleLimit)
	clk.Advance(time.Second)
	sprayPrefixes(th, sprayPrefixCount())
	wantThrottled(t, th, blocked, throttleWindow-time.Second)
}

func TestThrottleSprayAtSteadyRateStaysCheap(t *testing.T) {
	t.Skip("BUG: when new addresses fail at about (tracked-address bound)/window, every Fail from a new " +
		"address runs a full O(100k) sweep under the mutex that frees only the one entry that just expired " +
		"(~3 ms each, so ~1.7k req/s saturates the lock every token request takes); a sweep must free a fixed fraction")
	// New addresses arriving at the rate at which old ones expire: the
	// tracked set sits at its bound, and each Fail must still be cheap.
	clk := newThrottleClock()
	th := iam.NewThrottle(throttleLimit, throttleWindow, clk.Now)
	const bound, extra = 100_000, 2_000 // the throttle's tracked-address bound, and some more
	step := throttleWindow / bound
	start := time.Now()
	for i := range bound + extra {
		var b [16]byte
		b[0], b[1] = 0x20, 0x01
		b[4], b[5], b[6], b[7] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		th.Fail(netip.AddrFrom16(b))
		clk.Advance(step)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("%d failures from new addresses at a steady rate took %v", bound+extra, d)
	}
}
