package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

// BenchmarkRotateRoot measures a whole root rotation, as rotate-root runs it
// with its default batch: every version re-wrapped, then a pass that finds
// nothing left. Each round rotates the other way, so every round re-wraps all.
//
//	go test -run '^$' -bench RotateRoot -benchtime 5x ./cmd/kmsless
func BenchmarkRotateRoot(b *testing.B) {
	const keys, versions = 200, 5
	b.Run("bolt", func(b *testing.B) {
		benchRotate(b, "bolt://"+filepath.Join(b.TempDir(), "kms.db"), keys, versions)
	})
	b.Run("postgres", func(b *testing.B) {
		benchRotate(b, storetest.PostgresDatabase(b, "kms_rotate_bench_"), keys, versions)
	})
}

func benchRotate(b *testing.B, store string, keys, versions int) {
	d := newDeployment(b, store, keys, versions)
	from, to := d.old, d.new
	total := 0
	for b.Loop() {
		b.StopTimer()
		svc := d.wire(b, to, from)
		b.StartTimer()
		p, err := svc.KMS.RewrapRoot(context.Background(), core.RewrapOptions{})
		b.StopTimer()
		svc.Close()
		b.StartTimer()
		if err != nil || p.Rewrapped != keys*versions {
			b.Fatalf("rewrapped %d of %d: %v", p.Rewrapped, keys*versions, err)
		}
		total += p.Rewrapped
		from, to = to, from
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "versions/s")
}
