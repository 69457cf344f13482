package redis_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/redis"
	"github.com/kmsless/kmsless/internal/syncbuf"
)

// These tests attack the shared cache as someone who can write Redis but does
// not hold the root key. The in-process cache lives a nanosecond, so every
// request reads Redis.
const readThrough = time.Nanosecond

func aliasEntry(f *fleet, name string) string { return f.prefix + "{a:" + name + "}" }
func keyEntry(f *fleet, id string) string     { return f.prefix + "{k:" + id + "}" }

// versionEntry names the entry of a version of key id: under its key's, with
// the key's creation time, since a key made again under the same IDs is
// another key.
func versionEntry(t *testing.T, f *fleet, id, versionID string) string {
	t.Helper()
	k, err := f.store.GetKey(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return keyEntry(f, id) + ":v:" + versionID + ":" + strconv.FormatInt(k.CreatedAt.Unix(), 10)
}

// plant writes value under name in Redis as an attacker would.
func plant(t *testing.T, name, value string) {
	t.Helper()
	if err := mustClient(t, sharedURL()).Set(context.Background(), name, value, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
}

func entry(t *testing.T, name string) string {
	t.Helper()
	v, err := mustClient(t, sharedURL()).Get(context.Background(), name).Result()
	if err != nil {
		t.Fatalf("no Redis entry %s: %v", name, err)
	}
	return v
}

// keyOf is the key a request through alias went to on n.
func keyOf(t *testing.T, n *node, p *core.Principal, alias string) string {
	t.Helper()
	r, err := n.generate(p, alias)
	if err != nil {
		t.Fatalf("GenerateDataKeyWithoutPlaintext on %s: %v", alias, err)
	}
	return r.KeyId
}

func TestRedisWriterCannotRepointAlias(t *testing.T) {
	f := newFleet(t, fleetConfig{opts: redis.Options{FallbackShare: 0.25, CacheTTL: readThrough}})
	p := principal(0, 0)
	a := f.nodes[0]
	keyA, keyB := a.createKey(t, p), a.createKey(t, p)
	mustCall(t, a, p, "CreateAlias", core.Params{"AliasName": "alias/app-a", "KeyId": keyA})
	mustCall(t, a, p, "CreateAlias", core.Params{"AliasName": "alias/app-b", "KeyId": keyB})
	for _, n := range f.nodes {
		keyOf(t, n, p, "alias/app-a")
		keyOf(t, n, p, "alias/app-b")
	}
	rdb := mustClient(t, sharedURL())
	attacks := []struct {
		name  string
		value func() string
	}{
		// What the cache used to store, naming the attacker's choice of key.
		{"plain JSON naming another key", func() string {
			return `{"name":"alias/app-a","keyId":"` + keyB + `"}`
		}},
		// A genuine entry, tag and all, moved from the alias that points at B.
		// It is made afresh, so that only its name gives it away.
		{"genuine entry of another alias", func() string {
			rdb.Del(context.Background(), aliasEntry(f, "alias/app-b"))
			keyOf(t, a, p, "alias/app-b")
			return entry(t, aliasEntry(f, "alias/app-b"))
		}},
	}
	for _, at := range attacks {
		t.Run(at.name, func(t *testing.T) {
			for i, n := range f.nodes {
				value := at.value()
				plant(t, aliasEntry(f, "alias/app-a"), value)
				forged := n.shared.Cache.Forged()
				if got := keyOf(t, n, p, "alias/app-a"); got != keyA {
					t.Fatalf("instance %d sent alias/app-a to %s after Redis was edited; it points at %s", i, got, keyA)
				}
				if n.shared.Cache.Forged() != forged+1 {
					t.Fatalf("instance %d counted %d forged entries, want 1", i, n.shared.Cache.Forged()-forged)
				}
				if entry(t, aliasEntry(f, "alias/app-a")) == value {
					t.Fatalf("instance %d left the forged entry in Redis", i)
				}
			}
		})
	}
}

// A genuine entry put back under its own name after the state it describes has
// changed: the tag is right, the content is old. Every instance that made or
// heard of the change, or read the new state, refuses it.
func TestReplayedEntryIsRefusedByInstancesThatSawTheChange(t *testing.T) {
	f := newFleet(t, fleetConfig{opts: redis.Options{FallbackShare: 0.25, CacheTTL: readThrough}})
	a, b := f.nodes[0], f.nodes[1]
	p := principal(0, 0)
	type scenario struct {
		entry  string             // the Redis entry to replay
		warm   func(n *node)      // a request that reads it
		change func()             // the change, made on a
		seen   func(n *node) bool // n serves the changed state
	}
	keyCase := func(change func(id string), seen func(n *node, id string) bool) func() scenario {
		return func() scenario {
			id := a.createKey(t, p)
			return scenario{
				entry:  keyEntry(f, id),
				warm:   func(n *node) { keyOf(t, n, p, id) },
				change: func() { change(id) },
				seen:   func(n *node) bool { return seen(n, id) },
			}
		}
	}
	refused := func(want string) func(n *node, id string) bool {
		return func(n *node, id string) bool { _, err := n.generate(p, id); return code(err) == want }
	}
	var newVersion string
	cases := []struct {
		name  string
		setup func() scenario
	}{
		{"disabled key brought back", keyCase(func(id string) {
			mustCall(t, a, p, "DisableKey", core.Params{"KeyId": id})
		}, refused(core.CodeDisabled))},
		{"key pending deletion brought back", keyCase(func(id string) {
			mustCall(t, a, p, "ScheduleKeyDeletion", core.Params{"KeyId": id, "PendingWindowInDays": "7"})
		}, refused(core.CodePendingDeletion))},
		{"old primary version brought back", keyCase(func(id string) {
			r := mustCall(t, a, p, "CreateKeyVersion", core.Params{"KeyId": id})
			newVersion = r.(*alibaba.KeyVersionResponse).KeyVersion.KeyVersionId
		}, func(n *node, id string) bool {
			r, err := n.generate(p, id)
			return err == nil && r.KeyVersionId == newVersion
		})},
		{"moved alias pointed back", func() scenario {
			from, to := a.createKey(t, p), a.createKey(t, p)
			name := "alias/moved-" + strings.ToLower(rand.Text()[:6])
			mustCall(t, a, p, "CreateAlias", core.Params{"AliasName": name, "KeyId": from})
			return scenario{
				entry:  aliasEntry(f, name),
				warm:   func(n *node) { keyOf(t, n, p, name) },
				change: func() { mustCall(t, a, p, "UpdateAlias", core.Params{"AliasName": name, "KeyId": to}) },
				seen:   func(n *node) bool { r, err := n.generate(p, name); return err == nil && r.KeyId == to },
			}
		}},
		{"deleted alias brought back", func() scenario {
			name := "alias/deleted-" + strings.ToLower(rand.Text()[:6])
			mustCall(t, a, p, "CreateAlias", core.Params{"AliasName": name, "KeyId": a.createKey(t, p)})
			return scenario{
				entry:  aliasEntry(f, name),
				warm:   func(n *node) { keyOf(t, n, p, name) },
				change: func() { mustCall(t, a, p, "DeleteAlias", core.Params{"AliasName": name}) },
				seen: func(n *node) bool {
					_, err := n.generate(p, name)
					return code(err) == core.CodeAliasNotFound
				},
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.setup()
			s.warm(a)
			s.warm(b)
			old := entry(t, s.entry)
			s.change()
			within(t, 5*time.Second, "instance B serving the change", func() bool { return s.seen(b) })
			for i, n := range []*node{a, b} {
				plant(t, s.entry, old)
				stale := n.shared.Cache.Stale()
				if !s.seen(n) {
					t.Fatalf("instance %d obeyed a replayed entry from before the change", i)
				}
				if n.shared.Cache.Stale() != stale+1 {
					t.Fatalf("instance %d counted %d stale entries, want 1 (did the request read Redis?)", i, n.shared.Cache.Stale()-stale)
				}
			}
			// The residual: an instance started after the change, which has
			// neither made it, heard of it nor read the new state, cannot tell
			// the replay from the current entry until the entry expires
			// (TestReplayedEntryExpiresAfterSharedTTL).
			plant(t, s.entry, old)
			if late := f.join(sharedURL()); s.seen(late) {
				t.Fatal("an instance started after the change refused the replay: update the README's residual window")
			}
		})
	}
}

// expiry reads the expiry time out of a sealed entry's header.
func expiry(t *testing.T, e string) time.Time {
	t.Helper()
	if len(e) < 17 || e[0] != 1 {
		t.Fatalf("not a sealed entry: %d bytes", len(e))
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64([]byte(e[9:17]))))
}

// Whatever an instance knows, a replayed entry is refused once SharedTTL has
// passed since it was written.
func TestReplayedEntryExpiresAfterSharedTTL(t *testing.T) {
	const shared = time.Second
	f := newFleet(t, fleetConfig{n: 1, opts: redis.Options{FallbackShare: 0.25, CacheTTL: readThrough, SharedTTL: shared}})
	a := f.nodes[0]
	p := principal(0, 0)
	id := a.createKey(t, p)
	keyOf(t, a, p, id)
	old := entry(t, keyEntry(f, id))
	if exp := expiry(t, old); exp.After(time.Now().Add(shared)) {
		t.Fatalf("entry expires at %s, beyond SharedTTL from now", exp)
	}
	mustCall(t, a, p, "DisableKey", core.Params{"KeyId": id})
	for until := expiry(t, old); !time.Now().After(until); {
		time.Sleep(time.Until(until) + time.Millisecond)
	}
	late := f.join(sharedURL())
	plant(t, keyEntry(f, id), old)
	if _, err := late.generate(p, id); code(err) != core.CodeDisabled {
		t.Fatalf("a new instance served an expired replayed entry: %v", err)
	}
	if late.shared.Cache.Stale() != 1 {
		t.Fatalf("stale entries counted: %d, want 1", late.shared.Cache.Stale())
	}
}

// Garbage in Redis is a miss: counted every time, logged once per WarnEvery,
// and never itself logged.
func TestGarbageEntryIsMissCountedAndLoggedOnce(t *testing.T) {
	logs := &syncbuf.Buffer{}
	f := newFleet(t, fleetConfig{n: 1, opts: redis.Options{FallbackShare: 0.25,
		CacheTTL: readThrough, WarnEvery: time.Hour, Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}})
	n := f.nodes[0]
	p := principal(0, 0)
	id := n.createKey(t, p)
	mustCall(t, n, p, "CreateAlias", core.Params{"AliasName": "alias/app-a", "KeyId": id})
	keyOf(t, n, p, "alias/app-a")
	genuine := entry(t, aliasEntry(f, "alias/app-a"))
	marker := "GARBAGE" + rand.Text()
	flipped := []byte(genuine)
	flipped[len(flipped)/2] ^= 1
	garbage := []string{
		marker,
		"\x01" + marker,
		string(flipped),               // one bit of a genuine entry changed
		genuine[:len(genuine)-1],      // truncated
		"\x02" + genuine[1:],          // unknown format
		strings.Repeat("\x01", 17+32), // a header and a zero-length tag's worth
	}
	for i, g := range garbage {
		plant(t, aliasEntry(f, "alias/app-a"), g)
		if got := keyOf(t, n, p, "alias/app-a"); got != id {
			t.Fatalf("garbage %d sent the alias to %s", i, got)
		}
		if got := n.shared.Cache.Forged(); got != uint64(i+1) {
			t.Fatalf("after %d garbage entries Forged() = %d", i+1, got)
		}
	}
	// The key entry too, and a version's.
	plant(t, keyEntry(f, id), marker)
	keyOf(t, n, p, id)
	if got := n.shared.Cache.Forged(); got != uint64(len(garbage)+1) {
		t.Fatalf("a garbage key entry was not counted: Forged() = %d", got)
	}
	out := logs.String()
	if c := strings.Count(out, "failed authentication"); c != 1 {
		t.Fatalf("%d warnings for %d forged entries within WarnEvery, want 1:\n%s", c, len(garbage)+1, out)
	}
	if strings.Contains(out, marker) || strings.Contains(out, genuine[17:40]) {
		t.Fatalf("a log line holds an entry's content:\n%s", out)
	}
}

// Version entries hold root-wrapped material already; their tag still binds
// them to the key and version they name.
func TestVersionEntryMovedToAnotherKeyIsRefused(t *testing.T) {
	f := newFleet(t, fleetConfig{n: 1, opts: redis.Options{FallbackShare: 0.25, CacheTTL: readThrough}})
	n := f.nodes[0]
	p := principal(0, 0)
	id := n.createKey(t, p)
	ct, err := n.generate(p, id)
	if err != nil {
		t.Fatal(err)
	}
	other := n.createKey(t, p)
	otherCT, err := n.generate(p, other)
	if err != nil {
		t.Fatal(err)
	}
	// A fresh instance has no unwrapped versions, so Decrypt reads Redis.
	late := f.join(sharedURL())
	plant(t, versionEntry(t, f, id, ct.KeyVersionId), entry(t, versionEntry(t, f, other, otherCT.KeyVersionId)))
	if _, err := late.call(p, "Decrypt", core.Params{"CiphertextBlob": ct.CiphertextBlob}); err != nil {
		t.Fatalf("Decrypt after a version entry was swapped: %v", err)
	}
	if late.shared.Cache.Forged() != 1 {
		t.Fatalf("Forged() = %d, want 1", late.shared.Cache.Forged())
	}
}

// Invalidation messages are not authenticated; a listener takes nothing from
// one but a name to drop, so a forged message costs a miss and no more.
func TestForgedInvalidationOnlyDropsAName(t *testing.T) {
	f := newFleet(t, fleetConfig{n: 1, opts: redis.Options{FallbackShare: 0.25, CacheTTL: time.Minute}})
	n := f.nodes[0]
	p := principal(0, 0)
	keyA, keyB := n.createKey(t, p), n.createKey(t, p)
	mustCall(t, n, p, "CreateAlias", core.Params{"AliasName": "alias/app-a", "KeyId": keyA})
	keyOf(t, n, p, "alias/app-a")
	rdb := mustClient(t, sharedURL())
	ctx := context.Background()
	for _, msg := range []string{
		"a" + "alias/app-a" + `{"keyId":"` + keyB + `"}`, "k" + keyA, "", "a", "x" + keyB,
		"aalias/app-a\x00" + keyB, string(bytes.Repeat([]byte{0xff}, 4096)),
		"aalias/app-a", // last: once it has dropped the alias, all the others have been handled
	} {
		if err := rdb.Publish(ctx, f.prefix+"invalidate", msg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	n.count.reset()
	within(t, 5*time.Second, "the instance dropping alias/app-a", func() bool {
		if got := keyOf(t, n, p, "alias/app-a"); got != keyA {
			t.Fatalf("after forged invalidations alias/app-a went to %s, want %s", got, keyA)
		}
		return n.count.reset()["mget"] > 0
	})
}
