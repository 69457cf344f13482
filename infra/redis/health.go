package redis

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// tripAfter is how many consecutive failures open the breaker. More than one, so
// a single stale pooled connection after a Redis restart does not switch an
// instance to its fallback.
const tripAfter = 3

// health is a circuit breaker shared by one instance's cache and limiter. While
// open, callers skip Redis entirely (no timeout per request); every retryEvery
// one caller probes, and its success closes the breaker. Failures are logged at
// most once per warnEvery.
type health struct {
	log        *slog.Logger
	warnEvery  time.Duration
	retryEvery time.Duration

	// open and fails are read on every request without the lock.
	open  atomic.Bool
	fails atomic.Int32

	mu       sync.Mutex
	retryAt  time.Time
	warnedAt time.Time
	quiet    int  // failures not logged since warnedAt
	warned   bool // a warning is out that no success has answered yet
}

// allow reports whether the caller should try Redis.
func (h *health) allow() bool {
	if !h.open.Load() {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if now.Before(h.retryAt) {
		return false
	}
	// This caller is the probe; push the next one out so that a probe that
	// never reports back (its caller gave up) cannot wedge the breaker.
	h.retryAt = now.Add(h.retryEvery)
	return true
}

// ok records a successful Redis call.
func (h *health) ok() {
	if !h.open.Load() && h.fails.Load() == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.warned {
		h.log.Info("redis reachable again: shared cache, limits and nonces resume")
		h.warned = false
	}
	h.open.Store(false)
	h.fails.Store(0)
}

// fail records a failed Redis call: the request it belonged to is served from
// the per-instance fallback.
func (h *health) fail(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if h.fails.Add(1) >= tripAfter {
		h.open.Store(true)
		h.retryAt = now.Add(h.retryEvery)
	}
	if !h.warnedAt.IsZero() && now.Sub(h.warnedAt) < h.warnEvery {
		h.quiet++
		return
	}
	h.log.Warn("redis unreachable: serving from per-instance cache, limiter share and nonce memory",
		"err", err, "failures_since_last_warning", h.quiet+1, "retry_every", h.retryEvery)
	h.warnedAt, h.quiet, h.warned = now, 0, true
}
