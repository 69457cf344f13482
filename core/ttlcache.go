package core

import (
	"context"
	"sync"
	"time"
)

// ttlCache keeps what the store said for a while (ttl): a list of items by a
// key, so that a warm request reads no store for it. A change made on this
// instance drops the entry it changes (forget) and is seen at once; one made
// on another instance within ttl, as key metadata is. Bounded in entries
// and in the items they hold: when either is full it starts over.
type ttlCache[K comparable, T any] struct {
	ttl                  time.Duration
	clock                Clock
	maxEntries, maxItems int
	mu                   sync.Mutex
	m                    map[K]ttlEntry[T]
	// held counts the items the entries hold.
	held int
}

type ttlEntry[T any] struct {
	items   []T
	expires time.Time
}

func newTTLCache[K comparable, T any](ttl time.Duration, clock Clock, maxEntries, maxItems int) *ttlCache[K, T] {
	return &ttlCache[K, T]{ttl: ttl, clock: clock, maxEntries: maxEntries, maxItems: maxItems, m: make(map[K]ttlEntry[T])}
}

// get returns a live entry's items.
func (tc *ttlCache[K, T]) get(k K) ([]T, bool) {
	if tc.ttl <= 0 {
		return nil, false
	}
	tc.mu.Lock()
	e, ok := tc.m[k]
	tc.mu.Unlock()
	if !ok || !tc.clock.Now().Before(e.expires) {
		return nil, false
	}
	return e.items, true
}

func (tc *ttlCache[K, T]) put(k K, items []T) {
	if tc.ttl <= 0 {
		return
	}
	e := ttlEntry[T]{items: items, expires: tc.clock.Now().Add(tc.ttl)}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if len(tc.m) >= tc.maxEntries || tc.held+len(items) > tc.maxItems {
		clear(tc.m)
		tc.held = 0
	}
	tc.held += len(items) - len(tc.m[k].items)
	tc.m[k] = e
}

// forget drops an entry.
func (tc *ttlCache[K, T]) forget(k K) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	tc.held -= len(tc.m[k].items)
	delete(tc.m, k)
}

// cached is load through tc: its items, shared (callers read them and never
// change them).
func cached[K comparable, T any](tc *ttlCache[K, T], k K, fresh bool, load func() ([]T, error)) ([]T, error) {
	if items, ok := tc.get(k); ok && !fresh {
		return items, nil
	}
	items, err := load()
	if err != nil {
		return nil, err
	}
	tc.put(k, items)
	return items, nil
}

// grantCacheKey names what the grant cache keeps: a grantee's grants on a
// key. A request a grant allows reads no store, as one its caller's policy
// allows reads none once its key is cached; one that names grant tokens
// reads the store, which is what AWS's tokens are for (AWS's grants take up
// to five minutes to reach every request).
type grantCacheKey struct{ keyID, grantee string }

const (
	maxGrantCacheEntries = 4096
	maxGrantCacheGrants  = 16384
)

// grantsFor is GrantStore.GrantsFor through the cache.
func (s *Service) grantsFor(ctx context.Context, keyID, grantee string, fresh bool) ([]Grant, error) {
	return cached(s.grantCache, grantCacheKey{keyID, grantee}, fresh, func() ([]Grant, error) {
		return s.grants.GrantsFor(ctx, keyID, grantee)
	})
}

// The alias cache keeps each key's alias names (kms:ResourceAliases), by
// key ID; AWS's alias changes take up to five minutes to reach
// authorization.
const (
	maxAliasCacheKeys  = 4096
	maxAliasCacheNames = 16384
)
