package audit_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/kmsless/kmsless/infra/audit"
)

// BenchmarkVerify reports how fast a trail verifies, in records per second,
// and the bytes of the Decrypt record it is made of.
func BenchmarkVerify(b *testing.B) {
	const n = 20_000
	var buf bytes.Buffer
	l := audit.New(&buf, testKey)
	for i := range n {
		if err := l.Write(decrypt(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for b.Loop() {
		v := audit.NewVerifier(testKey)
		if err := v.Read("bench", bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
		if problems, _, records := v.Result(); len(problems) != 0 || records != n {
			b.Fatalf("%d problems, %d records", len(problems), records)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(buf.Len())/n, "bytes/record")
}

// BenchmarkWrite is the cost of writing one record (build, chain, encode),
// without the sink's own.
func BenchmarkWrite(b *testing.B) {
	l := audit.New(io.Discard, testKey)
	for b.Loop() {
		if err := l.Write(decrypt(1)); err != nil {
			b.Fatal(err)
		}
	}
}
