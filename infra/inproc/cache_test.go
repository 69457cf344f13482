package inproc

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

func testCache(ttl time.Duration, max int) (*Cache, *fakeClock) {
	clk := newFakeClock()
	c := NewCache(ttl, max)
	c.now = clk.Now
	return c, clk
}

// keyLoader counts loads and answers with a key whose Revision is the number
// of the load that made it.
type keyLoader struct{ n atomic.Int64 }

func (l *keyLoader) load(id string) func(context.Context, string) (core.Key, error) {
	return func(context.Context, string) (core.Key, error) {
		n := l.n.Add(1)
		return core.Key{ID: id, Revision: n}, nil
	}
}

func TestCacheLoadsOnceForConcurrentMisses(t *testing.T) {
	c, _ := testCache(time.Minute, 100)
	var loads atomic.Int64
	release := make(chan struct{})
	var started, done sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		started.Add(1)
		done.Go(func() {
			started.Done()
			k, err := c.Key(context.Background(), "k1", func(context.Context, string) (core.Key, error) {
				loads.Add(1)
				<-release
				return core.Key{ID: "k1", Description: "loaded"}, nil
			})
			if err == nil && k.Description != "loaded" {
				err = errors.New("wrong key: " + k.Description)
			}
			errs <- err
		})
	}
	started.Wait()
	// Let the callers reach the cache before the one load finishes; any that
	// arrive later find the loaded entry, so the count is one either way.
	time.Sleep(50 * time.Millisecond)
	close(release)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("100 concurrent misses caused %d loads, want 1", n)
	}
}

func TestCacheEntriesExpireAfterTTL(t *testing.T) {
	c, clk := testCache(time.Second, 100)
	var l keyLoader
	ctx := context.Background()
	c.Key(ctx, "k", l.load("k"))
	clk.Advance(time.Second)
	if k, _ := c.Key(ctx, "k", l.load("k")); k.Revision != 1 {
		t.Errorf("at the TTL the entry was reloaded (load %d)", k.Revision)
	}
	clk.Advance(time.Nanosecond)
	if k, _ := c.Key(ctx, "k", l.load("k")); k.Revision != 2 {
		t.Errorf("after the TTL got load %d, want a second load", k.Revision)
	}

	var aliasLoads int
	loadAlias := func(context.Context, string) (core.Alias, error) {
		aliasLoads++
		return core.Alias{Name: "alias/a", KeyID: "k"}, nil
	}
	c.Alias(ctx, "alias/a", loadAlias)
	c.Alias(ctx, "alias/a", loadAlias)
	clk.Advance(2 * time.Second)
	c.Alias(ctx, "alias/a", loadAlias)
	if aliasLoads != 2 {
		t.Errorf("alias loads = %d, want 2 (one cached hit, one after expiry)", aliasLoads)
	}
}

func TestCacheVersionsOutliveTheTTL(t *testing.T) {
	c, clk := testCache(time.Second, 100)
	ctx := context.Background()
	loads := 0
	load := func(context.Context, string, string) (core.KeyVersion, error) {
		loads++
		return core.KeyVersion{KeyID: "k", VersionID: "v"}, nil
	}
	ref := core.VersionRef{KeyID: "k", VersionID: "v", KeyCreated: 1}
	c.Version(ctx, ref, load)
	clk.Advance(time.Hour)
	c.Version(ctx, ref, load)
	if loads != 1 {
		t.Errorf("an immutable version was loaded %d times, want 1", loads)
	}
	// A key made again under the same IDs is another key.
	ref.KeyCreated = 2
	c.Version(ctx, ref, load)
	if loads != 2 {
		t.Errorf("the version of a key made again under its IDs was loaded %d times in all, want 2", loads)
	}
}

