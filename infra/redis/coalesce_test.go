package redis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/redis"
)

// gate records how many admission scripts each write to Redis carries and,
// once armed, holds the first such write until released, so a test can queue
// requests behind a pipeline in flight.
type gate struct {
	armed   atomic.Bool
	holding chan struct{} // closed when the held write arrives
	release chan struct{}
	// second, if set, runs before the second write goes out.
	second func()
	mu     sync.Mutex
	writes []int
}

func newGate() *gate {
	return &gate{holding: make(chan struct{}), release: make(chan struct{})}
}

func (g *gate) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (g *gate) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		g.pass([]goredis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

func (g *gate) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		g.pass(cmds)
		return next(ctx, cmds)
	}
}

func (g *gate) pass(cmds []goredis.Cmder) {
	n := 0
	for _, c := range cmds {
		if strings.HasPrefix(c.Name(), "eval") {
			n++
		}
	}
	if n == 0 || !g.armed.Load() {
		return
	}
	g.mu.Lock()
	g.writes = append(g.writes, n)
	nth := len(g.writes)
	g.mu.Unlock()
	switch {
	case nth == 1:
		close(g.holding)
		<-g.release
	case nth == 2 && g.second != nil:
		g.second()
	}
}

func (g *gate) recorded() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.writes)
}

// gated is one instance's limiter on a client that passes through g.
func gated(t *testing.T, url string, opts redis.Options) (*redis.Limiter, *gate) {
	t.Helper()
	rdb := mustClient(t, url)
	g := newGate()
	rdb.AddHook(g)
	if opts.Prefix == "" {
		opts.Prefix = uniquePrefix(t, url)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.MACKey = bytes.Repeat([]byte{7}, 32) // the limiter does not use it
	sh, err := redis.New(rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sh.Close() })
	return sh.Limiter, g
}

type admitted struct {
	res   core.LimitResult
	fresh bool
	err   error
}

// pending is where a background request's answer lands.
type pending <-chan admitted

// admit runs AllowAndUse in the background.
func admit(ctx context.Context, l *redis.Limiter, user, nonce string) pending {
	out := make(chan admitted, 1)
	go func() {
		res, fresh, err := l.AllowAndUse(ctx, user, core.PerSecond(1_000_000, 0), user+":"+nonce, time.Minute, 0)
		out <- admitted{res, fresh, err}
	}()
	return out
}

// wait returns the answer, or fails the test if the request was stranded.
func (p pending) wait(t *testing.T) admitted {
	t.Helper()
	select {
	case a := <-p:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("a request was stranded: no answer within 10 s")
		return admitted{}
	}
}

// Requests that arrive while a pipeline is in flight go to Redis together, in
// the next write, and each gets its own answer back.
func TestAdmissionsQueuedBehindAPipelineShareTheNextWrite(t *testing.T) {
	queuedShareTheNextWrite(t, sharedURL())
}

// queuedShareTheNextWrite holds one admission's write to the Redis at url,
// queues 15 more behind it, one of them a replay, and checks they go out in
// one write and each gets its own answer.
func queuedShareTheNextWrite(t *testing.T, url string) {
	t.Helper()
	l, g := gated(t, url, redis.Options{})
	ctx := context.Background()
	if _, _, err := l.AllowAndUse(ctx, "LTAIgate", core.PerSecond(1_000_000, 0), "LTAIgate:warm", time.Minute, 0); err != nil {
		t.Fatal(err) // loads the script
	}
	g.armed.Store(true)
	first := admit(ctx, l, "LTAIgate", "n0")
	<-g.holding
	const queued = 15
	answers := make([]pending, queued)
	for i := range answers {
		nonce := fmt.Sprintf("n%d", i+1)
		if i == 7 {
			nonce = "n0" // a replay of the held request's nonce
		}
		answers[i] = admit(ctx, l, "LTAIgate", nonce)
	}
	within(t, 5*time.Second, "15 requests queuing behind the held write", func() bool { return redis.Queued(l) == queued })
	close(g.release)

	if a := first.wait(t); a.err != nil || !a.res.Allowed || !a.fresh {
		t.Fatalf("the held request: %+v", a)
	}
	for i, ch := range answers {
		a := ch.wait(t)
		if a.err != nil || !a.res.Allowed || a.fresh != (i != 7) {
			t.Fatalf("queued request %d: %+v, want allowed and fresh %v", i, a, i != 7)
		}
	}
	if w := g.recorded(); !slices.Equal(w, []int{1, queued}) {
		t.Fatalf("admission scripts per write: %v, want [1 %d]", w, queued)
	}
}

