package inproc

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/kmsless/kmsless/core"
)

// Limiter is a token bucket per key, in process memory. It implements
// core.Limiter and core.Refunder.
type Limiter struct {
	// now is monotonic, or a test's clock.
	now     func() time.Duration
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Duration
}

// NewLimiter returns an empty limiter.
func NewLimiter() *Limiter {
	return &Limiter{now: monotonic, buckets: make(map[string]*bucket)}
}

// Allow takes one token from key's bucket if it has one.
func (l *Limiter) Allow(_ context.Context, key string, lim core.Limit) (core.LimitResult, error) {
	if lim.Rate <= 0 || lim.Period <= 0 {
		return core.LimitResult{Allowed: true}, nil
	}
	burst := float64(max(lim.Burst, 1))
	perToken := float64(lim.Period) / float64(lim.Rate)
	now := l.now()

	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(burst, b.tokens+float64(now-b.last)/perToken)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return core.LimitResult{Allowed: true, Remaining: int(b.tokens)}, nil
	}
	wait := time.Duration((1 - b.tokens) * perToken)
	return core.LimitResult{Allowed: false, RetryAfter: wait}, nil
}

// Refund gives back a token Allow took from key's bucket, up to its burst.
func (l *Limiter) Refund(key string, lim core.Limit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		b.tokens = math.Min(float64(max(lim.Burst, 1)), b.tokens+1)
	}
}
