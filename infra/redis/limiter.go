package redis

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
)

// admitScript is GCRA (the algorithm of go-redis/redis_rate) on the server's
// clock, in integer microseconds, followed when the request is admitted by
// SET NX PX of the signature nonce: throttling and replay checks in one round
// trip. A throttled request leaves its nonce unused so the caller may retry it,
// and a replay leaves the bucket as it was: whoever holds a captured request
// cannot spend its signer's budget by sending it again.
//
// KEYS[1] bucket, KEYS[2] nonce (optional).
// ARGV burst, rate, period in µs, nonce TTL in ms.
// Returns {allowed, remaining, retry after in µs, nonce fresh}.
var admitScript = goredis.NewScript(`
local burst = tonumber(ARGV[1])
local interval = tonumber(ARGV[3]) / tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if tat < now then tat = now end
local new_tat = tat + interval
local diff = now - (new_tat - interval * burst)
if diff < 0 then
  return {0, 0, math.ceil(-diff), 1}
end
if KEYS[2] and not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[4]) then
  return {1, math.floor(diff / interval), 0, 0}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.max(1, math.ceil((new_tat - now) / 1000)))
return {1, math.floor(diff / interval), 0, 1}
`)

// Limiter holds every principal to its limit across all instances and remembers
// signature nonces in Redis. It implements core.Limiter, core.NonceLimiter and
// core.NonceStore. Each admission is one script call: coalescing concurrent
// calls into pipelines was measured slower than plain calls (BenchmarkAdmit).
// While Redis is unreachable each instance admits Share of the
// limit on its own and remembers nonces in Options.FallbackNonces. Redis
// memory is not held to core's nonce quota: the rate limit already bounds a
// principal's live nonces to Burst + Rate × window.
type Limiter struct {
	rdb    goredis.UniversalClient
	h      *health
	prefix string
	share  float64
	local  *inproc.Limiter
	nonces core.NonceStore
}

func newLimiter(rdb goredis.UniversalClient, h *health, o Options) *Limiter {
	return &Limiter{
		rdb: rdb, h: h, prefix: o.Prefix, share: o.FallbackShare,
		local: inproc.NewLimiter(), nonces: o.FallbackNonces,
	}
}

// Redis keys of a principal share the hash tag {p:AccessKeyId}, so its bucket and
// nonces live in one Cluster slot and one script may touch both.
func (l *Limiter) bucketKey(principal string) string {
	return l.prefix + "{p:" + principal + "}:rate"
}

func (l *Limiter) nonceKey(principal, nonce string) string {
	return l.prefix + "{p:" + principal + "}:n:" + nonce
}

// Allow implements core.Limiter.
func (l *Limiter) Allow(ctx context.Context, key string, lim core.Limit) (core.LimitResult, error) {
	res, _, err := l.admit(ctx, key, lim, "", 0, 0)
	return res, err
}

// AllowAndUse implements core.NonceLimiter: the bucket of key and the nonce
// ("<key>:<nonce>", as core builds it) in one round trip.
func (l *Limiter) AllowAndUse(ctx context.Context, key string, lim core.Limit, nonce string, ttl time.Duration, quota int) (core.LimitResult, bool, error) {
	return l.admit(ctx, key, lim, nonce, ttl, quota)
}

// Use implements core.NonceStore. The nonce's text up to the first ':' is the
// principal, as in AllowAndUse, so both record a nonce under the same Redis key.
func (l *Limiter) Use(ctx context.Context, nonce string, ttl time.Duration, quota int) (bool, error) {
	if l.h.allow() {
		principal, rest, _ := strings.Cut(nonce, ":")
		fresh, err := l.rdb.SetNX(ctx, l.nonceKey(principal, rest), "1", ttl).Result()
		if err == nil {
			l.h.ok()
			return fresh, nil
		}
		if ctx.Err() != nil {
			return false, err
		}
		l.h.fail(err)
	}
	return l.nonces.Use(ctx, nonce, ttl, quota)
}

func (l *Limiter) admit(ctx context.Context, key string, lim core.Limit, nonce string, ttl time.Duration, quota int) (core.LimitResult, bool, error) {
	if lim.Rate <= 0 || lim.Period <= 0 {
		if nonce == "" {
			return core.LimitResult{Allowed: true}, true, nil
		}
		fresh, err := l.Use(ctx, nonce, ttl, quota)
		return core.LimitResult{Allowed: true}, fresh, err
	}
	if l.h.allow() {
		nonceKey := ""
		if nonce != "" {
			rest, ok := strings.CutPrefix(nonce, key+":")
			if !ok {
				rest = nonce
			}
			nonceKey = l.nonceKey(key, rest)
		}
		keys := []string{l.bucketKey(key)}
		if nonceKey != "" {
			keys = append(keys, nonceKey)
		}
		r, err := admitScript.Run(ctx, l.rdb, keys, max(lim.Burst, 1), lim.Rate, lim.Period.Microseconds(), max(ttl.Milliseconds(), 1)).Int64Slice()
		if err == nil && len(r) != 4 {
			err = errors.New("admission script: unexpected reply")
		}
		if err == nil {
			l.h.ok()
			return core.LimitResult{
				Allowed:    r[0] == 1,
				Remaining:  int(r[1]),
				RetryAfter: time.Duration(r[2]) * time.Microsecond,
			}, r[3] == 1, nil
		}
		if err := gaveUp(ctx); err != nil {
			return core.LimitResult{}, false, err
		}
		l.h.fail(err)
	}
	share := l.fallback(lim)
	res, _ := l.local.Allow(ctx, key, share)
	if !res.Allowed || nonce == "" {
		return res, true, nil
	}
	fresh, err := l.nonces.Use(ctx, nonce, ttl, quota)
	if err == nil && !fresh {
		l.local.Refund(key, share)
	}
	return res, fresh, err
}

// fallback is the share of lim one instance admits on its own.
func (l *Limiter) fallback(lim core.Limit) core.Limit {
	part := func(n int) int { return max(1, int(math.Ceil(float64(n)*l.share))) }
	return core.Limit{Rate: part(lim.Rate), Burst: part(max(lim.Burst, 1)), Period: lim.Period}
}

// gaveUp is ctx's error once its caller stopped waiting. A deadline counts as
// soon as it passes: the connection's read deadline, set from it, may fire
// before ctx's own timer does, and that timeout is the caller's, not Redis's.
func gaveUp(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}