// A Redis that forgot the script (restarted, or SCRIPT FLUSH) answers a
// pipeline with NOSCRIPT: the scripts go again in full, and every request
// still gets its own answer from Redis.
func TestPipelineToARedisThatForgotTheScriptSendsItInFull(t *testing.T) {
	srv := startRedis(t)
	l, g := gated(t, srv.URL, redis.Options{})
	ctx := context.Background()
	if _, _, err := l.AllowAndUse(ctx, "LTAIflush", core.PerSecond(1_000_000, 0), "LTAIflush:warm", time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	g.second = func() {
		if err := srv.client().ScriptFlush(ctx).Err(); err != nil {
			t.Error(err)
		}
	}
	g.armed.Store(true)
	first := admit(ctx, l, "LTAIflush", "n0")
	<-g.holding
	const queued = 6
	answers := make([]pending, queued)
	for i := range answers {
		answers[i] = admit(ctx, l, "LTAIflush", fmt.Sprintf("n%d", i+1))
	}
	within(t, 5*time.Second, "requests queuing behind the held write", func() bool { return redis.Queued(l) == queued })
	close(g.release)
	for _, ch := range append(answers, first) {
		if a := ch.wait(t); a.err != nil || !a.res.Allowed || !a.fresh {
			t.Fatalf("a request: %+v", a)
		}
	}
	if w := g.recorded(); !slices.Equal(w, []int{1, queued, queued}) {
		t.Fatalf("admission scripts per write: %v, want [1 %d %d]: the pipeline, then the same in full", w, queued, queued)
	}
	// Answered by Redis, not by the fallback: every nonce is in Redis.
	keys, err := srv.client().Keys(ctx, "*{p:LTAIflush}:n:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != queued+2 {
		t.Fatalf("Redis holds %d of the %d nonces: %q", len(keys), queued+2, keys)
	}
}

// A request with nothing in flight is sent on its own: sequential requests go
// out one script per write, never held back to be batched with a later one.
// What a lone admission costs against a plain command is a figure, measured by
// BenchmarkLoneAdmission.
func TestLoneAdmissionIsSentOnItsOwn(t *testing.T) {
	l, g := gated(t, sharedURL(), redis.Options{})
	ctx := context.Background()
	limit := core.PerSecond(1_000_000, 0)
	if _, _, err := l.AllowAndUse(ctx, "LTAIlone", limit, "LTAIlone:warm", time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	g.armed.Store(true)
	const requests = 200
	for i := range requests {
		if _, fresh, err := l.AllowAndUse(ctx, "LTAIlone", limit, fmt.Sprintf("LTAIlone:a%d", i), time.Minute, 0); err != nil || !fresh {
			t.Fatalf("request %d: fresh %v, err %v", i, fresh, err)
		}
	}
	if w := g.recorded(); len(w) != requests || slices.Max(w) != 1 {
		t.Fatalf("%d sequential requests went out in writes of %v, want one write each", requests, w)
	}
}

// A caller that gives up while queued gets its context's error at once, and
// its script is never sent: its nonce stays unused for a retry.
func TestCallerGivingUpWhileQueuedIsAnsweredAtOnceAndNotSent(t *testing.T) {
	l, g := gated(t, sharedURL(), redis.Options{})
	ctx := context.Background()
	if _, _, err := l.AllowAndUse(ctx, "LTAIquit", core.PerSecond(1_000_000, 0), "LTAIquit:warm", time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	g.armed.Store(true)
	first := admit(ctx, l, "LTAIquit", "held")
	<-g.holding
	quitCtx, quit := context.WithCancel(ctx)
	quitter := admit(quitCtx, l, "LTAIquit", "gave-up")
	within(t, 5*time.Second, "the first request queuing", func() bool { return redis.Queued(l) == 1 })
	stayer := admit(ctx, l, "LTAIquit", "stayed")
	within(t, 5*time.Second, "the second request queuing", func() bool { return redis.Queued(l) == 2 })
	quit()
	select {
	case a := <-quitter:
		if !errors.Is(a.err, context.Canceled) {
			t.Fatalf("the caller that gave up got %+v, want context.Canceled", a)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the caller that gave up was kept waiting for the pipeline in flight")
	}
	close(g.release)
	for _, ch := range []pending{first, stayer} {
		if a := ch.wait(t); a.err != nil || !a.fresh {
			t.Fatalf("a request that waited: %+v", a)
		}
	}
	if w := g.recorded(); !slices.Equal(w, []int{1, 1}) {
		t.Fatalf("admission scripts per write: %v, want [1 1]: the abandoned one must not be sent", w)
	}
	if _, fresh, err := l.AllowAndUse(ctx, "LTAIquit", core.PerSecond(1_000_000, 0), "LTAIquit:gave-up", time.Minute, 0); err != nil || !fresh {
		t.Fatalf("retrying the abandoned request: fresh %v, err %v; want its nonce unused", fresh, err)
	}
}

// Callers giving up at random moments, queued, leading or in flight, never
// strand the others: every call returns, successes are real, and the
// cancellations are not taken for a Redis outage.
func TestCallersGivingUpAtRandomStrandNobody(t *testing.T) {
	logs := &logBuffer{}
	l, _ := gated(t, sharedURL(), redis.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	limit := core.PerSecond(1_000_000_000, 0)
	var seq, ok, gaveUp atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for range 150 {
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(50+rand.IntN(200))*time.Microsecond)
					_, fresh, err := l.AllowAndUse(ctx, "LTAIrandom", limit, fmt.Sprintf("LTAIrandom:%d", seq.Add(1)), time.Minute, 0)
					cancel()
					switch {
					case err == nil && fresh:
						ok.Add(1)
					case errors.Is(err, context.DeadlineExceeded):
						gaveUp.Add(1)
					default:
						t.Errorf("fresh %v, err %v", fresh, err)
					}
				}
			})
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("callers were stranded: not every call returned")
	}
	t.Logf("%d answered, %d gave up", ok.Load(), gaveUp.Load())
	for i := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, fresh, err := l.AllowAndUse(ctx, "LTAIrandom", limit, fmt.Sprintf("LTAIrandom:after%d", i), time.Minute, 0)
		cancel()
		if err != nil || !fresh {
			t.Fatalf("after the storm: fresh %v, err %v (a deadline means the queue is wedged)", fresh, err)
		}
	}
	if redis.Queued(l) != 0 {
		t.Fatalf("%d admissions left queued", redis.Queued(l))
	}
	if strings.Contains(logs.String(), "redis unreachable") {
		t.Fatalf("callers giving up were taken for an outage:\n%s", logs)
	}
}

