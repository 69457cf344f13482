package rpc_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/edge"
	"github.com/kmsless/kmsless/infra/metrics"
	"github.com/kmsless/kmsless/infra/rpc"
	"github.com/kmsless/kmsless/internal/signtest"
)

// BenchmarkAuditOverheadHTTP drives one service behind two handlers, one whose
// edge writes every record to a file and counts metrics, one with neither,
// alternating in rounds so both see the same machine. It reports the audited
// throughput as a share of the unaudited (x-audit-off, aim ≥ 0.9) and the
// bytes per record of a GenerateDataKeyWithoutPlaintext with an encryption
// context.
func BenchmarkAuditOverheadHTTP(b *testing.B) {
	e := newEnv(b, func(s *setup) { s.opts.Logger = slog.New(slog.DiscardHandler) })
	id := e.createKey()
	path := filepath.Join(benchDir(b), "audit.jsonl")
	w, closeSink, err := audit.Sink(path)
	if err != nil {
		b.Fatal(err)
	}
	defer closeSink()
	on := edge.New(nil)
	on.Record(audit.New(w, chainKey), e.kms, metrics.New(nil))
	handler := func(ed *edge.Edge) *httptest.Server {
		return httptest.NewServer(rpc.New(rpc.Options{KMS: e.kms, Principals: e.dir, Edge: ed}))
	}
	audited, plain := handler(on), handler(edge.New(nil))
	defer audited.Close()
	defer plain.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * loadClients, MaxIdleConnsPerHost: 2 * loadClients}}
	defer client.CloseIdleConnections()
	signed := func(base string) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, base+"/?KeyId="+id+"&EncryptionContext=%7B%22PartitionId%22%3A%22p-17%22%7D", nil)
			signtest.ACS3(r, "GenerateDataKeyWithoutPlaintext", adminID, adminSecret, time.Now())
			return r
		}
	}
	// Short rounds, many of them: on a shared machine the load of others
	// shifts within seconds, and both sides must see the same share of it.
	const rounds = 16
	var onRes, offRes loadResult
	b.ResetTimer()
	for range rounds {
		offRes.add(runLoad(b, client, *loadTime/rounds, signed(plain.URL)))
		onRes.add(runLoad(b, client, *loadTime/rounds, signed(audited.URL)))
	}
	b.StopTimer()
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(1e9/onRes.perSecond(), "ns/op")
	b.ReportMetric(onRes.perSecond(), "audited-req/s")
	b.ReportMetric(offRes.perSecond(), "unaudited-req/s")
	b.ReportMetric(onRes.perSecond()/offRes.perSecond(), "x-audit-off")
	b.ReportMetric(onRes.quantile(0.99), "audited-p99-µs")
	b.ReportMetric(offRes.quantile(0.99), "unaudited-p99-µs")
	b.ReportMetric(float64(fi.Size())/float64(onRes.requests), "bytes/record")
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
