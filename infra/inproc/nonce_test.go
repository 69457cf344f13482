package inproc

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

func testNonces(max int) (*Nonces, *fakeClock) {
	clk := newFakeClock()
	n := NewNonces(max)
	n.now = clk.Now
	return n, clk
}

func use(t *testing.T, n *Nonces, nonce string, ttl time.Duration) (bool, error) {
	t.Helper()
	return n.Use(context.Background(), nonce, ttl)
}

func TestNoncesRefuseReplayWithinTTL(t *testing.T) {
	n, clk := testNonces(10)
	if fresh, err := use(t, n, "a", time.Minute); !fresh || err != nil {
		t.Fatalf("first use = %v, %v", fresh, err)
	}
	clk.Advance(59 * time.Second)
	if fresh, err := use(t, n, "a", time.Minute); fresh || err != nil {
		t.Errorf("replay within the TTL = %v, %v; want refused", fresh, err)
	}
	if fresh, _ := use(t, n, "b", time.Minute); !fresh {
		t.Error("another nonce refused")
	}
}

func TestNoncesExpire(t *testing.T) {
	n, clk := testNonces(10)
	use(t, n, "a", time.Minute)
	clk.Advance(time.Minute)
	if fresh, err := use(t, n, "a", time.Minute); !fresh || err != nil {
		t.Fatalf("use after the TTL = %v, %v; want fresh", fresh, err)
	}
	// The second use starts a new window.
	clk.Advance(30 * time.Second)
	if fresh, _ := use(t, n, "a", time.Minute); fresh {
		t.Error("replay within the renewed window accepted")
	}
}

func TestNoncesRefuseNewWhenFullOfLiveOnes(t *testing.T) {
	n, clk := testNonces(3)
	for i := range 3 {
		if fresh, err := use(t, n, fmt.Sprint(i), time.Minute); !fresh || err != nil {
			t.Fatalf("nonce %d = %v, %v", i, fresh, err)
		}
	}
	fresh, err := use(t, n, "overflow", time.Minute)
	if fresh || !errors.Is(err, ErrFull) || !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("a nonce beyond the bound = %v, %v; want ErrFull (unavailable)", fresh, err)
	}
	// A full memory still recognizes a replay as a replay rather than
	// forgetting it.
	if fresh, err := use(t, n, "1", time.Minute); fresh || err != nil {
		t.Errorf("replay while full = %v, %v; want refused as a replay", fresh, err)
	}
	clk.Advance(time.Minute)
	if fresh, err := use(t, n, "overflow", time.Minute); !fresh || err != nil {
		t.Errorf("after the live nonces expired = %v, %v; want fresh", fresh, err)
	}
}

func TestNoncesSweepExpiredEntries(t *testing.T) {
	n, clk := testNonces(1 << 20)
	for i := range 1000 {
		use(t, n, fmt.Sprint(i), time.Second)
	}
	clk.Advance(2 * time.Minute)
	use(t, n, "later", time.Second)
	n.mu.Lock()
	size := len(n.seen)
	n.mu.Unlock()
	if size != 1 {
		t.Errorf("memory holds %d nonces after the rest expired, want 1", size)
	}
}
