package redis_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/redis"
)

// Changes made on one instance must reach another: through pub/sub at once, and
// with CacheTTL as the bound. The pub/sub case uses a CacheTTL far above the
// bound, so only the message can explain a quick change.
func TestChangeOnOneInstanceReachesAnotherThroughPubSub(t *testing.T) {
	f := newFleet(t, fleetConfig{opts: redis.Options{FallbackShare: 0.25, CacheTTL: time.Minute}})
	a, b := f.nodes[0], f.nodes[1]
	p := principal(0, 0)
	cases := []struct {
		name   string
		change func(keyID string)
		seen   func(keyID string) bool
	}{
		{"DisableKey", func(id string) {
			mustCall(t, a, p, "DisableKey", core.Params{"KeyId": id})
		}, func(id string) bool {
			_, err := b.generate(p, id)
			return code(err) == core.CodeDisabled
		}},
		{"ScheduleKeyDeletion", func(id string) {
			mustCall(t, a, p, "ScheduleKeyDeletion", core.Params{"KeyId": id, "PendingWindowInDays": "7"})
		}, func(id string) bool {
			_, err := b.generate(p, id)
			return code(err) == core.CodePendingDeletion
		}},
		{"SetKeyPolicy", func(id string) {
			mustCall(t, a, p, "SetKeyPolicy", core.Params{"KeyId": id, "Policy": `{"Version":"1","Statement":[
				{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"},
				{"Effect":"Deny","Principal":"*","Action":"kms:GenerateDataKey*","Resource":"*"}]}`})
		}, func(id string) bool {
			_, err := b.generate(p, id)
			return code(err) == core.CodeNoPermission
		}},
		{"CreateKeyVersion", nil, nil}, // filled below: needs the new version ID
		{"UpdateAlias", nil, nil},
	}
	var newVersion string
	cases[3].change = func(id string) {
		r := mustCall(t, a, p, "CreateKeyVersion", core.Params{"KeyId": id})
		newVersion = r.(*alibaba.KeyVersionResponse).KeyVersion.KeyVersionId
	}
	cases[3].seen = func(id string) bool {
		r, err := b.generate(p, id)
		return err == nil && r.KeyVersionId == newVersion
	}
	other := a.createKey(t, p)
	cases[4].change = func(id string) {
		mustCall(t, a, p, "CreateAlias", core.Params{"KeyId": id, "AliasName": "alias/moving"})
		if _, err := b.generate(p, "alias/moving"); err != nil { // B caches the alias
			t.Fatal(err)
		}
		mustCall(t, a, p, "UpdateAlias", core.Params{"KeyId": other, "AliasName": "alias/moving"})
	}
	cases[4].seen = func(string) bool {
		r, err := b.generate(p, "alias/moving")
		return err == nil && r.KeyId == other
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := a.createKey(t, p)
			if _, err := b.generate(p, id); err != nil { // B caches the key
				t.Fatal(err)
			}
			c.change(id)
			took := within(t, time.Second, "the change reaching instance B", func() bool { return c.seen(id) })
			t.Logf("instance B saw %s after %s", c.name, took)
		})
	}
}

