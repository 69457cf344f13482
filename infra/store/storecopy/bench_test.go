package storecopy_test

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/store/bolt"
	"github.com/kmsless/kmsless/infra/store/postgres"
	"github.com/kmsless/kmsless/infra/store/storecopy"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

// BenchmarkCopy copies a bbolt store of 1,000 keys, each with two versions
// and an alias, into a new PostgreSQL database and into a new bbolt file, a
// record a write (Copy) and in one transaction (CopyInTransaction, -tx, as
// kmsless copy-store copies); and the same records, held by PostgreSQL, from
// a snapshot of it into a bbolt file, as copy-store backs up a serving
// deployment. It reports records copied a second (records/s) and the seconds
// a copy takes (s/copy); each destination is made with the timer stopped.
func BenchmarkCopy(b *testing.B) {
	const keys = 1000
	src, _, svc := newSource(b)
	for i := range keys {
		id := do(b, svc, "CreateKey").(*alibaba.KeyMetadataResponse).KeyMetadata.KeyId
		do(b, svc, "CreateKeyVersion", "KeyId", id)
		do(b, svc, "CreateAlias", "AliasName", "alias/k"+strconv.Itoa(i), "KeyId", id)
	}
	openPostgres := func(b *testing.B) storecopy.Store {
		st, err := postgres.Open(bg, storetest.PostgresDatabase(b, "kmscopybench"))
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	openBolt := func(b *testing.B) storecopy.Store {
		st, err := bolt.Open(filepath.Join(b.TempDir(), "copy.db"))
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	recordAtATime := func(dst storecopy.Store) (storecopy.Counts, error) { return storecopy.Copy(bg, src, dst, time.Now()) }
	served := openPostgres(b).(*postgres.Store)
	defer served.Close()
	if _, err := storecopy.CopyInTransaction[*postgres.Store](bg, src, served, time.Now()); err != nil {
		b.Fatal(err)
	}
	for _, dest := range []struct {
		name string
		open func(b *testing.B) storecopy.Store
		copy func(dst storecopy.Store) (storecopy.Counts, error)
	}{
		{"bolt-to-postgres", openPostgres, recordAtATime},
		{"bolt-to-postgres-tx", openPostgres, func(dst storecopy.Store) (storecopy.Counts, error) {
			return storecopy.CopyInTransaction[*postgres.Store](bg, src, dst.(*postgres.Store), time.Now())
		}},
		{"bolt-to-bolt", openBolt, recordAtATime},
		{"bolt-to-bolt-tx", openBolt, func(dst storecopy.Store) (storecopy.Counts, error) {
			return storecopy.CopyInTransaction[*bolt.Store](bg, src, dst.(*bolt.Store), time.Now())
		}},
		{"postgres-snapshot-to-bolt-tx", openBolt, func(dst storecopy.Store) (storecopy.Counts, error) {
			snap, err := served.Snapshot(bg)
			if err != nil {
				return storecopy.Counts{}, err
			}
			defer snap.Close()
			return storecopy.CopyInTransaction[*bolt.Store](bg, snap, dst.(*bolt.Store), time.Now())
		}},
	} {
		b.Run(dest.name, func(b *testing.B) {
			var spent time.Duration
			records := 0
			for b.Loop() {
				b.StopTimer()
				dst := dest.open(b)
				b.StartTimer()
				start := time.Now()
				n, err := dest.copy(dst)
				spent += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				records += n.Keys + n.Versions + n.Aliases
				b.StopTimer()
				dst.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(records)/spent.Seconds(), "records/s")
			b.ReportMetric(spent.Seconds()/float64(b.N), "s/copy")
		})
	}
}
