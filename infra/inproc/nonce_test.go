package inproc

import (
	"context"
	"errors"
	"fmt"
	"runtime"
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

func TestNoncesRememberAndLive(t *testing.T) {
	n, clk := testNonces()
	exp := clk.wall().Add(time.Minute)
	n.Remember("p:old", exp)
	if fresh, _ := use(t, n, "p:old", time.Second, 1); fresh {
		t.Error("a remembered nonce accepted")
	}
	live := map[string]time.Time{}
	n.Live(func(nonce string, expires time.Time) { live[nonce] = expires })
	if len(live) != 1 || !live["p:old"].Equal(exp) {
		t.Errorf("Live = %v, want p:old until %v", live, exp)
	}
	clk.Advance(time.Minute)
	live = map[string]time.Time{}
	n.Live(func(nonce string, expires time.Time) { live[nonce] = expires })
	if len(live) != 0 {
		t.Errorf("Live after expiry = %v, want none", live)
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

// BenchmarkNonceUse is the cost a request pays for its nonce in memory.
func BenchmarkNonceUse(b *testing.B) {
	n := NewNonces(nil)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if fresh, err := n.Use(ctx, fmt.Sprintf("LTAI5tBench0000000001:%032x", i), 30*time.Minute, 0); !fresh || err != nil {
			b.Fatal(fresh, err)
		}
	}
}
