package redis_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/redis"
	"github.com/kmsless/kmsless/internal/syncbuf"
)

// load runs workers spread over the fleet's instances, each sending one request
// every interval until stop closes; it returns the number of requests sent and
// the errors they got.
func load(f *fleet, workers int, interval time.Duration, stop <-chan struct{}, req func(n *node) error) (sent int64, errs []error) {
	var (
		mu    sync.Mutex
		total atomic.Int64
		wg    sync.WaitGroup
	)
	for w := range workers {
		n := f.nodes[w%len(f.nodes)]
		wg.Go(func() {
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				total.Add(1)
				if err := req(n); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return total.Load(), errs
}

// Redis dies under load: not one valid request fails. It comes back: the
// instances return to shared nonces and shared buckets by themselves.
func TestKilledRedisFailsNoRequestAndSharingResumes(t *testing.T) {
	srv := startRedis(t)
	logs := &syncbuf.Buffer{}
	f := newFleet(t, fleetConfig{url: srv.URL, opts: redis.Options{CacheTTL: time.Second, FallbackShare: 0.25, Logger: slog.New(slog.NewTextHandler(logs, nil))}})
	a, b := f.nodes[0], f.nodes[1]
	p := principal(1000, 0)
	id := a.createKey(t, p)

	stop := make(chan struct{})
	var outageServed atomic.Int64
	var down atomic.Bool
	go func() {
		time.Sleep(600 * time.Millisecond)
		srv.kill()
		down.Store(true)
		time.Sleep(800 * time.Millisecond)
		srv.start()
		down.Store(false)
		time.Sleep(600 * time.Millisecond)
		close(stop)
	}()
	sent, errs := load(f, 4, 15*time.Millisecond, stop, func(n *node) error {
		_, err := n.generate(p, id)
		if err == nil && down.Load() {
			outageServed.Add(1)
		}
		return err
	})
	if len(errs) > 0 {
		t.Fatalf("%d of %d requests failed across a Redis crash; first: %v", len(errs), sent, errs[0])
	}
	if outageServed.Load() == 0 {
		t.Fatal("no request was served while Redis was down; the test did not exercise the outage")
	}
	t.Logf("%d requests, %d of them while Redis was down, none failed", sent, outageServed.Load())

	took := within(t, 5*time.Second, "nonces shared again after the restart", func() bool {
		nonce := rand.Text()
		if _, err := a.callNonce(p, nonce, "DescribeKey", core.Params{"KeyId": id}); err != nil {
			t.Fatal(err)
		}
		_, err := b.callNonce(p, nonce, "DescribeKey", core.Params{"KeyId": id})
		return code(err) == core.CodeSignatureNonceUsed
	})
	t.Logf("shared nonces resumed %s after the checks began", took)

	// With per-instance fallback buckets two instances would admit 2 × 25% of
	// the burst; one shared bucket admits the burst.
	const qps, burst = 10, 40
	q := principal(qps, burst)
	var admitted atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for _, n := range f.nodes {
		for range burst {
			wg.Go(func() {
				if _, err := n.call(q, "ListKeys", nil); err == nil {
					admitted.Add(1)
				}
			})
		}
	}
	wg.Wait()
	ceiling := int64(burst + qps*time.Since(start).Seconds() + 1)
	if got := admitted.Load(); got < burst || got > ceiling {
		t.Fatalf("after the restart a burst of %d from two instances admitted %d, want %d to %d (one shared bucket)", 2*burst, got, burst, ceiling)
	}
	if !strings.Contains(logs.String(), "redis unreachable") || !strings.Contains(logs.String(), "redis reachable again") {
		t.Fatalf("the outage and the recovery were not logged:\n%s", logs)
	}
}

// FLUSHALL under load loses nothing: Redis is never the only copy, so every
// ciphertext made before, during and after still decrypts.
func TestFlushAllMidLoadLosesNothing(t *testing.T) {
	srv := startRedis(t)
	f := newFleet(t, fleetConfig{url: srv.URL})
	p := principal(1000, 0)
	id := f.nodes[0].createKey(t, p)
	mustCall(t, f.nodes[1], p, "CreateAlias", core.Params{"KeyId": id, "AliasName": "alias/flushed"})

	type pair struct{ plain, blob string }
	var (
		mu    sync.Mutex
		pairs []pair
	)
	stop := make(chan struct{})
	go func() {
		for range 2 {
			time.Sleep(400 * time.Millisecond)
			if err := srv.client().FlushAll(context.Background()).Err(); err != nil {
				t.Error(err)
			}
		}
		time.Sleep(400 * time.Millisecond)
		close(stop)
	}()
	sent, errs := load(f, 4, 10*time.Millisecond, stop, func(n *node) error {
		r, err := n.call(p, "GenerateDataKey", core.Params{"KeyId": "alias/flushed"})
		if err != nil {
			return err
		}
		dk := r.(*alibaba.DataKeyResponse)
		mu.Lock()
		pairs = append(pairs, pair{dk.Plaintext, dk.CiphertextBlob})
		mu.Unlock()
		return nil
	})
	if len(errs) > 0 {
		t.Fatalf("%d of %d requests failed across FLUSHALL; first: %v", len(errs), sent, errs[0])
	}
	for i, pr := range pairs {
		r, err := f.nodes[i%2].call(p, "Decrypt", core.Params{"CiphertextBlob": pr.blob})
		if err != nil {
			t.Fatalf("ciphertext %d of %d no longer decrypts: %v", i, len(pairs), err)
		}
		if r.(*alibaba.DecryptResponse).Plaintext != pr.plain {
			t.Fatalf("ciphertext %d decrypted to a different data key", i)
		}
	}
	t.Logf("%d data keys made across two FLUSHALLs, all decrypt", len(pairs))
}

// blackhole accepts connections and never answers, like a Redis that hangs.
func blackhole(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	return "redis://" + l.Addr().String() + "/0"
}

// A Redis that hangs costs a timeout only until the breaker opens: then no
// request tries it until the next probe (RetryEvery, an hour here, so none in
// this test). Counted in commands sent, not in time: a request that sends
// nothing cannot wait for the hung server.
func TestHungRedisDelaysOnlyAFewRequests(t *testing.T) {
	f := newFleet(t, fleetConfig{url: blackhole(t), n: 1, opts: redis.Options{CacheTTL: time.Second, FallbackShare: 0.25, RetryEvery: time.Hour}})
	n := f.nodes[0]
	p := principal(1_000_000, 0)
	id := n.createKey(t, p)
	n.count.reset()
	const requests = 300
	for range requests {
		if _, err := n.generate(p, id); err != nil {
			t.Fatal(err)
		}
	}
	// HELLO is the client's handshake on each new connection, not a request's
	// command.
	sent := n.count.reset()
	delete(sent, "hello")
	if total := sumValues(sent); total > 3 {
		t.Fatalf("%d requests against a hung Redis sent it %d commands (%v), want at most 3: the breaker did not stop them", requests, total, sent)
	}
}

func sumValues(m map[string]int) int {
	total := 0
	for _, v := range m {
		total += v
	}
	return total
}

// closedPort is an address where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "redis://" + addr + "/0"
}

func TestOutageWarnsOncePerInterval(t *testing.T) {
	logs := &syncbuf.Buffer{}
	f := newFleet(t, fleetConfig{url: closedPort(t), n: 1, opts: redis.Options{CacheTTL: time.Second, FallbackShare: 0.25,
		Logger:     slog.New(slog.NewTextHandler(logs, nil)),
		RetryEvery: 5 * time.Millisecond, // probe often: many failures, still one warning
	}})
	n := f.nodes[0]
	p := principal(0, 0)
	id := n.createKey(t, p)
	for range 100 {
		if _, err := n.generate(p, id); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	if c := strings.Count(logs.String(), "redis unreachable"); c != 1 {
		t.Fatalf("100 requests over an outage logged %d warnings, want 1:\n%s", c, logs)
	}
}

// Without Redis an instance admits its share of the limit and remembers nonces
// itself.
func TestOutageFallsBackToShareOfLimitAndLocalNonces(t *testing.T) {
	f := newFleet(t, fleetConfig{url: closedPort(t), n: 1, opts: redis.Options{CacheTTL: time.Second, FallbackShare: 0.25}})
	n := f.nodes[0]
	const burst = 100
	p := principal(10, burst)
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range burst {
		wg.Go(func() {
			if _, err := n.call(p, "ListKeys", nil); err == nil {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if got := admitted.Load(); got < burst/4 || got > burst/4+1 {
		t.Fatalf("a burst of %d admitted %d without Redis, want %d (25%%)", burst, got, burst/4)
	}
	q := principal(0, 0)
	if _, err := n.callNonce(q, "once", "ListKeys", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := n.callNonce(q, "once", "ListKeys", nil); code(err) != core.CodeSignatureNonceUsed {
		t.Fatalf("a replay without Redis got %q, want %s", code(err), core.CodeSignatureNonceUsed)
	}
}

// With the key store's nonces as the fallback, a replay stays refused across
// instances while Redis is unreachable.
func TestOutageFallsBackToTheGivenNonceStore(t *testing.T) {
	shared := inproc.NewNonces(nil) // stands for the store's nonces, which every instance reaches
	f := newFleet(t, fleetConfig{url: closedPort(t), n: 2, opts: redis.Options{CacheTTL: time.Second, FallbackShare: 0.25, FallbackNonces: shared}})
	p := principal(0, 0)
	if _, err := f.nodes[0].callNonce(p, "once", "ListKeys", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.nodes[1].callNonce(p, "once", "ListKeys", nil); code(err) != core.CodeSignatureNonceUsed {
		t.Fatalf("a replay to another instance without Redis got %q, want %s", code(err), core.CodeSignatureNonceUsed)
	}
}
