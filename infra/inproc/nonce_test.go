package inproc

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

// wallClock reads a fakeClock as a core.Clock.
type wallClock struct{ *fakeClock }

func (c wallClock) Now() time.Time { return time.Unix(0, 0).Add(c.fakeClock.Now()) }

func testNonces() (*Nonces, *fakeClock) {
	clk := newFakeClock()
	return NewNonces(wallClock{clk}), clk
}

func use(t *testing.T, n *Nonces, nonce string, ttl time.Duration, quota int) (bool, error) {
	t.Helper()
	return n.Use(context.Background(), nonce, ttl, quota)
}

func TestNoncesRefuseReplayWithinTTL(t *testing.T) {
	n, clk := testNonces()
	if fresh, err := use(t, n, "p:a", time.Minute, 10); !fresh || err != nil {
		t.Fatalf("first use = %v, %v", fresh, err)
	}
	clk.Advance(59 * time.Second)
	if fresh, err := use(t, n, "p:a", time.Minute, 10); fresh || err != nil {
		t.Errorf("replay within the TTL = %v, %v; want refused", fresh, err)
	}
	if fresh, _ := use(t, n, "p:b", time.Minute, 10); !fresh {
		t.Error("another nonce refused")
	}
	if fresh, _ := use(t, n, "q:a", time.Minute, 10); !fresh {
		t.Error("another principal's equal nonce refused")
	}
}

func TestNoncesExpire(t *testing.T) {
	n, clk := testNonces()
	use(t, n, "p:a", time.Minute, 10)
	clk.Advance(time.Minute)
	if fresh, err := use(t, n, "p:a", time.Minute, 10); !fresh || err != nil {
		t.Fatalf("use after the TTL = %v, %v; want fresh", fresh, err)
	}
	// The second use starts a new window.
	clk.Advance(30 * time.Second)
	if fresh, _ := use(t, n, "p:a", time.Minute, 10); fresh {
		t.Error("replay within the renewed window accepted")
	}
}

func TestNoncesQuotaIsPerPrincipal(t *testing.T) {
	n, clk := testNonces()
	for i := range 3 {
		if fresh, err := use(t, n, fmt.Sprint("flood:", i), time.Minute, 3); !fresh || err != nil {
			t.Fatalf("nonce %d = %v, %v", i, fresh, err)
		}
	}
	clk.Advance(10 * time.Second)
	fresh, err := use(t, n, "flood:overflow", time.Minute, 3)
	var qe *core.NonceQuotaError
	if fresh || !errors.As(err, &qe) {
		t.Fatalf("a nonce beyond the quota = %v, %v; want a NonceQuotaError", fresh, err)
	}
	if qe.RetryAfter != 50*time.Second {
		t.Errorf("RetryAfter = %s, want 50s (until the oldest nonce expires)", qe.RetryAfter)
	}
	// A principal at its quota still has its replays recognized as replays,
	// and costs nobody else anything.
	if fresh, err := use(t, n, "flood:1", time.Minute, 3); fresh || err != nil {
		t.Errorf("replay at the quota = %v, %v; want refused as a replay", fresh, err)
	}
	if fresh, err := use(t, n, "admin:x", time.Minute, 3); !fresh || err != nil {
		t.Errorf("another principal while one is at its quota = %v, %v; want fresh", fresh, err)
	}
	clk.Advance(50 * time.Second)
	if fresh, err := use(t, n, "flood:overflow", time.Minute, 3); !fresh || err != nil {
		t.Errorf("after the live nonces expired = %v, %v; want fresh", fresh, err)
	}
}

// A sweep walks all of a principal's nonces. One at its quota, whose oldest
// nonce expires every millisecond, is swept at most once a second: it is
// refused until then, told when to come back, and admitted again after.
func TestNoncesAtTheQuotaAreSweptAtMostOnceASecond(t *testing.T) {
	n, clk := testNonces()
	const quota = 2000
	for i := range quota {
		if fresh, err := use(t, n, fmt.Sprint("p:", i), 2*time.Second, quota); !fresh || err != nil {
			t.Fatalf("nonce %d = %v, %v", i, fresh, err)
		}
		clk.Advance(time.Millisecond)
	}
	// The first nonce has expired: a sweep makes room for one.
	if fresh, err := use(t, n, "p:a", 2*time.Second, quota); !fresh || err != nil {
		t.Fatalf("at the quota, with a nonce expired = %v, %v; want fresh", fresh, err)
	}
	clk.Advance(time.Millisecond)
	fresh, err := use(t, n, "p:b", 2*time.Second, quota)
	var qe *core.NonceQuotaError
	if fresh || !errors.As(err, &qe) || qe.RetryAfter != 999*time.Millisecond {
		t.Fatalf("at the quota a millisecond after a sweep = %v, %v; want refused until a second after it", fresh, err)
	}
	clk.Advance(qe.RetryAfter)
	for _, nonce := range []string{"p:b", "p:c"} {
		if fresh, err := use(t, n, nonce, 2*time.Second, quota); !fresh || err != nil {
			t.Errorf("%s a second after the sweep = %v, %v; want fresh", nonce, fresh, err)
		}
	}
}

