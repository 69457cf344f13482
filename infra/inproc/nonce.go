package inproc

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/kmsless/kmsless/core"
)

// sweepEvery is how often a principal's expired nonces are swept on its next
// request; a full memory sweeps at once.
const sweepEvery = time.Minute

// Nonces remembers signature nonces in process memory, each principal's apart
// and within the quota core gives it. A principal at its quota is refused new
// nonces (core throttles it) rather than have live ones forgotten, so a flood
// cannot push a captured nonce out and make its replay succeed, and it cannot
// take memory from anyone else.
type Nonces struct {
	clock core.Clock
	mu    sync.Mutex
	by    map[string]*principalNonces
}

// principalNonces are one principal's live nonces.
type principalNonces struct {
	// seen maps a nonce to when it may be forgotten, in Unix nanoseconds: 8
	// bytes where a time.Time takes 24, on the entry there are most of.
	seen    map[string]int64
	sweepAt int64
	// fullUntil is set when a sweep left the principal at its quota: until
	// then new nonces are refused without sweeping again.
	fullUntil int64
}

// NewNonces returns an empty nonce memory telling the time by clock (the
// system clock when nil).
func NewNonces(clock core.Clock) *Nonces {
	if clock == nil {
		clock = core.SystemClock{}
	}
	return &Nonces{clock: clock, by: make(map[string]*principalNonces)}
}

// Use implements core.NonceStore. The nonce's text up to the first ':' is its
// principal.
func (n *Nonces) Use(_ context.Context, nonce string, ttl time.Duration, quota int) (bool, error) {
	now := n.clock.Now().UnixNano()
	principal, rest, _ := strings.Cut(nonce, ":")
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.by[principal]
	if p == nil {
		p = &principalNonces{seen: make(map[string]int64), sweepAt: now + int64(sweepEvery)}
		n.by[principal] = p
	}
	if exp, ok := p.seen[rest]; ok && now < exp {
		return false, nil
	}
	full := quota > 0 && len(p.seen) >= quota
	if full && now < p.fullUntil {
		return false, &core.NonceQuotaError{RetryAfter: time.Duration(p.fullUntil - now)}
	}
	if full || now >= p.sweepAt {
		soonest := p.sweep(now)
		if quota > 0 && len(p.seen) >= quota {
			p.fullUntil = soonest
			return false, &core.NonceQuotaError{RetryAfter: time.Duration(soonest - now)}
		}
	}
	// A copy: rest is part of a string that also holds the principal.
	p.seen[strings.Clone(rest)] = now + int64(ttl)
	return true, nil
}

// Remember records a nonce ("<AccessKeyId>:<nonce>") seen before, which may be
// forgotten at expires, outside any quota: for a store that reloads the nonces
// it persisted.
func (n *Nonces) Remember(nonce string, expires time.Time) {
	principal, rest, _ := strings.Cut(nonce, ":")
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.by[principal]
	if p == nil {
		p = &principalNonces{seen: make(map[string]int64), sweepAt: n.clock.Now().UnixNano() + int64(sweepEvery)}
		n.by[principal] = p
	}
	if exp := expires.UnixNano(); exp > p.seen[rest] {
		p.seen[rest] = exp
	}
}

// Live calls fn for every nonce not yet expired, with when it may be
// forgotten, in no particular order: for a store that compacts what it
// persisted. fn must not call n.
func (n *Nonces) Live(fn func(nonce string, expires time.Time)) {
	now := n.clock.Now().UnixNano()
	n.mu.Lock()
	defer n.mu.Unlock()
	for principal, p := range n.by {
		for rest, exp := range p.seen {
			if now < exp {
				fn(principal+":"+rest, time.Unix(0, exp))
			}
		}
	}
}

// sweep forgets expired nonces and returns the soonest expiry left.
func (p *principalNonces) sweep(now int64) int64 {
	soonest := int64(0)
	for k, exp := range p.seen {
		switch {
		case now >= exp:
			delete(p.seen, k)
		case soonest == 0 || exp < soonest:
			soonest = exp
		}
	}
	p.sweepAt = now + int64(sweepEvery)
	return soonest
}
