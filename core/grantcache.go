package core

import (
	"context"
	"sync"
	"time"
)

// grantCache keeps what the store said of grantees' grants for a while, so
// that a request a grant allows reads no store, as one its caller's policy
// allows reads none once its key is cached. A grant made, retired or
// revoked on this instance is seen here at once; one changed on another
// instance within ttl, as key metadata is (AWS's grants take up to five
// minutes). A request that names grant tokens reads the store, which is
// what AWS's tokens are for. Bounded in entries and in grants: when either
// is full it starts over.
type grantCache struct {
	ttl   time.Duration
	clock Clock
	mu    sync.Mutex
	m     map[grantCacheKey]grantCacheEntry
	// held counts the grants the entries hold.
	held int
}

// grantCacheKey names an entry: a grantee's grants on a key.
type grantCacheKey struct{ keyID, grantee string }

type grantCacheEntry struct {
	grants  []Grant
	expires time.Time
}

const (
	maxGrantCacheEntries = 4096
	maxGrantCacheGrants  = 16384
)

func newGrantCache(ttl time.Duration, clock Clock) *grantCache {
	return &grantCache{ttl: ttl, clock: clock, m: make(map[grantCacheKey]grantCacheEntry)}
}

// get returns a live entry.
func (gc *grantCache) get(k grantCacheKey) (grantCacheEntry, bool) {
	if gc.ttl <= 0 {
		return grantCacheEntry{}, false
	}
	gc.mu.Lock()
	e, ok := gc.m[k]
	gc.mu.Unlock()
	if !ok || !gc.clock.Now().Before(e.expires) {
		return grantCacheEntry{}, false
	}
	return e, true
}

func (gc *grantCache) put(k grantCacheKey, e grantCacheEntry) {
	if gc.ttl <= 0 {
		return
	}
	e.expires = gc.clock.Now().Add(gc.ttl)
	gc.mu.Lock()
	defer gc.mu.Unlock()
	if len(gc.m) >= maxGrantCacheEntries || gc.held+len(e.grants) > maxGrantCacheGrants {
		clear(gc.m)
		gc.held = 0
	}
	gc.held += len(e.grants) - len(gc.m[k].grants)
	gc.m[k] = e
}

// forget drops what the cache says of a grantee's grants on a key.
func (gc *grantCache) forget(keyID, grantee string) {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	k := grantCacheKey{keyID, grantee}
	gc.held -= len(gc.m[k].grants)
	delete(gc.m, k)
}

// grantsFor is GrantStore.GrantsFor through the cache. The slice is shared:
// callers read it and never change it.
func (s *Service) grantsFor(ctx context.Context, keyID, grantee string, fresh bool) ([]Grant, error) {
	k := grantCacheKey{keyID, grantee}
	if e, ok := s.grantCache.get(k); ok && !fresh {
		return e.grants, nil
	}
	grants, err := s.grants.GrantsFor(ctx, keyID, grantee)
	if err != nil {
		return nil, err
	}
	s.grantCache.put(k, grantCacheEntry{grants: grants})
	return grants, nil
}
