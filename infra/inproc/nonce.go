package inproc

import (
	"context"
	"hash/maphash"
	"strings"
	"sync"
	"time"

	"github.com/kmsless/kmsless/core"
)

// sweepEvery is how often a principal's expired nonces are swept on its next
// request; fullSweepEvery how often, at most, when it is at its quota. A
// sweep walks all of the principal's nonces: one a request at the quota,
// where the oldest nonce expires as each request comes, would cost each
// request the time of the whole memory's walk.
const (
	sweepEvery     = time.Minute
	fullSweepEvery = time.Second
)

// Nonces remembers signature nonces in process memory, each principal's apart
// and within the quota core gives it. A principal at its quota is refused new
// nonces (core throttles it) rather than have live ones forgotten, so a flood
// cannot push a captured nonce out and make its replay succeed, and it cannot
// take memory from anyone else, nor time: each principal's nonces have a lock
// of their own.
type Nonces struct {
	clock core.Clock
	seeds [2]maphash.Seed
	mu    sync.Mutex // guards by
	by    map[string]*principalNonces
}

// digest stands for a nonce in memory: 128 bits of two hashes of it, seeded
// at random per process. A map of digests holds no pointers, so the
// collector never scans it, and a nonce takes half the memory its text did
// (BenchmarkNonceMemory). Two nonces of one principal that shared a digest
// would refuse the second as a replay (never accept a replay): by chance,
// about once in 2^128 pairs; on purpose, only by a principal to itself, with
// seeds it cannot see.
type digest [2]uint64

func (n *Nonces) digest(nonce string) digest {
	return digest{maphash.String(n.seeds[0], nonce), maphash.String(n.seeds[1], nonce)}
}

// principalNonces are one principal's live nonces.
type principalNonces struct {
	mu sync.Mutex
	// seen maps a nonce's digest to when it may be forgotten, in Unix
	// nanoseconds: 8 bytes where a time.Time takes 24.
	seen map[digest]int64
	// sweptAt is when they were last swept, sweepAt when they will be next.
	sweptAt, sweepAt int64
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
	return &Nonces{clock: clock, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, by: make(map[string]*principalNonces)}
}

// Use implements core.NonceStore. The nonce's text up to the first ':' is its
// principal.
func (n *Nonces) Use(_ context.Context, nonce string, ttl time.Duration, quota int) (bool, error) {
	now := n.clock.Now().UnixNano()
	principal, rest, _ := strings.Cut(nonce, ":")
	d := n.digest(rest)
	p := n.principal(principal, now)
	p.mu.Lock()
	defer p.mu.Unlock()
	if exp, ok := p.seen[d]; ok && now < exp {
		return false, nil
	}
	full := quota > 0 && len(p.seen) >= quota
	if full {
		if next := max(p.fullUntil, p.sweptAt+int64(fullSweepEvery)); now < next {
			return false, &core.NonceQuotaError{RetryAfter: time.Duration(next - now)}
		}
	}
	if full || now >= p.sweepAt {
		soonest := p.sweep(now)
		if quota > 0 && len(p.seen) >= quota {
			p.fullUntil = soonest
			return false, &core.NonceQuotaError{RetryAfter: time.Duration(max(soonest, now+int64(fullSweepEvery)) - now)}
		}
	}
	p.seen[d] = now + int64(ttl)
	return true, nil
}

// principal returns the nonces of principal, made empty on its first nonce.
func (n *Nonces) principal(principal string, now int64) *principalNonces {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.by[principal]
	if p == nil {
		p = &principalNonces{seen: make(map[digest]int64), sweptAt: now, sweepAt: now + int64(sweepEvery)}
		n.by[strings.Clone(principal)] = p // not the whole nonce's string
	}
	return p
}

// Remember records a nonce ("<AccessKeyId>:<nonce>") seen before, which may be
// forgotten at expires, outside any quota: for a store that reloads the nonces
// it persisted.
func (n *Nonces) Remember(nonce string, expires time.Time) {
	principal, rest, _ := strings.Cut(nonce, ":")
	d := n.digest(rest)
	p := n.principal(principal, n.clock.Now().UnixNano())
	p.mu.Lock()
	defer p.mu.Unlock()
	if exp := expires.UnixNano(); exp > p.seen[d] {
		p.seen[d] = exp
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
	p.sweptAt, p.sweepAt = now, now+int64(sweepEvery)
	return soonest
}
