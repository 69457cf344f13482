package storetest

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
)

// benchKeys is how many keys the read benchmarks spread over: enough to leave
// one hot record behind, few enough to set up in well under a second.
const benchKeys = 300

// Bench measures the hot-path reads (GetKey, GetVersion, GetSecret of a
// secret of ten versions, and GetGrant and GrantsFor of a key with one grant
// for the caller among others) and the common writes
// (CreateKey, UpdateKey), each from one goroutine ("serial") and from
// GOMAXPROCS goroutines ("parallel"). Besides ns/op it reports ops/s: for the
// parallel runs that is the store's throughput, not one caller's latency.
// open must return a new, empty store; Bench closes it.
func Bench(b *testing.B, open func(b *testing.B) Store) {
	s := open(b)
	b.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()

	ids := make([]string, benchKeys)
	versions := make([]string, benchKeys)
	for i := range ids {
		k := newKey(fmt.Sprintf("key-bench-%04d", i), at(i))
		v := newVersion(k.ID, k.PrimaryVersionID, k.CreatedAt)
		if err := s.CreateKey(ctx, k, v); err != nil {
			b.Fatalf("CreateKey: %v", err)
		}
		ids[i], versions[i] = k.ID, v.VersionID
	}

	// A secret as GetSecretValue reads it: ten versions of a sealed 1 KiB
	// value, read whole.
	secret := newSecret("bench/secret", t0)
	for i := range 10 {
		secret.Versions = append(secret.Versions, core.SecretVersion{ID: fmt.Sprint("v", i), CreatedAt: at(i), DataType: "text", Sealed: make([]byte, 1100)})
	}
	secret.Stages = map[string]string{"ACSCurrent": "v9", "ACSPrevious": "v8"}
	if err := s.CreateSecret(ctx, secret); err != nil {
		b.Fatalf("CreateSecret: %v", err)
	}

	// Each key holds a grant for the grantee asked about and one for
	// another, as a key shared by two callers does.
	grants := make([]string, benchKeys)
	for i, id := range ids {
		k := core.Key{ID: id, CreatedAt: at(i)}
		for _, grantee := range []string{"bench-grantee", "bench-other"} {
			g := newGrant(k, grantID(id+"/"+grantee), grantee)
			if err := s.CreateGrant(ctx, g); err != nil {
				b.Fatalf("CreateGrant: %v", err)
			}
			if grantee == "bench-grantee" {
				grants[i] = g.ID
			}
		}
	}

	var created atomic.Int64
	ops := map[string]func(worker, i int) error{
		"GetGrant": func(_, i int) error {
			_, err := s.GetGrant(ctx, ids[i%benchKeys], grants[i%benchKeys])
			return err
		},
		"GrantsFor": func(_, i int) error {
			gs, err := s.GrantsFor(ctx, ids[i%benchKeys], "bench-grantee")
			if err == nil && len(gs) != 1 {
				err = fmt.Errorf("%d grants, want 1", len(gs))
			}
			return err
		},
		"GetSecret": func(_, _ int) error {
			_, err := s.GetSecret(ctx, secret.Name)
			return err
		},
		"GetKey": func(_, i int) error {
			_, err := s.GetKey(ctx, ids[i%benchKeys])
			return err
		},
		"GetVersion": func(_, i int) error {
			_, err := s.GetVersion(ctx, ids[i%benchKeys], versions[i%benchKeys])
			return err
		},
		"CreateKey": func(_, _ int) error {
			n := created.Add(1)
			k := newKey(fmt.Sprintf("key-created-%08d", n), at(int(n)))
			return s.CreateKey(ctx, k, newVersion(k.ID, k.PrimaryVersionID, k.CreatedAt))
		},
	}
	// UpdateKey gives each worker a key of its own: the figure is the cost of a
	// compare-and-set write, not of retrying after losing races.
	var workers atomic.Int64
	owned := make(map[int]*core.Key)
	ownKey := func() (int, error) {
		w := int(workers.Add(1))
		k := newKey(fmt.Sprintf("key-updated-%04d", w), t0)
		if err := s.CreateKey(ctx, k, newVersion(k.ID, k.PrimaryVersionID, t0)); err != nil {
			return 0, err
		}
		owned[w] = &k
		return w, nil
	}
	ops["UpdateKey"] = func(w, i int) error {
		k := owned[w]
		k.Description, k.Revision = fmt.Sprintf("update %d", i), k.Revision+1
		return s.UpdateKey(ctx, *k)
	}

	for _, name := range []string{"GetKey", "GetVersion", "GetSecret", "GetGrant", "GrantsFor", "CreateKey", "UpdateKey"} {
		op := ops[name]
		b.Run(name+"/serial", func(b *testing.B) {
			w := 0
			if name == "UpdateKey" {
				var err error
				if w, err = ownKey(); err != nil {
					b.Fatal(err)
				}
			}
			i := 0
			for b.Loop() {
				if err := op(w, i); err != nil {
					b.Fatalf("%s: %v", name, err)
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			var next atomic.Int64
			// Workers get their keys before the clock starts; owned is
			// written here and only read once RunParallel begins.
			var ws chan int
			if name == "UpdateKey" {
				ws = make(chan int, runtime.GOMAXPROCS(0))
				for range cap(ws) {
					w, err := ownKey()
					if err != nil {
						b.Fatal(err)
					}
					ws <- w
				}
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := 0
				if ws != nil {
					w = <-ws
				}
				for pb.Next() {
					if err := op(w, int(next.Add(1))); err != nil {
						b.Errorf("%s: %v", name, err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// countingReads is a store that counts the reads made through it.
type countingReads struct {
	Store
	reads atomic.Int64
}

func (c *countingReads) GetKey(ctx context.Context, id string) (core.Key, error) {
	c.reads.Add(1)
	return c.Store.GetKey(ctx, id)
}

func (c *countingReads) GetAlias(ctx context.Context, name string) (core.Alias, error) {
	c.reads.Add(1)
	return c.Store.GetAlias(ctx, name)
}

func (c *countingReads) GetVersion(ctx context.Context, keyID, versionID string) (core.KeyVersion, error) {
	c.reads.Add(1)
	return c.Store.GetVersion(ctx, keyID, versionID)
}

// BenchGenerateDataKey measures GenerateDataKeyWithoutPlaintext through a
// core.Service on the store, from one goroutine and from GOMAXPROCS, two ways:
// "store", with no metadata cache, so every request reads the store (the
// store's share of the action); and "warm-cache", behind a warm in-process
// cache, as a long-lived instance serves, where the store is not read at all
// and the figures should match across stores. Each reports store-reads/op, so
// a figure says which of the two it is.
func BenchGenerateDataKey(b *testing.B, open func(b *testing.B) Store) {
	s := &countingReads{Store: open(b)}
	b.Cleanup(func() { _ = s.Close() })
	raw := make([]byte, core.KeyMaterialSize)
	root, err := core.NewRootKey(raw)
	if err != nil {
		b.Fatal(err)
	}
	caller := &core.Principal{Name: "bench", AccessKeyID: "bench", Policy: core.FullAccess(), QPS: 1 << 30}
	ctx := context.Background()
	for _, mode := range []struct {
		name  string
		cache core.MetadataCache
	}{
		{"store", nil},
		{"warm-cache", inproc.NewCache(time.Hour, 1000)},
	} {
		svc, err := core.New(core.Config{Store: s, Partitions: s, Root: root, Cache: mode.cache})
		if err != nil {
			b.Fatal(err)
		}
		created, err := svc.Handle(ctx, &core.Request{Action: "CreateKey", Params: core.Params{}, Caller: caller})
		if err != nil {
			b.Fatal(err)
		}
		keyID := created.(core.Key).ID
		call := func() error {
			_, err := svc.Handle(ctx, &core.Request{Action: "GenerateDataKeyWithoutPlaintext", Caller: caller,
				Params: core.Params{"KeyId": keyID, "EncryptionContext": `{"PartitionId":"p-0001"}`}})
			return err
		}
		if err := call(); err != nil { // warms the cache and the keyring
			b.Fatal(err)
		}
		name := "GenerateDataKeyWithoutPlaintext/" + mode.name
		b.Run(name+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			before := s.reads.Load()
			for b.Loop() {
				if err := call(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
			b.ReportMetric(float64(s.reads.Load()-before)/float64(b.N), "store-reads/op")
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			before := s.reads.Load()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := call(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
			b.ReportMetric(float64(s.reads.Load()-before)/float64(b.N), "store-reads/op")
		})
	}
}