func TestNoncesSweepExpiredEntries(t *testing.T) {
	n, clk := testNonces()
	for i := range 1000 {
		use(t, n, fmt.Sprint("p:", i), time.Second, 0)
	}
	clk.Advance(2 * time.Minute)
	use(t, n, "p:later", time.Second, 0)
	n.mu.Lock()
	size := len(n.by["p"].seen)
	n.mu.Unlock()
	if size != 1 {
		t.Errorf("memory holds %d nonces after the rest expired, want 1", size)
	}
}

func TestNoncesRemember(t *testing.T) {
	n, clk := testNonces()
	n.Remember("p:old", clk.wall().Add(time.Minute))
	if fresh, _ := use(t, n, "p:old", time.Second, 1); fresh {
		t.Error("a remembered nonce accepted")
	}
	if fresh, _ := use(t, n, "q:old", time.Second, 1); !fresh {
		t.Error("another principal's equal nonce refused")
	}
	clk.Advance(time.Minute)
	if fresh, _ := use(t, n, "p:old", time.Second, 1); !fresh {
		t.Error("a remembered nonce refused after it expired")
	}
}

// The memory holds a digest of each nonce, not its text: nonces that differ
// in their last byte, or only by where the principal ends, are told apart.
func TestNoncesAreToldApartByTheirWholeText(t *testing.T) {
	n, _ := testNonces()
	for _, nonce := range []string{"p:a0", "p:a1", "p:a", "pa:1", "p:a:1", "p:"} {
		if fresh, err := use(t, n, nonce, time.Minute, 0); !fresh || err != nil {
			t.Errorf("%q = %v, %v; want fresh", nonce, fresh, err)
		}
	}
	for _, nonce := range []string{"p:a0", "p:a:1", "p:"} {
		if fresh, _ := use(t, n, nonce, time.Minute, 0); fresh {
			t.Errorf("the replay of %q accepted", nonce)
		}
	}
}

func (c *fakeClock) wall() time.Time { return wallClock{c}.Now() }

// BenchmarkNonceMemory reports the heap one remembered nonce costs: 100k
// nonces of 32 hex characters (the SDKs' form) under one principal.
func BenchmarkNonceMemory(b *testing.B) {
	const count = 100_000
	var perNonce float64
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		n := NewNonces(nil)
		for i := range count {
			// Made afresh, as core makes each request's nonce key.
			k := fmt.Sprintf("LTAI5tBench0000000001:%032x", i)
			if _, err := n.Use(context.Background(), k, 30*time.Minute, 0); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perNonce = float64(after.HeapAlloc-before.HeapAlloc) / count
		runtime.KeepAlive(n)
	}
	b.ReportMetric(perNonce, "bytes/nonce")
}

// BenchmarkNonceUse is the cost a request pays for its nonce in memory, with
// a million nonces live (a principal at 1,000 requests a second over a
// 15-minute window) and more as it runs, and the collector's CPU per request
// beside it (gc-ns/op): each request makes 4 KiB of garbage, about what a
// served one makes (bench.BenchmarkServeHTTP), so the collector runs, and
// marks whatever of the nonce memory holds pointers.
func BenchmarkNonceUse(b *testing.B) {
	n := NewNonces(nil)
	ctx := context.Background()
	const live = 1 << 20
	for i := range live {
		n.Use(ctx, benchNonce(i), time.Hour, 0)
	}
	gc := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(gc)
	before := gc[0].Value.Float64()
	i := live
	for b.Loop() {
		garbage = make([]byte, 4096)
		if fresh, err := n.Use(ctx, benchNonce(i), time.Hour, 0); !fresh || err != nil {
			b.Fatal(fresh, err)
		}
		i++
	}
	metrics.Read(gc)
	b.ReportMetric((gc[0].Value.Float64()-before)*1e9/float64(b.N), "gc-ns/op")
	runtime.KeepAlive(n)
}

// garbage is where BenchmarkNonceUse puts a request's worth of garbage.
var garbage []byte

// BenchmarkNonceUseAtTheQuota is the cost of a request's nonce for a
// principal held at its quota of 100,000 live nonces, one expiring as each
// request comes: each op is a millisecond later than the last.
func BenchmarkNonceUseAtTheQuota(b *testing.B) {
	n, clk := testNonces()
	ctx := context.Background()
	const quota = 100_000
	for i := range quota {
		n.Use(ctx, benchNonce(i), quota*time.Millisecond, quota)
		clk.Advance(time.Millisecond)
	}
	i := quota
	for b.Loop() {
		if _, err := n.Use(ctx, benchNonce(i), quota*time.Millisecond, quota); err != nil && !errors.As(err, new(*core.NonceQuotaError)) {
			b.Fatal(err)
		}
		clk.Advance(time.Millisecond)
		i++
	}
}

// benchNonce is a principal's i-th nonce, made afresh as core makes each
// request's nonce key.
func benchNonce(i int) string { return "LTAI5tBench0000000001:" + strconv.FormatInt(int64(i), 16) }
