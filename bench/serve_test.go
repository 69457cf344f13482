package bench_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmsless/kmsless/bench/floor"
	"github.com/kmsless/kmsless/bench/load"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/platform"
)

// BenchmarkServeHTTP is the api server's own work on one signed
// GenerateDataKeyWithoutPlaintext, on bbolt with the audit trail on (the local
// server as `go run ./functions/api` wires it), against the floor handler
// given the same requests: both are called as net/http calls a handler, on
// requests read with the timer stopped, so neither the network nor the
// client is counted. Chunks of each alternate, so both see the same machine.
// It reports the multiple of the floor (x-floor) and the microseconds spent
// beyond it (µs-over-floor), the figure each server-side fix moves.
func BenchmarkServeHTTP(b *testing.B) {
	dir := b.TempDir()
	env := map[string]string{"KMS_DATA_DIR": dir, "KMS_STORE": "bolt://" + filepath.Join(dir, "kms.db"), "KMS_QPS_PER_USER": "100000000"}
	set, err := config.Read(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	svc, err := config.Wire(context.Background(), set, config.NewLogger(set, io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = svc.Close() })
	kms := platform.API(svc).HTTP
	var dp struct{ AccessKeyID, AccessKeySecret string }
	raw, err := os.ReadFile(filepath.Join(dir, "dev-principal.json"))
	if err == nil {
		err = json.Unmarshal(raw, &dp)
	}
	if err != nil {
		b.Fatal(err)
	}
	creds := load.Credentials{AccessKeyID: dp.AccessKeyID, Secret: dp.AccessKeySecret}
	var created struct{ KeyMetadata struct{ KeyId string } }
	if err := json.Unmarshal(serve(b, kms, load.Sign("kms.bench.local", load.Call{Action: "CreateKey"}, creds)), &created); err != nil {
		b.Fatal(err)
	}
	call := load.Call{Action: "GenerateDataKeyWithoutPlaintext", Query: url.Values{"KeyId": {created.KeyMetadata.KeyId}}}
	serve(b, kms, load.Sign("kms.bench.local", call, creds)) // warms the cache
	bare := floor.Handler()

	// Every request is signed once with its own nonce and read into an
	// http.Request with the timer stopped, a chunk at a time, so that the
	// requests waiting their turn do not swell the heap the collector scans.
	// Each side gets its own copy.
	const chunk = 256
	reqs := make([][2]*http.Request, chunk)
	w := &discard{h: http.Header{}}
	var kmsTime, floorTime time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		b.StopTimer()
		n := min(chunk, b.N-i)
		for j := range n {
			signed := load.Sign("kms.bench.local", call, creds)
			reqs[j] = [2]*http.Request{parse(b, signed), parse(b, signed)}
		}
		b.StartTimer()
		start := time.Now()
		for _, r := range reqs[:n] {
			w.reset()
			kms.ServeHTTP(w, r[0])
			if w.code != http.StatusOK {
				b.Fatalf("status %d: %s", w.code, w.body.Bytes())
			}
		}
		kmsTime += time.Since(start)
		b.StopTimer()
		start = time.Now()
		for _, r := range reqs[:n] {
			w.reset()
			bare.ServeHTTP(w, r[1])
		}
		floorTime += time.Since(start)
		i += n
		b.StartTimer()
	}
	b.ReportMetric(float64(kmsTime)/float64(floorTime), "x-floor")
	b.ReportMetric(float64(kmsTime-floorTime)/float64(b.N)/1e3, "µs-over-floor")
}

// serve runs one raw request through h and returns the body of its 200.
func serve(b *testing.B, h http.Handler, raw []byte) []byte {
	w := &discard{h: http.Header{}}
	w.reset()
	h.ServeHTTP(w, parse(b, raw))
	if w.code != http.StatusOK {
		b.Fatalf("status %d: %s", w.code, w.body.Bytes())
	}
	return w.body.Bytes()
}

func parse(b *testing.B, raw []byte) *http.Request {
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		b.Fatal(err)
	}
	r.RemoteAddr = "127.0.0.1:40000"
	return r
}

// discard is a ResponseWriter that keeps the last response's status and body
// and reuses its buffers, so the writer costs neither side anything.
type discard struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func (d *discard) reset() {
	clear(d.h)
	d.code = 0
	d.body.Reset()
}

func (d *discard) Header() http.Header { return d.h }

func (d *discard) WriteHeader(code int) {
	if d.code == 0 {
		d.code = code
	}
}

func (d *discard) Write(p []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	return d.body.Write(p)
}
