package redisx

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
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
var fillScript = redis.NewScript(`
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// invalidateScript bumps the generation, drops the entry and tells every
// instance to drop its in-process copy, in one round trip.
var invalidateScript = redis.NewScript(`
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
// message serves the old entry for at most CacheTTL.
type Cache struct {
	rdb     redis.UniversalClient
	h       *health
	local   *inproc.Cache
	prefix  string
	channel string
	ttl     time.Duration

	// pending holds invalidations made while Redis was unreachable, replayed
	// on the next successful call so Redis does not keep serving them.
	npending atomic.Int32
	pmu      sync.Mutex
	pending  map[string]bool
}

func newCache(rdb redis.UniversalClient, h *health, o Options) *Cache {
	return &Cache{
		rdb: rdb, h: h, local: inproc.NewCache(o.CacheTTL, o.CacheSize),
		prefix: o.Prefix, channel: o.Prefix + "invalidate", ttl: o.SharedTTL,
		pending: make(map[string]bool),
	}
}

// Invalidation messages: a kind byte, then the key ID or alias name.
const (
	kindKey   = 'k'
	kindAlias = 'a'
)

// redisKey names an entry. The braces are a Redis Cluster hash tag: an entry and
// its generation live in one slot, so the scripts above may touch both.
func (c *Cache) redisKey(kind byte, name string) string {
	return c.prefix + "{" + string(kind) + ":" + name + "}"
}

// Key implements core.MetadataCache.
func (c *Cache) Key(ctx context.Context, id string, load func(context.Context, string) (core.Key, error)) (core.Key, error) {
	return c.local.Key(ctx, id, func(ctx context.Context, id string) (core.Key, error) {
		return through(ctx, c, c.redisKey(kindKey, id), func(ctx context.Context) (core.Key, error) { return load(ctx, id) })
	})
}

// Alias implements core.MetadataCache.
func (c *Cache) Alias(ctx context.Context, name string, load func(context.Context, string) (core.Alias, error)) (core.Alias, error) {
	return c.local.Alias(ctx, name, func(ctx context.Context, name string) (core.Alias, error) {
		return through(ctx, c, c.redisKey(kindAlias, name), func(ctx context.Context) (core.Alias, error) { return load(ctx, name) })
	})
}

// Version implements core.MetadataCache. Versions are immutable, so they need
// no generation: any stored copy is right.
func (c *Cache) Version(ctx context.Context, keyID, versionID string, load func(context.Context, string, string) (core.KeyVersion, error)) (core.KeyVersion, error) {
	return c.local.Version(ctx, keyID, versionID, func(ctx context.Context, keyID, versionID string) (core.KeyVersion, error) {
		key := c.redisKey(kindKey, keyID) + ":v:" + versionID
		if !c.h.allow() {
			return load(ctx, keyID, versionID)
		}
		s, err := c.rdb.Get(ctx, key).Result()
		if err != nil && err != redis.Nil {
			c.h.fail(err)
			return load(ctx, keyID, versionID)
		}
		c.succeeded(ctx)
		var v core.KeyVersion
		if err == nil && json.Unmarshal([]byte(s), &v) == nil {
			return v, nil
		}
		if v, err = load(ctx, keyID, versionID); err != nil {
			return v, err
		}
		b, _ := json.Marshal(v)
		c.done(ctx, c.rdb.Set(ctx, key, b, versionTTL).Err())
		return v, nil
	})
}

// through reads one entry from Redis, or from the store and then into Redis.
// ctx has no cancellation (inproc detaches it), so every error is Redis's.
func through[T any](ctx context.Context, c *Cache, key string, load func(context.Context) (T, error)) (T, error) {
	if !c.h.allow() {
		return load(ctx)
	}
	gkey := key + ":gen"
	vals, err := c.rdb.MGet(ctx, key, gkey).Result()
	if err != nil {
		c.h.fail(err)
		return load(ctx)
	}
	c.succeeded(ctx)
	if s, ok := vals[0].(string); ok {
		var v T
		// An entry that does not decode (written by another release, say) is
		// a miss and gets overwritten.
		if json.Unmarshal([]byte(s), &v) == nil {
			return v, nil
		}
	}
	gen, _ := vals[1].(string)
	v, err := load(ctx)
	if err != nil {
		return v, err
	}
	b, _ := json.Marshal(v)
	c.done(ctx, fillScript.Run(ctx, c.rdb, []string{key, gkey}, gen, b, c.ttl.Milliseconds()).Err())
	return v, nil
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
// the subscription is closed.
func (c *Cache) listen(msgs <-chan *redis.Message) {
	for m := range msgs {
		if len(m.Payload) < 2 {
			continue
		}
		name := m.Payload[1:]
		switch m.Payload[0] {
		case kindKey:
			c.local.InvalidateKey(context.Background(), name)
		case kindAlias:
			c.local.InvalidateAlias(context.Background(), name)
		}
	}
}
