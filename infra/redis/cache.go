package redis

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/store/records"
)

// versionTTL is how long Redis keeps a key version. Versions never change, so
// only memory bounds it.
const versionTTL = 24 * time.Hour

// maxPending bounds the invalidations remembered while Redis is unreachable;
// beyond it the shared TTL is the bound.
const maxPending = 10_000

// fillScript stores a freshly loaded value only if no invalidation happened
// since the reader saw the entry missing (the generation is unchanged), so a
// slow reader cannot put back the metadata a concurrent change just replaced.
var fillScript = goredis.NewScript(`
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// invalidateScript bumps the generation, drops the entry and tells every
// instance to drop its in-process copy, in one round trip.
var invalidateScript = goredis.NewScript(`
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`)

// Cache is a core.MetadataCache in three layers: process memory (TTL CacheTTL),
// Redis (TTL SharedTTL) and the store. Concurrent misses on one instance cause
// one Redis lookup and at most one store read. A change invalidates Redis and
// publishes on a channel every instance listens to; an instance that misses the
// message serves the old entry for at most CacheTTL. Entries in Redis are
// sealed (seal.go): one that fails its check is a miss, reloaded from the store
// and overwritten.
type Cache struct {
	rdb     goredis.UniversalClient
	h       *health
	local   *inproc.Cache
	prefix  string
	channel string
	ttl     time.Duration
	seal    sealer
	marks   *marks

	forged, stale atomic.Uint64
	log           *slog.Logger
	warnEvery     time.Duration
	fmu           sync.Mutex
	forgedAt      time.Time
	quiet         int // forgeries not logged since forgedAt

	// pending holds invalidations made while Redis was unreachable, replayed
	// on the next successful call so Redis does not keep serving them.
	npending atomic.Int32
	pmu      sync.Mutex
	pending  map[string]bool
}

func newCache(rdb goredis.UniversalClient, h *health, o Options) *Cache {
	return &Cache{
		rdb: rdb, h: h, local: inproc.NewCache(o.CacheTTL, o.CacheSize),
		prefix: o.Prefix, channel: o.Prefix + "invalidate", ttl: o.SharedTTL,
		seal: sealer{o.MACKey}, marks: newMarks(2 * o.CacheSize),
		log: o.Logger, warnEvery: o.WarnEvery,
		pending: make(map[string]bool),
	}
}

// Forged is how many entries read from Redis failed authentication: not made
// by this deployment, altered, or copied from another name. Each was a miss.
func (c *Cache) Forged() uint64 { return c.forged.Load() }

// Stale is how many genuine entries read from Redis were refused as expired or
// older than a state this instance already knew. Each was a miss. Replays
// count here, and so do a few honest races (an entry read as it expires, a
// fill that crossed a change), so a rise says more than the count.
func (c *Cache) Stale() uint64 { return c.stale.Load() }

// redisKey names an entry. The braces are a Redis Cluster hash tag: an entry and
// its generation live in one slot, so the scripts above may touch both.
func (c *Cache) redisKey(kind byte, name string) string {
	return c.prefix + "{" + string(kind) + ":" + name + "}"
}

// Key implements core.MetadataCache.
func (c *Cache) Key(ctx context.Context, id string, load func(context.Context, string) (core.Key, error)) (core.Key, error) {
	return c.local.Key(ctx, id, func(ctx context.Context, id string) (core.Key, error) {
		return through(ctx, c, kindKey, c.redisKey(kindKey, id), func(ctx context.Context) (core.Key, error) { return load(ctx, id) })
	})
}

// Alias implements core.MetadataCache.
func (c *Cache) Alias(ctx context.Context, name string, load func(context.Context, string) (core.Alias, error)) (core.Alias, error) {
	return c.local.Alias(ctx, name, func(ctx context.Context, name string) (core.Alias, error) {
		return through(ctx, c, kindAlias, c.redisKey(kindAlias, name), func(ctx context.Context) (core.Alias, error) { return load(ctx, name) })
	})
}

// Version implements core.MetadataCache. Versions are immutable, so they need
// no generation and no mark: any genuine copy under the ref's whole name is
// right.
func (c *Cache) Version(ctx context.Context, ref core.VersionRef, load func(context.Context, string, string) (core.KeyVersion, error)) (core.KeyVersion, error) {
	return c.local.Version(ctx, ref, func(ctx context.Context, keyID, versionID string) (core.KeyVersion, error) {
		key := c.redisKey(kindKey, keyID) + ":v:" + versionID + ":" + strconv.FormatInt(ref.KeyCreated, 10)
		if !c.h.allow() {
			return load(ctx, keyID, versionID)
		}
		now := time.Now()
		s, err := c.rdb.Get(ctx, key).Result()
		if err != nil && err != goredis.Nil {
			c.h.fail(err)
			return load(ctx, keyID, versionID)
		}
		c.succeeded(ctx)
		if err == nil {
			if v, ok := accept[core.KeyVersion](c, kindVersion, key, s, now, false); ok {
				return v, nil
			}
		}
		v, err := load(ctx, keyID, versionID)
		if err != nil {
			return v, err
		}
		b, _ := records.Encode(v)
		c.done(ctx, c.rdb.Set(ctx, key, c.seal.seal(kindVersion, key, now, now.Add(versionTTL), b), versionTTL).Err())
		return v, nil
	})
}

// through reads one entry from Redis, or from the store and then into Redis.
// ctx has no cancellation (inproc detaches it), so every error is Redis's.
func through[T core.Key | core.Alias](ctx context.Context, c *Cache, kind byte, key string, load func(context.Context) (T, error)) (T, error) {
	if !c.h.allow() {
		return load(ctx)
	}
	// Taken before the read, so that an entry filled from the load below
	// claims no newer state than the store had.
	now := time.Now()
	gkey := key + ":gen"
	vals, err := c.rdb.MGet(ctx, key, gkey).Result()
	if err != nil {
		c.h.fail(err)
		return load(ctx)
	}
	c.succeeded(ctx)
	if s, ok := vals[0].(string); ok {
		if v, ok := accept[T](c, kind, key, s, now, true); ok {
			return v, nil
		}
	}
	gen, _ := vals[1].(string)
	v, err := load(ctx)
	if err == nil || errors.Is(err, core.ErrNotFound) {
		// The store's answer, found or not, holds as of now: no entry issued
		// earlier may override it (bring back a deleted alias, say).
		c.marks.raise(key, now)
	}
	if err != nil {
		return v, err
	}
	b, _ := records.Encode(v)
	entry := c.seal.seal(kind, key, now, now.Add(c.ttl), b)
	c.done(ctx, fillScript.Run(ctx, c.rdb, []string{key, gkey}, gen, entry, c.ttl.Milliseconds()).Err())
	return v, nil
}

// accept returns the value of an entry read from Redis under key at now if it
// is genuine, unexpired and, when marked, not older than what this instance
// already knows of key. Anything else is a miss.
func accept[T core.Key | core.KeyVersion | core.Alias](c *Cache, kind byte, key, s string, now time.Time, marked bool) (T, bool) {
	var v T
	e, ok := c.seal.open(kind, key, []byte(s))
	if !ok {
		c.forgery(key)
		return v, false
	}
	if !now.Before(e.expires) || (marked && e.issued.Before(c.marks.get(key))) {
		c.stale.Add(1)
		return v, false
	}
	// A genuine entry that does not decode was written by another release.
	v, err := records.Decode[T](e.value)
	if err != nil {
		return v, false
	}
	if marked {
		c.marks.raise(key, e.issued)
	}
	return v, true
}

// forgery counts an entry that failed authentication and warns at most once
// per warnEvery. The entry itself is never logged: its name says where to look.
func (c *Cache) forgery(key string) {
	c.forged.Add(1)
	c.fmu.Lock()
	defer c.fmu.Unlock()
	now := time.Now()
	if !c.forgedAt.IsZero() && now.Sub(c.forgedAt) < c.warnEvery {
		c.quiet++
		return
	}
	c.log.Warn("redis cache entry failed authentication, ignored and reloaded from the store: "+
		"written without this deployment's root key, or by a release that did not seal entries",
		"redis_key", key, "forgeries_since_last_warning", c.quiet+1)
	c.forgedAt, c.quiet = now, 0
}

// InvalidateKey implements core.MetadataCache.
func (c *Cache) InvalidateKey(ctx context.Context, id string) {
	c.invalidate(ctx, kindKey, id)
	c.local.InvalidateKey(ctx, id)
}

// InvalidateAlias implements core.MetadataCache.
func (c *Cache) InvalidateAlias(ctx context.Context, name string) {
	c.invalidate(ctx, kindAlias, name)
	c.local.InvalidateAlias(ctx, name)
}

// invalidate drops an entry in Redis and on every instance. It runs before the
// local drop so that a concurrent local miss cannot refill memory from the old
// Redis entry.
func (c *Cache) invalidate(ctx context.Context, kind byte, name string) {
	ctx = context.WithoutCancel(ctx)
	// The change is stored already: any entry issued before now is older.
	c.marks.raise(c.redisKey(kind, name), time.Now())
	if c.h.allow() {
		err := c.send(ctx, kind, name)
		c.done(ctx, err)
		if err == nil {
			return
		}
	}
	c.pmu.Lock()
	if len(c.pending) < maxPending {
		c.pending[string(kind)+name] = true
		c.npending.Store(int32(len(c.pending)))
	}
	c.pmu.Unlock()
}

func (c *Cache) send(ctx context.Context, kind byte, name string) error {
	key := c.redisKey(kind, name)
	return invalidateScript.Run(ctx, c.rdb, []string{key, key + ":gen"},
		c.ttl.Milliseconds(), c.channel, string(kind)+name).Err()
}

// done records the outcome of a Redis call.
func (c *Cache) done(ctx context.Context, err error) {
	if err != nil {
		c.h.fail(err)
		return
	}
	c.succeeded(ctx)
}

// succeeded records a successful Redis call and replays invalidations that
// could not be sent while Redis was away.
func (c *Cache) succeeded(ctx context.Context) {
	c.h.ok()
	if c.npending.Load() == 0 {
		return
	}
	c.pmu.Lock()
	todo := c.pending
	c.pending = make(map[string]bool)
	c.npending.Store(0)
	c.pmu.Unlock()
	for m := range todo {
		if err := c.send(ctx, m[0], m[1:]); err != nil {
			c.h.fail(err)
			c.pmu.Lock()
			for m := range todo {
				if len(c.pending) < maxPending {
					c.pending[m] = true
				}
			}
			c.npending.Store(int32(len(c.pending)))
			c.pmu.Unlock()
			return
		}
	}
}

// listen drops in-process entries as other instances invalidate them, until
// the subscription is closed. A message is a kind byte (kindKey or kindAlias),
// then the key ID or alias name. Messages are not authenticated, and need not
// be: a listener takes only a name from one and drops it, so a forged message
// costs a miss at worst.
func (c *Cache) listen(msgs <-chan *goredis.Message) {
	for m := range msgs {
		if len(m.Payload) < 2 {
			continue
		}
		// Marking the name refuses entries issued before now: older than
		// the change the message announces.
		kind, name := m.Payload[0], m.Payload[1:]
		switch kind {
		case kindKey:
			c.marks.raise(c.redisKey(kind, name), time.Now())
			c.local.InvalidateKey(context.Background(), name)
		case kindAlias:
			c.marks.raise(c.redisKey(kind, name), time.Now())
			c.local.InvalidateAlias(context.Background(), name)
		}
	}
}
