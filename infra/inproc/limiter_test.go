package inproc

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

func testLimiter() (*Limiter, *fakeClock) {
	clk := newFakeClock()
	l := NewLimiter()
	l.now = clk.Now
	return l, clk
}

// TestLimiterAdmitsRateTimesTimePlusBurst drives a bucket as hard as it will go
// for three seconds: it admits the burst at once, then the rate.
func TestLimiterAdmitsRateTimesTimePlusBurst(t *testing.T) {
	cases := []struct {
		lim  core.Limit
		over time.Duration
	}{
		{core.PerSecond(10, 5), 3 * time.Second},
		{core.PerSecond(5, 5), 3 * time.Second},
		{core.PerSecond(1000, 1000), 2 * time.Second},
		{core.Limit{Rate: 6, Burst: 2, Period: time.Minute}, 10 * time.Minute},
	}
	for _, c := range cases {
		l, clk := testLimiter()
		admitted := 0
		const steps = 1000
		for i := 0; i <= steps; i++ {
			for {
				r, err := l.Allow(context.Background(), "p", c.lim)
				if err != nil {
					t.Fatal(err)
				}
				if !r.Allowed {
					break
				}
				admitted++
			}
			if i < steps {
				clk.Advance(c.over / steps)
			}
		}
		want := c.lim.Burst + int(float64(c.lim.Rate)*float64(c.over)/float64(c.lim.Period))
		if admitted < want-1 || admitted > want {
			t.Errorf("%+v over %v admitted %d, want %d", c.lim, c.over, admitted, want)
		}
	}
}

func TestLimiterRetryAfterIsWhenTheNextTokenArrives(t *testing.T) {
	l, clk := testLimiter()
	lim := core.PerSecond(4, 1)
	ctx := context.Background()
	if r, _ := l.Allow(ctx, "p", lim); !r.Allowed || r.Remaining != 0 {
		t.Fatalf("first call = %+v", r)
	}
	r, _ := l.Allow(ctx, "p", lim)
	if r.Allowed || r.RetryAfter != 250*time.Millisecond {
		t.Fatalf("second call = %+v, want refused with RetryAfter 250ms", r)
	}
	clk.Advance(r.RetryAfter - time.Millisecond)
	if r2, _ := l.Allow(ctx, "p", lim); r2.Allowed {
		t.Fatal("admitted before RetryAfter")
	} else if r2.RetryAfter <= 0 || r2.RetryAfter > time.Millisecond {
		t.Errorf("RetryAfter just before the token = %v, want about 1ms", r2.RetryAfter)
	}
	clk.Advance(time.Millisecond)
	if r3, _ := l.Allow(ctx, "p", lim); !r3.Allowed {
		t.Errorf("refused at RetryAfter: %+v", r3)
	}
}

func TestLimiterKeepsOneBucketPerKey(t *testing.T) {
	l, _ := testLimiter()
	lim := core.PerSecond(2, 2)
	ctx := context.Background()
	for range 2 {
		if r, _ := l.Allow(ctx, "slow", lim); !r.Allowed {
			t.Fatal("slow refused within its burst")
		}
	}
	if r, _ := l.Allow(ctx, "slow", lim); r.Allowed {
		t.Fatal("slow admitted beyond its burst")
	}
	for i := range 2 {
		if r, _ := l.Allow(ctx, "other", lim); !r.Allowed {
			t.Fatalf("other refused on call %d although its own bucket is full", i)
		}
	}
}

func TestLimiterBucketNeverHoldsMoreThanBurst(t *testing.T) {
	l, clk := testLimiter()
	lim := core.PerSecond(10, 3)
	ctx := context.Background()
	l.Allow(ctx, "p", lim)
	clk.Advance(time.Hour)
	admitted := 0
	for {
		r, _ := l.Allow(ctx, "p", lim)
		if !r.Allowed {
			break
		}
		admitted++
	}
	if admitted != 3 {
		t.Errorf("after an idle hour admitted %d at once, want the burst of 3", admitted)
	}
}

func TestLimiterWithoutRateAdmitsEverything(t *testing.T) {
	l, _ := testLimiter()
	for _, lim := range []core.Limit{{}, {Rate: 0, Burst: 1, Period: time.Second}, {Rate: 5, Burst: 1}} {
		for range 100 {
			if r, _ := l.Allow(context.Background(), "p", lim); !r.Allowed {
				t.Fatalf("%+v refused a call", lim)
			}
		}
	}
}

func TestLimiterAdmitsExactlyTheBurstUnderConcurrency(t *testing.T) {
	l, _ := testLimiter()
	lim := core.PerSecond(50, 50)
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if r, _ := l.Allow(context.Background(), "p", lim); r.Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := admitted.Load(); got != 50 {
		t.Errorf("admitted %d of 800 concurrent calls with the clock stopped, want the burst of 50", got)
	}
}