func TestCacheInvalidation(t *testing.T) {
	c, _ := testCache(time.Hour, 100)
	var l keyLoader
	ctx := context.Background()
	c.Key(ctx, "k", l.load("k"))
	c.Key(ctx, "other", l.load("other"))
	c.InvalidateKey(ctx, "k")
	if k, _ := c.Key(ctx, "k", l.load("k")); k.Revision != 3 {
		t.Errorf("after InvalidateKey got load %d, want a fresh load", k.Revision)
	}
	if k, _ := c.Key(ctx, "other", l.load("other")); k.Revision != 2 {
		t.Errorf("InvalidateKey dropped another key (load %d)", k.Revision)
	}

	aliasLoads := 0
	loadAlias := func(context.Context, string) (core.Alias, error) {
		aliasLoads++
		return core.Alias{Name: "k", KeyID: "x"}, nil
	}
	c.Alias(ctx, "k", loadAlias)
	c.InvalidateKey(ctx, "k")
	c.Alias(ctx, "k", loadAlias)
	if aliasLoads != 1 {
		t.Errorf("InvalidateKey dropped the alias of the same name")
	}
	c.InvalidateAlias(ctx, "k")
	c.Alias(ctx, "k", loadAlias)
	if aliasLoads != 2 {
		t.Errorf("InvalidateAlias did not drop the alias: %d loads", aliasLoads)
	}
}

func TestCacheDoesNotKeepErrors(t *testing.T) {
	c, _ := testCache(time.Hour, 100)
	ctx := context.Background()
	calls := 0
	load := func(context.Context, string) (core.Key, error) {
		calls++
		if calls == 1 {
			return core.Key{}, core.ErrUnavailable
		}
		return core.Key{ID: "k"}, nil
	}
	if _, err := c.Key(ctx, "k", load); !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("first load error = %v", err)
	}
	if k, err := c.Key(ctx, "k", load); err != nil || k.ID != "k" {
		t.Errorf("after a failed load got %+v, %v; want a new load", k, err)
	}
}

func TestCacheLoadSurvivesTheCallerGivingUp(t *testing.T) {
	c, _ := testCache(time.Hour, 100)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var loadCtxErr error
	_, err := c.Key(ctx, "k", func(lctx context.Context, _ string) (core.Key, error) {
		loadCtxErr = lctx.Err()
		return core.Key{ID: "k"}, nil
	})
	if err != nil || loadCtxErr != nil {
		t.Errorf("a load shared by other callers was cancelled with its first caller: %v, %v", err, loadCtxErr)
	}
}

func TestCacheHoldsAtMostMaxEntries(t *testing.T) {
	c, _ := testCache(time.Hour, 4)
	var l keyLoader
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		c.Key(ctx, id, l.load(id))
	}
	c.mu.RLock()
	n := len(c.keys)
	c.mu.RUnlock()
	if n > 4 {
		t.Errorf("cache holds %d keys, bound is 4", n)
	}
	if k, _ := c.Key(ctx, "g", l.load("g")); k.Revision != 7 {
		t.Errorf("the newest entry was not kept (load %d)", k.Revision)
	}
}

// Callers pass one loader bound once (the store's getter), so the cache must
// hand it the names it is asked for.
func TestCacheLoadsWithTheNamesAsked(t *testing.T) {
	c, _ := testCache(time.Hour, 100)
	ctx := context.Background()
	var got []string
	k, _ := c.Key(ctx, "key-1", func(_ context.Context, id string) (core.Key, error) {
		got = append(got, id)
		return core.Key{ID: id}, nil
	})
	a, _ := c.Alias(ctx, "alias/a", func(_ context.Context, name string) (core.Alias, error) {
		got = append(got, name)
		return core.Alias{Name: name}, nil
	})
	v, _ := c.Version(ctx, core.VersionRef{KeyID: "key-1", VersionID: "v-1"}, func(_ context.Context, keyID, versionID string) (core.KeyVersion, error) {
		got = append(got, keyID+"/"+versionID)
		return core.KeyVersion{KeyID: keyID, VersionID: versionID}, nil
	})
	if want := []string{"key-1", "alias/a", "key-1/v-1"}; !slices.Equal(got, want) {
		t.Errorf("loaders were asked for %q, want %q", got, want)
	}
	if k.ID != "key-1" || a.Name != "alias/a" || v.VersionID != "v-1" {
		t.Errorf("cache answered %+v, %+v, %+v", k, a, v)
	}
}
