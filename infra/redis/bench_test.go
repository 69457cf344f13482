package redis_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsless/kmsless/infra/redis"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/rpc"
	"github.com/kmsless/kmsless/infra/sign"
	"github.com/kmsless/kmsless/infra/store/records"
	"github.com/kmsless/kmsless/internal/signtest"
)

// clients is the concurrency of every figure: 16 callers at once.
const clients = 16

// floorScript is the cheapest scripted round trip: the floor a request that
// costs one EVALSHA is measured against.
var floorScript = goredis.NewScript(`return 1`)

// spread runs n calls of op over clients goroutines and returns each call's
// latency and the wall time.
func spread(n int, op func() error) ([]time.Duration, time.Duration, error) {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	lat := make([]time.Duration, n)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				t0 := time.Now()
				if err := op(); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	return lat, time.Since(start), firstErr
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// BenchmarkGenerateDataKeyWithoutPlaintextHTTP is the headline action over HTTP
// on loopback, signed (SignatureVersion 1.0) and verified, throttled and
// replay-checked in the shared Redis, from 16 concurrent clients. In the same run
// it measures two floors: a bare EVALSHA round trip to the same Redis from 16
// clients (floor-ratio is the action's throughput over it), and the same HTTP
// requests served with the in-process cache, limiter and nonces (inproc-ratio:
// what sharing state through Redis costs). redis-writes/req is below
// redis-cmds/req when concurrent requests share pipelines.
func BenchmarkGenerateDataKeyWithoutPlaintextHTTP(b *testing.B) {
	f := newFleet(b, fleetConfig{n: 1, opts: redis.Options{
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}})
	n := f.nodes[0]
	p := principal(100_000_000, 0)
	keyID := n.createKey(b, p)
	viaRedis := httpClient(b, n.kms, p, keyID)
	local, err := core.New(core.Config{
		Store: f.store, Root: f.root,
		Cache: inproc.NewCache(time.Second, 100_000), Limiter: inproc.NewLimiter(), Nonces: inproc.NewNonces(nil),
	})
	if err != nil {
		b.Fatal(err)
	}
	viaInproc := httpClient(b, local, p, keyID)

	rdb := mustClient(b, sharedURL())
	ctx := context.Background()
	floorKey := []string{f.prefix + "{floor}"}
	if err := floorScript.Run(ctx, rdb, floorKey).Err(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	_, floorTime, err := spread(b.N, func() error { return floorScript.Run(ctx, rdb, floorKey).Err() })
	if err != nil {
		b.Fatal(err)
	}
	_, inprocTime, err := spread(b.N, viaInproc)
	if err != nil {
		b.Fatal(err)
	}
	n.count.reset()
	b.StartTimer()
	lat, elapsed, err := spread(b.N, viaRedis)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	slices.Sort(lat)
	rps := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(float64(percentile(lat, 0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(n.count.total.Load())/float64(b.N), "redis-cmds/req")
	b.ReportMetric(float64(n.count.writes.Load())/float64(b.N), "redis-writes/req")
	b.ReportMetric(float64(b.N)/floorTime.Seconds(), "floor-evalsha/s")
	b.ReportMetric(rps*floorTime.Seconds()/float64(b.N), "floor-ratio")
	b.ReportMetric(rps*inprocTime.Seconds()/float64(b.N), "inproc-ratio")
}

// httpClient serves kms over HTTP on loopback, with signatures verified, and
// returns a call of GenerateDataKeyWithoutPlaintext as p, signed afresh.
func httpClient(b *testing.B, kms *core.Service, p *core.Principal, keyID string) func() error {
	const secret = "bench-secret"
	q := *p
	q.Secret = core.NewSecret(secret)
	dir, err := core.NewDirectory([]core.Principal{q})
	if err != nil {
		b.Fatal(err)
	}
	h := rpc.New(rpc.Options{ClockSkew: 15 * time.Minute, MaxBody: 1 << 20, KMS: kms, Principals: dir, Authenticator: func(r *http.Request, params url.Values, body []byte) (sign.Result, error) {
		return sign.Verify(r, params, body, dir, time.Now(), 15*time.Minute)
	}})
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	call := func() error {
		params := signtest.V1("GET", url.Values{
			"Action": {"GenerateDataKeyWithoutPlaintext"}, "Version": {rpc.APIVersion}, "KeyId": {keyID},
		}, q.AccessKeyID, secret, time.Now())
		resp, err := hc.Get(srv.URL + "/?" + params.Encode())
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "CiphertextBlob") {
			return fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		return nil
	}
	if err := call(); err != nil { // warm the cache and a connection
		b.Fatal(err)
	}
	return call
}

// BenchmarkAdmit compares the admission round trips, from 16 concurrent
// callers: this package's one script (GCRA and nonce together, concurrent
// calls sharing pipelines), redis_rate's GCRA followed by SET NX for the nonce
// (what using redis_rate would cost), and redis_rate alone. floor-ratio is each
// against a bare EVALSHA in the same run: shared pipelines save the script
// round trips, not its work in Redis, which a bare EVALSHA does not do.
func BenchmarkAdmit(b *testing.B) {
	f := newFleet(b, fleetConfig{n: 1})
	lim := f.nodes[0].shared.Limiter
	rdb := mustClient(b, sharedURL())
	rr := redis_rate.NewLimiter(rdb)
	ctx := context.Background()
	limit := core.PerSecond(1_000_000_000, 0)
	var seq atomic.Int64
	nonce := func() string { return fmt.Sprintf("LTAIbench:%d", seq.Add(1)) }
	floorKey := []string{f.prefix + "{floor}"}
	floorOp := func() error { return floorScript.Run(ctx, rdb, floorKey).Err() }
	ops := []struct {
		name string
		op   func() error
	}{
		{"script", func() error {
			_, _, err := lim.AllowAndUse(ctx, "LTAIbench", limit, nonce(), time.Minute, 0)
			return err
		}},
		{"redis_rate+setnx", func() error {
			if _, err := rr.Allow(ctx, f.prefix+"{rr}", redis_rate.PerSecond(1_000_000_000)); err != nil {
				return err
			}
			return rdb.SetNX(ctx, f.prefix+"{rr}:n:"+nonce(), "1", time.Minute).Err()
		}},
		{"redis_rate", func() error {
			_, err := rr.Allow(ctx, f.prefix+"{rr}", redis_rate.PerSecond(1_000_000_000))
			return err
		}},
	}
	for _, o := range append(ops, struct {
		name string
		op   func() error
	}{"floor", floorOp}) {
		if err := o.op(); err != nil { // load the scripts
			b.Fatal(err)
		}
	}
	for _, o := range ops {
		b.Run(o.name, func(b *testing.B) {
			b.StopTimer()
			_, floorTime, err := spread(b.N, floorOp)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			_, elapsed, err := spread(b.N, o.op)
			if err != nil {
				b.Fatal(err)
			}
			rate := float64(b.N) / elapsed.Seconds()
			b.ReportMetric(rate, "ops/s")
			b.ReportMetric(float64(b.N)/floorTime.Seconds(), "floor-evalsha/s")
			b.ReportMetric(rate*floorTime.Seconds()/float64(b.N), "floor-ratio")
		})
	}
}

// BenchmarkLoneAdmission is one caller's admission with nothing else in
// flight. In chunks interleaved with it, so both see the same machine, it times a plain
// SET NX through the same client: plain-ns/op is that floor, lone/plain the
// ratio (the script does a little more work in Redis than SET NX, so a ratio
// near 1, not below it, is the healthy figure).
func BenchmarkLoneAdmission(b *testing.B) {
	f := newFleet(b, fleetConfig{n: 1})
	lim := f.nodes[0].shared.Limiter
	ctx := context.Background()
	limit := core.PerSecond(1_000_000_000, 0)
	if _, _, err := lim.AllowAndUse(ctx, "LTAIlone", limit, "LTAIlone:warm", time.Minute, 0); err != nil {
		b.Fatal(err)
	}
	const chunk = 256
	var lone, plain time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; {
		n := min(chunk, b.N-i)
		start := time.Now()
		for j := range n {
			if _, _, err := lim.AllowAndUse(ctx, "LTAIlone", limit, fmt.Sprintf("LTAIlone:a%d", i+j), time.Minute, 0); err != nil {
				b.Fatal(err)
			}
		}
		lone += time.Since(start)
		b.StopTimer()
		start = time.Now()
		for j := range n {
			if _, err := lim.Use(ctx, fmt.Sprintf("LTAIlone:b%d", i+j), time.Minute, 0); err != nil {
				b.Fatal(err)
			}
		}
		plain += time.Since(start)
		b.StartTimer()
		i += n
	}
	b.ReportMetric(float64(plain.Nanoseconds())/float64(b.N), "plain-ns/op")
	b.ReportMetric(float64(lone)/float64(plain), "lone/plain")
}

// BenchmarkCacheEntryCheck is what sealing adds to a cache read that reaches
// Redis, from one caller: a bare GET of a sealed key entry (the floor) and the
// same GET followed by the check made before the entry is trusted (tag,
// expiry, mark, decode). In process, check-ns is the whole check and
// decode-ns the decode alone, which reads paid before entries were sealed;
// added-% is the difference over the bare GET. A read reaches Redis once per
// CacheTTL per entry per instance, not once per request. The README's figure
// for the check names this benchmark.
func BenchmarkCacheEntryCheck(b *testing.B) {
	f := newFleet(b, fleetConfig{n: 1})
	n := f.nodes[0]
	p := principal(0, 0)
	id := n.createKey(b, p)
	if _, err := n.generate(p, id); err != nil {
		b.Fatal(err)
	}
	name := keyEntry(f, id)
	// A loaded machine may stall a GET past the default 200 ms; that says
	// nothing about the check.
	url := sharedURL()
	if strings.Contains(url, "?") {
		url += "&read_timeout=5s"
	} else {
		url += "?read_timeout=5s"
	}
	rdb := mustClient(b, url)
	ctx := context.Background()
	c := n.shared.Cache
	entry, err := rdb.Get(ctx, name).Result()
	if err != nil || !redis.CheckKeyEntry(c, name, entry) {
		b.Fatalf("no genuine entry to read: %v", err)
	}
	b.ReportMetric(float64(len(entry)), "entry-bytes")
	value := []byte(entry[1+8+8 : len(entry)-32]) // header and tag, as seal.go lays them out
	// Four loops alternate in chunks, so that whatever else the machine does
	// weighs on all of them alike.
	const chunk = 500
	var bare, checked, check, decode time.Duration
	for done := 0; done < b.N; done += chunk {
		k := min(chunk, b.N-done)
		t0 := time.Now()
		for range k {
			if err := rdb.Get(ctx, name).Err(); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for range k {
			s, err := rdb.Get(ctx, name).Result()
			if err != nil || !redis.CheckKeyEntry(c, name, s) {
				b.Fatal("entry refused", err)
			}
		}
		t2 := time.Now()
		for range k {
			if !redis.CheckKeyEntry(c, name, entry) {
				b.Fatal("entry refused")
			}
		}
		t3 := time.Now()
		for range k {
			if _, err := records.Decode[core.Key](value); err != nil {
				b.Fatal(err)
			}
		}
		bare, checked = bare+t1.Sub(t0), checked+t2.Sub(t1)
		check, decode = check+t3.Sub(t2), decode+time.Since(t3)
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	b.ReportMetric(per(bare)/1000, "get-µs")
	b.ReportMetric(per(checked)/1000, "get+check-µs")
	b.ReportMetric(per(check), "check-ns")
	b.ReportMetric(per(decode), "decode-ns")
	b.ReportMetric(100*(per(check)-per(decode))/per(bare), "added-%")
}
