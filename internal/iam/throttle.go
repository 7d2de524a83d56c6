package iam

import (
	"net/netip"
	"sync"
	"time"
)

// Throttle is the token endpoints' brute-force protection (SPEC §3.3): after
// Limit failed exchanges from one client address within Window, every token
// request from that address is refused until the window has passed. IPv6
// clients are counted per /64, the block one subscriber usually holds.
// The state is per node and bounded; at most maxClients addresses are tracked.
type Throttle struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu        sync.Mutex
	clients   map[netip.Prefix]*failures
	lastSweep time.Time
}

type failures struct {
	start time.Time // beginning of the current window
	count int
}

const maxClients = 100_000

// NewThrottle returns a throttle allowing limit failures per window.
func NewThrottle(limit int, window time.Duration, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{limit: limit, window: window, now: now, clients: map[netip.Prefix]*failures{}}
}

func clientKey(a netip.Addr) netip.Prefix {
	a = a.Unmap() // ::ffff:a.b.c.d is the IPv4 client a.b.c.d
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

// Blocked reports whether a's requests are refused now, and for how long.
func (t *Throttle) Blocked(a netip.Addr) (time.Duration, bool) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.clients[clientKey(a)]
	if !ok || f.count < t.limit {
		return 0, false
	}
	end := f.start.Add(t.window)
	if !now.Before(end) {
		return 0, false
	}
	return end.Sub(now), true
}

// Fail counts a failed exchange from a.
func (t *Throttle) Fail(a netip.Addr) {
	now := t.now()
	k := clientKey(a)
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.clients[k]
	if ok && now.Before(f.start.Add(t.window)) {
		f.count++
		return
	}
	if !ok && len(t.clients) >= maxClients && !t.sweep(now) {
		// Full of clients that are all still inside their windows, and swept
		// recently: this address goes uncounted rather than evicting one that
		// is blocked. (At this many addresses an attack is spread beyond what
		// a per-address limit can stop anyway.)
		return
	}
	t.clients[k] = &failures{start: now, count: 1}
}

// sweep makes room, at most once per window/100 so a steady spray of new
// addresses costs amortized O(1) per failure. It drops finished windows, and
// when that frees too little, the clients that are not blocked; a blocked
// client is never dropped before its window passes. It reports whether there
// is room now.
func (t *Throttle) sweep(now time.Time) bool {
	if now.Sub(t.lastSweep) < t.window/100 {
		return len(t.clients) < maxClients
	}
	t.lastSweep = now
	for k, f := range t.clients {
		if !now.Before(f.start.Add(t.window)) {
			delete(t.clients, k)
		}
	}
	if len(t.clients) > maxClients*9/10 {
		for k, f := range t.clients {
			if f.count < t.limit {
				delete(t.clients, k)
			}
		}
	}
	return len(t.clients) < maxClients
}
