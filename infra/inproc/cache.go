package inproc

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/kmsless/kmsless/core"
)

// Cache is a core.MetadataCache held in process memory. Key and alias entries
// live for TTL; versions are immutable and live until evicted by size. Concurrent
// misses for one entry cause one load.
type Cache struct {
	ttl time.Duration
	max int
	// now is monotonic, or a test's clock.
	now   func() time.Duration
	group singleflight.Group

	mu       sync.RWMutex
	keys     map[string]*entry[core.Key]
	aliases  map[string]*entry[core.Alias]
	versions map[core.VersionRef]core.KeyVersion
}

// entry is held by pointer and never changed once stored: a hit copies the
// value once, not the whole entry out of the map first.
type entry[T any] struct {
	v       T
	expires time.Duration
}

// NewCache returns a cache whose key and alias entries expire after ttl and which
// holds at most max entries of each kind.
func NewCache(ttl time.Duration, max int) *Cache {
	return &Cache{
		ttl: ttl, max: max, now: monotonic,
		keys:     make(map[string]*entry[core.Key]),
		aliases:  make(map[string]*entry[core.Alias]),
		versions: make(map[core.VersionRef]core.KeyVersion),
	}
}

// lookup returns id's live entry, or nil.
func lookup[T any](c *Cache, m map[string]*entry[T], id string) *entry[T] {
	c.mu.RLock()
	e := m[id]
	c.mu.RUnlock()
	if e == nil || c.now() > e.expires {
		return nil
	}
	return e
}

func store[T any](c *Cache, m map[string]*entry[T], id string, v T) *entry[T] {
	e := &entry[T]{v: v, expires: c.now() + c.ttl}
	c.mu.Lock()
	if len(m) >= c.max {
		clear(m)
	}
	m[id] = e
	c.mu.Unlock()
	return e
}

// load returns id's live entry, calling fn on a miss. It hands back the
// entry, not the value, so that a hit copies the value once, into the
// caller's result.
func load[T any](ctx context.Context, c *Cache, m map[string]*entry[T], prefix, id string, fn func(context.Context, string) (T, error)) (*entry[T], error) {
	if e := lookup(c, m, id); e != nil {
		return e, nil
	}
	r, err, _ := c.group.Do(prefix+id, func() (any, error) {
		v, err := fn(context.WithoutCancel(ctx), id)
		if err != nil {
			return nil, err
		}
		return store(c, m, id, v), nil
	})
	if err != nil {
		return nil, err
	}
	return r.(*entry[T]), nil
}

// Key implements core.MetadataCache.
func (c *Cache) Key(ctx context.Context, id string, fn func(context.Context, string) (core.Key, error)) (core.Key, error) {
	e, err := load(ctx, c, c.keys, "k\x00", id, fn)
	if err != nil {
		return core.Key{}, err
	}
	return e.v, nil
}

// Alias implements core.MetadataCache.
func (c *Cache) Alias(ctx context.Context, name string, fn func(context.Context, string) (core.Alias, error)) (core.Alias, error) {
	e, err := load(ctx, c, c.aliases, "a\x00", name, fn)
	if err != nil {
		return core.Alias{}, err
	}
	return e.v, nil
}

// Version implements core.MetadataCache.
func (c *Cache) Version(ctx context.Context, ref core.VersionRef, fn func(context.Context, string, string) (core.KeyVersion, error)) (core.KeyVersion, error) {
	c.mu.RLock()
	v, ok := c.versions[ref]
	c.mu.RUnlock()
	if ok {
		return v, nil
	}
	r, err, _ := c.group.Do(fmt.Sprintf("v\x00%s\x00%s\x00%d", ref.KeyID, ref.VersionID, ref.KeyCreated), func() (any, error) {
		v, err := fn(context.WithoutCancel(ctx), ref.KeyID, ref.VersionID)
		if err != nil {
			return v, err
		}
		c.mu.Lock()
		if len(c.versions) >= c.max {
			clear(c.versions)
		}
		c.versions[ref] = v
		c.mu.Unlock()
		return v, nil
	})
	return r.(core.KeyVersion), err
}

// InvalidateKey implements core.MetadataCache.
func (c *Cache) InvalidateKey(_ context.Context, id string) {
	c.mu.Lock()
	delete(c.keys, id)
	c.mu.Unlock()
}

// InvalidateAlias implements core.MetadataCache.
func (c *Cache) InvalidateAlias(_ context.Context, name string) {
	c.mu.Lock()
	delete(c.aliases, name)
	c.mu.Unlock()
}