// Requests queued behind the pipeline whose failure opens the breaker go to
// the per-instance fallback at once, not through another timeout of their own.
func TestRequestsQueuedWhenTheBreakerOpensAreServedWithoutRedis(t *testing.T) {
	l, g := gated(t, closedPort(t), redis.Options{})
	ctx := context.Background()
	limit := core.PerSecond(1_000_000, 0)
	for i := range 2 { // two of the three failures that open the breaker
		if _, fresh, err := l.AllowAndUse(ctx, "LTAItrip", limit, fmt.Sprintf("LTAItrip:pre%d", i), time.Minute, 0); err != nil || !fresh {
			t.Fatalf("fresh %v, err %v", fresh, err)
		}
	}
	g.armed.Store(true)
	third := admit(ctx, l, "LTAItrip", "third")
	<-g.holding
	const queued = 5
	answers := make([]pending, queued)
	for i := range answers {
		answers[i] = admit(ctx, l, "LTAItrip", fmt.Sprintf("q%d", i))
	}
	within(t, 5*time.Second, "requests queuing behind the failing write", func() bool { return redis.Queued(l) == queued })
	close(g.release)
	for _, ch := range append(answers, third) {
		if a := ch.wait(t); a.err != nil || !a.res.Allowed || !a.fresh {
			t.Fatalf("a request during the outage: %+v, want served from the fallback", a)
		}
	}
	if w := g.recorded(); !slices.Equal(w, []int{1}) {
		t.Fatalf("admission scripts per write: %v, want [1]: the queued ones must not be sent once the breaker is open", w)
	}
}
