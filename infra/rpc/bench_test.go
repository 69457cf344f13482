package rpc_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kmsless/kmsless/infra/rpc"
	"github.com/kmsless/kmsless/infra/sign"
	"github.com/kmsless/kmsless/internal/signtest"
)

var loadTime = flag.Duration("rpc.loadtime", 4*time.Second, "total load time per server in BenchmarkGenerateDataKeyWithoutPlaintextHTTP")

// loadClients is the number of concurrent callers of the load generator.
const loadClients = 16

type loadResult struct {
	requests int
	elapsed  time.Duration
	lat      []time.Duration
}

func (r *loadResult) add(o loadResult) {
	r.requests += o.requests
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
}

func (r *loadResult) perSecond() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// quantile of the latencies in microseconds.
func (r *loadResult) quantile(q float64) float64 {
	slices.Sort(r.lat)
	return float64(r.lat[int(q*float64(len(r.lat)-1))].Nanoseconds()) / 1e3
}

// runLoad sends requests from loadClients goroutines over one keep-alive client
// for d, and fails the benchmark on any response but 200.
func runLoad(b *testing.B, client *http.Client, d time.Duration, newRequest func() *http.Request) loadResult {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		total  loadResult
		failed error
	)
	start := time.Now()
	deadline := start.Add(d)
	for range loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) {
				req := newRequest()
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = &statusError{resp.StatusCode}
					}
				}
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					return
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			total.lat = append(total.lat, lat...)
			total.requests += len(lat)
			mu.Unlock()
		}()
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	if failed != nil {
		b.Fatal(failed)
	}
	return total
}

type statusError struct{ status int }

func (e *statusError) Error() string { return http.StatusText(e.status) }

// bareHandler does only what any data-key service must: draw a 32-byte key and
// a nonce, seal the key with AES-GCM and send the sealed bytes back as JSON.
func bareHandler(aead cipher.AEAD) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf [44]byte
		if _, err := rand.Read(buf[:]); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		sealed := aead.Seal(nil, buf[32:], buf[:32], nil)
		body := make([]byte, 0, 24+base64.StdEncoding.EncodedLen(len(sealed)))
		body = append(body, `{"CiphertextBlob":"`...)
		body = base64.StdEncoding.AppendEncode(body, sealed)
		body = append(body, "\"}\n"...)
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		_, _ = w.Write(body)
	})
}

// BenchmarkGenerateDataKeyWithoutPlaintextHTTP drives the real handler and a
// bare rand+seal handler with the same load generator, alternating in rounds so
// both see the same machine, and reports the real handler's req/s, p50 and p99,
// its throughput as a share of the bare handler's (x-bare) and of the same
// handler with signature verification off (x-unverified). Requests to all are
// signed as the SDK signs them (ACS3-HMAC-SHA256).
func BenchmarkGenerateDataKeyWithoutPlaintextHTTP(b *testing.B) {
	e := newEnv(b, func(s *setup) {
		s.opts.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	id := e.createKey()
	block, err := aes.NewCipher(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	bare := httptest.NewServer(bareHandler(aead))
	defer bare.Close()
	// The same service behind a handler that skips signature verification and
	// nonces (it trusts the AccessKeyId), to price verification alone.
	admin := e.dir.Lookup(adminID)
	unverified := httptest.NewServer(rpc.New(rpc.Options{KMS: e.kms, Principals: e.dir,
		Logger: slog.New(slog.DiscardHandler),
		Authenticator: func(*http.Request, url.Values, []byte) (sign.Result, error) {
			return sign.Result{Principal: admin}, nil
		}}))
	defer unverified.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * loadClients, MaxIdleConnsPerHost: 2 * loadClients}}
	defer client.CloseIdleConnections()
	// Both servers get the same signed request, so the difference is only
	// what the handlers do with it.
	signed := func(base string) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, base+"/?KeyId="+id, nil)
			signtest.ACS3(r, "GenerateDataKeyWithoutPlaintext", adminID, adminSecret, time.Now())
			return r
		}
	}
	realRequest, bareRequest, unverifiedRequest := signed(e.srv.URL), signed(bare.URL), signed(unverified.URL)

	const rounds = 4
	var realRes, bareRes, unverifiedRes loadResult
	b.ResetTimer()
	for range rounds {
		bareRes.add(runLoad(b, client, *loadTime/rounds, bareRequest))
		realRes.add(runLoad(b, client, *loadTime/rounds, realRequest))
		unverifiedRes.add(runLoad(b, client, *loadTime/rounds, unverifiedRequest))
	}
	b.StopTimer()
	b.ReportMetric(1e9/realRes.perSecond(), "ns/op")
	b.ReportMetric(realRes.perSecond(), "req/s")
	b.ReportMetric(realRes.quantile(0.50), "p50-µs")
	b.ReportMetric(realRes.quantile(0.99), "p99-µs")
	b.ReportMetric(bareRes.perSecond(), "bare-req/s")
	b.ReportMetric(bareRes.quantile(0.50), "bare-p50-µs")
	b.ReportMetric(bareRes.quantile(0.99), "bare-p99-µs")
	b.ReportMetric(realRes.perSecond()/bareRes.perSecond(), "x-bare")
	b.ReportMetric(unverifiedRes.perSecond(), "unverified-req/s")
	b.ReportMetric(realRes.perSecond()/unverifiedRes.perSecond(), "x-unverified")
}
