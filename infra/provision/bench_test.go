package provision_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/provision"
	"github.com/kmsless/kmsless/infra/store/bolt"
	"github.com/kmsless/kmsless/infra/store/postgres"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

// BenchmarkDecode prices reading a trigger's event before any partition in it
// is checked: each sample under events/, and a direct invocation of 100
// partitions.
func BenchmarkDecode(b *testing.B) {
	events := map[string][]byte{"direct-100-partitions": directEvent(b, "bench", 0, 100)}
	for _, file := range samples(b) {
		raw, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		events[filepath.Base(filepath.Dir(file))+"/"+filepath.Base(file)] = raw
	}
	for _, name := range slices.Sorted(maps.Keys(events)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := provision.Decode(events[name], "alias/partitions"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchWorkers is the provisioner's default concurrency; the floor runs at the
// same concurrency so the ratio compares like with like.
const benchWorkers = provision.DefaultWorkers

// BenchmarkProvisionPartitions measures partitions provisioned per second
// through the direct path (one direct invocation of b.N partitions, decoded and
// provisioned by 8 workers) on the embedded and on the shared store. As a floor
// it times b.N GenerateDataKeyWithoutPlaintext calls through Service.Handle on
// the same service and store, from the same number of goroutines, and reports
// partition/gdkwp: what one provisioned partition costs in units of one
// GenerateDataKeyWithoutPlaintext (the difference is the existence check and
// the durable conditional create).
func BenchmarkProvisionPartitions(b *testing.B) {
	b.Run("store=bolt", func(b *testing.B) {
		store, err := bolt.Open(filepath.Join(b.TempDir(), "kms.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = store.Close() })
		benchProvision(b, store)
	})
	b.Run("store=postgres", func(b *testing.B) {
		benchProvision(b, freshPostgres(b))
	})
}

var benchRun atomic.Int64

func benchProvision(b *testing.B, store storetest.Store) {
	e := newEnvOnCached(b, store)
	p := e.provisioner_(provision.Options{Workers: benchWorkers})
	ctx := context.Background()
	prefix := fmt.Sprintf("bench%d", benchRun.Add(1))
	raw := directEvent(b, prefix, 0, b.N)

	b.ResetTimer()
	start := time.Now()
	resp, err := p.Handle(ctx, raw)
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if rep := resp.(provision.Report); rep.Created != b.N {
		b.Fatalf("counts %+v, want %d created", rep.Counts, b.N)
	}

	floor := gdkwpFloor(b, e, b.N)
	perPartition := elapsed.Seconds() / float64(b.N)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "partitions/s")
	b.ReportMetric(1/floor, "gdkwp/s")
	b.ReportMetric(perPartition/floor, "partition/gdkwp")
}

// gdkwpFloor returns the seconds per GenerateDataKeyWithoutPlaintext with n
// calls spread over benchWorkers goroutines.
func gdkwpFloor(b *testing.B, e *env, n int) float64 {
	ctx := context.Background()
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range benchWorkers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				_, err := e.kms.Handle(ctx, &core.Request{ID: "r", Action: "GenerateDataKeyWithoutPlaintext",
					Params: core.Params{"KeyId": "alias/partitions", "EncryptionContext": `{"PartitionId":"floor"}`}, Caller: e.provisioner})
				if err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	return elapsed.Seconds() / float64(n)
}

// newEnvOnCached wires the service as configuration does in production: with
// the in-process metadata cache in front of the store.
func newEnvOnCached(b *testing.B, store storetest.Store) *env {
	b.Helper()
	raw, err := core.GenerateRootKey()
	if err != nil {
		b.Fatal(err)
	}
	root, err := core.NewRootKey(raw)
	clear(raw)
	if err != nil {
		b.Fatal(err)
	}
	kms, err := core.New(core.Config{Store: store, Partitions: store, Root: root, Cache: inproc.NewCache(time.Second, 100_000)})
	if err != nil {
		b.Fatal(err)
	}
	return newEnvWith(b, kms, store)
}

// freshPostgres opens the store on a database of its own on the test server,
// dropped afterwards.
func freshPostgres(b *testing.B) storetest.Store {
	b.Helper()
	store, err := postgres.Open(context.Background(), storetest.PostgresDatabase(b, "kms_provision_bench_"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	return store
}