// An instance whose subscription is refused (here by an ACL that denies it every
// channel) still sees a change within CacheTTL: the invalidation removed the
// Redis entry, so its next refresh reads the store.
func TestChangeReachesInstanceWithoutPubSubWithinCacheTTL(t *testing.T) {
	srv := startRedis(t)
	admin := srv.client()
	if err := admin.Do(context.Background(), "ACL", "SETUSER", "deaf", "on", ">pw", "~*", "resetchannels", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	deafURL := "redis://deaf:pw@" + srv.URL[len("redis://"):]
	const ttl = 300 * time.Millisecond
	f := newFleet(t, fleetConfig{url: srv.URL, urls: []string{srv.URL, deafURL}, opts: redis.Options{FallbackShare: 0.25, CacheTTL: ttl}})
	a, b := f.nodes[0], f.nodes[1]
	p := principal(0, 0)
	id := a.createKey(t, p)
	if _, err := b.generate(p, id); err != nil {
		t.Fatal(err)
	}
	mustCall(t, a, p, "DisableKey", core.Params{"KeyId": id})
	took := within(t, ttl+200*time.Millisecond, "the disable reaching the deaf instance", func() bool {
		_, err := b.generate(p, id)
		return code(err) == core.CodeDisabled
	})
	t.Logf("deaf instance refused the disabled key after %s (CacheTTL %s)", took, ttl)
}

// A cold key costs one store read per instance however many requests want it at
// once, and none on an instance that finds it in Redis.
func TestColdKeyReadsStoreOnceAcrossInstances(t *testing.T) {
	f := newFleet(t, fleetConfig{})
	a, b := f.nodes[0], f.nodes[1]
	p := principal(0, 0)
	id := a.createKey(t, p)
	f.store.keyReads.Store(0)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if _, err := a.generate(p, id); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.store.keyReads.Load(); n != 1 {
		t.Fatalf("32 concurrent requests on a cold instance read the key from the store %d times, want 1", n)
	}
	for range 8 {
		if _, err := b.generate(p, id); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.store.keyReads.Load(); n != 1 {
		t.Fatalf("a second instance read the key from the store (%d reads in all); Redis should have served it", n)
	}
}

// A reader that loaded a key just before another instance changed it must not
// write its old copy back into Redis, where every instance would find it.
func TestFillRacingAChangeLeavesNoStaleEntry(t *testing.T) {
	f := newFleet(t, fleetConfig{n: 3})
	a, b, c := f.nodes[0].shared.Cache, f.nodes[1].shared.Cache, f.nodes[2].shared.Cache
	ctx := context.Background()
	old := core.Key{ID: "k1", State: core.KeyEnabled, Revision: 1}
	changed := core.Key{ID: "k1", State: core.KeyDisabled, Revision: 2}
	got, err := a.Key(ctx, "k1", func(context.Context, string) (core.Key, error) {
		// The store read returned the old key; before the reader can cache it,
		// another instance stores a change and invalidates.
		b.InvalidateKey(ctx, "k1")
		return old, nil
	})
	if err != nil || got.Revision != 1 {
		t.Fatalf("the racing reader itself gets what it loaded: %+v, %v", got, err)
	}
	loaded := false
	got, err = c.Key(ctx, "k1", func(context.Context, string) (core.Key, error) {
		loaded = true
		return changed, nil
	})
	if err != nil || !loaded || got.State != core.KeyDisabled {
		t.Fatalf("a third instance got %+v (loaded from store: %v, err %v); want the changed key from the store", got, loaded, err)
	}
}

// Redis holds what the store holds: a key version's wrapped material, never a
// plaintext data key.
func TestRedisHoldsOnlyWrappedMaterial(t *testing.T) {
	f := newFleet(t, fleetConfig{n: 1})
	n := f.nodes[0]
	p := principal(0, 0)
	id := n.createKey(t, p)
	r := mustCall(t, n, p, "GenerateDataKey", core.Params{"KeyId": id})
	dk := r.(*alibaba.DataKeyResponse)
	plain, err := base64.StdEncoding.DecodeString(dk.Plaintext)
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.store.GetVersion(context.Background(), id, dk.KeyVersionId)
	if err != nil {
		t.Fatal(err)
	}
	wrapped := base64.StdEncoding.EncodeToString(v.Wrapped)
	rdb := mustClient(t, sharedURL())
	ctx := context.Background()
	// SCAN, not KEYS: the shared server may hold many other tests' keys, and
	// one KEYS over all of them can outlast the client's read timeout.
	var keys []string
	iter := rdb.Scan(ctx, 0, f.prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	sawWrapped := false
	for _, k := range keys {
		val, err := rdb.Get(ctx, k).Result()
		if err != nil {
			continue // not a string entry
		}
		if strings.Contains(val, dk.Plaintext) || bytes.Contains([]byte(val), plain) {
			t.Fatalf("Redis entry %s holds the plaintext data key", k)
		}
		sawWrapped = sawWrapped || strings.Contains(val, wrapped)
	}
	if !sawWrapped {
		t.Fatalf("no Redis entry among %q holds the wrapped version the store holds", keys)
	}
}

// A version one instance put in Redis reaches another whole, without a
// store read: every field, an imported material's expiry, description and
// pending rotation included.
func TestVersionFromRedisKeepsEveryField(t *testing.T) {
	f := newFleet(t, fleetConfig{n: 2})
	a, b := f.nodes[0].shared.Cache, f.nodes[1].shared.Cache
	ctx := context.Background()
	created := time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)
	want := core.KeyVersion{KeyID: "k1", VersionID: "v2", CreatedAt: created, Wrapped: []byte("wrapped"),
		Digest: []byte("digest"), RootKeyID: "0123456789abcdef", RotationType: core.RotationPending,
		ExpireAt: created.Add(time.Hour), MaterialDescription: "rotation material"}
	if v := reflect.ValueOf(want); slices.ContainsFunc(reflect.VisibleFields(v.Type()), func(f reflect.StructField) bool {
		return v.FieldByIndex(f.Index).IsZero()
	}) {
		t.Fatalf("the test leaves a field of %+v zero", want)
	}
	ref := core.VersionRef{KeyID: want.KeyID, VersionID: want.VersionID, KeyCreated: created.Unix()}
	got, err := a.Version(ctx, ref, func(context.Context, string, string) (core.KeyVersion, error) { return want, nil })
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("the loading instance got %+v, %v; want %+v", got, err, want)
	}
	got, err = b.Version(ctx, ref, func(context.Context, string, string) (core.KeyVersion, error) {
		return core.KeyVersion{}, errors.New("read from the store; Redis should have served it")
	})
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("the other instance got %+v, %v from Redis; want %+v", got, err, want)
	}
}

