package rpc_test

import (
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/bench/load"
	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/edge"
	"github.com/kmsless/kmsless/infra/metrics"
	"github.com/kmsless/kmsless/infra/rpc"
)

// BenchmarkAuditOverheadHTTP drives two like services behind two handlers, one
// whose edge writes every record to a file and counts metrics, one with
// neither, alternating in rounds so both see the same machine. It reports the
// audited throughput as a share of the unaudited (x-audit-off, aim ≥ 0.9) and
// the bytes per record of a GenerateDataKeyWithoutPlaintext with an encryption
// context. Both sides get the same signed bytes, so each has a service (and a
// replay memory) of its own, and the requests name their keys by one alias.
func BenchmarkAuditOverheadHTTP(b *testing.B) {
	quiet := func(s *setup) { s.opts.Logger = slog.New(slog.DiscardHandler) }
	e, other := newEnv(b, quiet), newEnv(b, quiet)
	const keyAlias = "alias/audit-bench"
	e.alias(keyAlias, e.createKey())
	other.alias(keyAlias, other.createKey())
	path := filepath.Join(benchDir(b), "audit.jsonl")
	w, closeSink, err := audit.Sink(path)
	if err != nil {
		b.Fatal(err)
	}
	defer closeSink()
	on := edge.New(nil)
	on.Record(audit.New(w, chainKey), e.kms, metrics.New(nil))
	handler := func(svc *env, ed *edge.Edge) *httptest.Server {
		return httptest.NewServer(rpc.New(rpc.Options{ClockSkew: 15 * time.Minute, MaxBody: 1 << 20, KMS: svc.kms, Principals: svc.dir, Edge: ed}))
	}
	audited, plain := handler(e, on), handler(other, edge.New(nil))
	defer audited.Close()
	defer plain.Close()
	call := load.Call{Action: "GenerateDataKeyWithoutPlaintext",
		Query: url.Values{"KeyId": {keyAlias}, "EncryptionContext": {`{"PartitionId":"p-17"}`}}}
	creds := load.Credentials{AccessKeyID: adminID, Secret: adminSecret}
	// Short rounds, many of them: on a shared machine the load of others
	// shifts within seconds, and both sides must see the same share of it.
	o := load.Options{Rounds: 16, Run: 250 * time.Millisecond,
		Sign: func(n int) *load.Pool { return load.NewPool(n, "kms.bench.local", call, creds) }}
	b.ResetTimer()
	res, err := load.Compare(o, load.Side{Name: "off", Addr: strings.TrimPrefix(plain.URL, "http://")},
		load.Side{Name: "on", Addr: strings.TrimPrefix(audited.URL, "http://")})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	offRes, onRes := res[0], res[1]
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(1e9/onRes.PerSecond(), "ns/op")
	b.ReportMetric(onRes.PerSecond(), "audited-req/s")
	b.ReportMetric(offRes.PerSecond(), "unaudited-req/s")
	b.ReportMetric(onRes.PerSecond()/offRes.PerSecond(), "x-audit-off")
	b.ReportMetric(float64(onRes.Quantile(0.99).Microseconds()), "audited-p99-µs")
	b.ReportMetric(float64(offRes.Quantile(0.99).Microseconds()), "unaudited-p99-µs")
	b.ReportMetric(float64(fi.Size())/float64(onRes.Requests), "bytes/record")
}

// benchDir is where the benchmark's trail goes: KMS_BENCH_AUDIT_DIR (to
// compare disks), or a temporary dir.
func benchDir(b *testing.B) string {
	if d := os.Getenv("KMS_BENCH_AUDIT_DIR"); d != "" {
		d, err := os.MkdirTemp(d, "audit-bench")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	return b.TempDir()
}