// Cache reads add round trips only when an instance's in-process entry has
// lapsed: once per key per CacheTTL, one MGET of the entry and its generation,
// beside the admission script. Versions are immutable and stay in memory.
func TestCacheReadsAddOneRoundTripPerKeyPerTTL(t *testing.T) {
	const ttl = time.Second
	f := newFleet(t, fleetConfig{n: 1, opts: redis.Options{FallbackShare: 0.25, CacheTTL: ttl}})
	n := f.nodes[0]
	p := principal(1_000_000, 0)
	id := n.createKey(t, p)
	roundTrip := func() (writes int64, names map[string]int) {
		t.Helper()
		n.count.reset()
		if _, err := n.generate(p, id); err != nil {
			t.Fatal(err)
		}
		writes = n.count.writes.Load()
		return writes, n.count.reset()
	}
	for range 2 { // load the key, its version and the script
		roundTrip()
	}
	if writes, names := roundTrip(); writes != 1 || names["evalsha"] != 1 {
		t.Fatalf("warm request: %d round trips %v, want one evalsha", writes, names)
	}
	time.Sleep(ttl + ttl/4) // the in-process entry lapses
	writes, names := roundTrip()
	if writes != 2 || names["evalsha"] != 1 || names["mget"] != 1 {
		t.Fatalf("first request after CacheTTL: %d round trips %v, want an evalsha and one mget", writes, names)
	}
	if writes, names := roundTrip(); writes != 1 || names["evalsha"] != 1 {
		t.Fatalf("the request after it: %d round trips %v, want one evalsha", writes, names)
	}
}

// laterClock is the system's clock moved on by a test.
type laterClock struct{ by atomic.Int64 }

func (c *laterClock) Now() time.Time { return time.Now().Add(time.Duration(c.by.Load())) }

// A key purged past its deletion date and seeded again under the same IDs
// with other material is another key: an instance started after the seed
// must not take the first key's version from Redis, where an instance that
// served it left it for a day.
func TestAKeySeededAgainTakesNoVersionOfTheFirstFromRedis(t *testing.T) {
	clock := &laterClock{}
	f := newFleet(t, fleetConfig{n: 1, clock: clock})
	p := principal(1000, 1000)
	ctx := context.Background()
	seed := func(b byte) []core.SeedKey {
		return []core.SeedKey{{ID: "key-a", Versions: []core.SeedVersion{{Material: bytes.Repeat([]byte{b}, 32)}}}}
	}
	a := f.nodes[0]
	if _, err := a.kms.Seed(ctx, seed(9)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.generate(p, "key-a"); err != nil { // Redis now holds its version
		t.Fatal(err)
	}
	if _, err := a.call(p, "ScheduleKeyDeletion", core.Params{"KeyId": "key-a", "PendingWindowInDays": "7"}); err != nil {
		t.Fatal(err)
	}
	clock.by.Store(int64(8 * 24 * time.Hour))
	if _, err := a.call(p, "EnableKey", core.Params{"KeyId": "key-a"}); err == nil {
		t.Fatal("EnableKey of a key past its deletion date succeeded")
	}
	if _, err := f.store.GetKey(ctx, "key-a"); err == nil {
		t.Fatal("the key past its deletion date was not purged")
	}

	b := f.join(sharedURL())
	if _, err := b.kms.Seed(ctx, seed(8)); err != nil {
		t.Fatal(err)
	}
	blob, err := b.generate(p, "key-a")
	if err != nil {
		t.Fatal(err)
	}
	bare, err := core.New(core.Config{Store: f.store, Root: f.root, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	for name, svc := range map[string]*core.Service{"the store alone": bare, "the instance that served the first key": a.kms} {
		if _, err := svc.Handle(ctx, &core.Request{ID: "req", Action: "Decrypt", Params: core.Params{"CiphertextBlob": blob.CiphertextBlob}, Caller: p}); err != nil {
			t.Errorf("a blob the seeded key sealed does not open through %s: %v", name, err)
		}
	}
}
