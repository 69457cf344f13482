package bolt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/kmsless/kmsless/internal/testclock"
)

func openNonces(t testing.TB, path string, c *testclock.Clock) *Nonces {
	t.Helper()
	n, err := OpenNonces(path, c)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustUse(t testing.TB, n *Nonces, nonce string, ttl time.Duration, want bool) {
	t.Helper()
	fresh, err := n.Use(context.Background(), nonce, ttl, 0)
	if err != nil || fresh != want {
		t.Fatalf("Use(%q) = %v, %v; want fresh %v", nonce, fresh, err, want)
	}
}

func TestNonceJournalSurvivesReopenAndForgetsExpired(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kms.db")
	c := testclock.New(time.Unix(1_800_000_000, 0))
	n := openNonces(t, path, c)
	mustUse(t, n, "LTAIa:long", 30*time.Minute, true)
	mustUse(t, n, "LTAIa:short", time.Minute, true)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Minute)
	n = openNonces(t, path, c)
	defer n.Close()
	mustUse(t, n, "LTAIa:long", 30*time.Minute, false)
	mustUse(t, n, "LTAIa:short", time.Minute, true)
}

// A process killed mid-write leaves a torn last record: the ones before it
// still count, and the journal goes on from there.
func TestNonceJournalDropsATornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kms.db")
	c := testclock.New(time.Unix(1_800_000_000, 0))
	n := openNonces(t, path, c)
	mustUse(t, n, "LTAIa:kept", time.Hour, true)
	n.Close()
	whole := appendRecord(nil, "LTAIa:torn", c.Now().Add(time.Hour).UnixMilli())
	f, err := os.OpenFile(path+journalSuffix, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(whole[:len(whole)-3])
	f.Close()

	n = openNonces(t, path, c)
	mustUse(t, n, "LTAIa:kept", time.Hour, false)
	mustUse(t, n, "LTAIa:torn", time.Hour, true)
	mustUse(t, n, "LTAIa:after", time.Hour, true)
	n.Close()
	n = openNonces(t, path, c)
	defer n.Close()
	for _, id := range []string{"LTAIa:kept", "LTAIa:torn", "LTAIa:after"} {
		mustUse(t, n, id, time.Hour, false)
	}
}

func TestNonceJournalCompactsToTheLiveNonces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kms.db")
	c := testclock.New(time.Unix(1_800_000_000, 0))
	n := openNonces(t, path, c)
	defer n.Close()
	for i := range 10 * compactSlack {
		mustUse(t, n, fmt.Sprint("LTAIa:", i), time.Second, true)
		c.Advance(time.Millisecond)
	}
	info, err := os.Stat(path + journalSuffix)
	if err != nil {
		t.Fatal(err)
	}
	// About a thousand nonces are live at any time; the journal holds at
	// most twice those plus the slack.
	record := int64(len(appendRecord(nil, "LTAIa:00000", 0)))
	if limit := int64(len(journalHeader)) + (2*1000+compactSlack+1)*record; info.Size() > limit {
		t.Errorf("journal is %d bytes after %d uses, want at most %d", info.Size(), 10*compactSlack, limit)
	}
	// What the compactions kept is what was live: after a restart the last
	// nonces are still refused, and the expired ones accepted again.
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = openNonces(t, path, c)
	last := 10*compactSlack - 1
	mustUse(t, n, fmt.Sprint("LTAIa:", last), time.Second, false)
	mustUse(t, n, fmt.Sprint("LTAIa:", last-900), time.Second, false)
	mustUse(t, n, fmt.Sprint("LTAIa:", last-1100), time.Second, true)
}

// A nonce is journaled with its principal's AccessKeyId, which the principals
// file does not bound: a long one, with the longest nonce a signature may
// carry, is read back after a restart and a compaction.
func TestNonceJournalKeepsALongRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kms.db")
	c := testclock.New(time.Unix(1_800_000_000, 0))
	n := openNonces(t, path, c)
	long := strings.Repeat("K", 300) + ":" + strings.Repeat("n", 128)
	mustUse(t, n, long, time.Hour, true)
	mustUse(t, n, "LTAIa:after", time.Hour, true)
	for range 2 {
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
		n = openNonces(t, path, c) // compacts, reading the long record back
		mustUse(t, n, long, time.Hour, false)
		mustUse(t, n, "LTAIa:after", time.Hour, false)
	}
	n.Close()
}

func TestNonceJournalRefusesAForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kms.db")
	if err := os.WriteFile(path+journalSuffix, []byte("something else entirely\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenNonces(path, nil); err == nil {
		t.Fatal("opened a journal of another format")
	}
}

// BenchmarkNonceUse is the cost a request pays for its nonce on the embedded
// store: the memory check and one journal write, compactions included.
func BenchmarkNonceUse(b *testing.B) {
	n, err := OpenNonces(filepath.Join(b.TempDir(), "kms.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if fresh, err := n.Use(ctx, fmt.Sprintf("LTAI5tBench0000000001:%032x", i), 30*time.Minute, 0); !fresh || err != nil {
			b.Fatal(fresh, err)
		}
	}
}

// BenchmarkNonceUseParallel is the same from 16 concurrent requests, as the
// api server sees them under load. Journal writes are serialized; committing
// those that queue in groups, as the audit log does, was tried and measured no
// faster here.
func BenchmarkNonceUseParallel(b *testing.B) {
	n, err := OpenNonces(filepath.Join(b.TempDir(), "kms.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	ctx := context.Background()
	var seq atomic.Int64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			if fresh, err := n.Use(ctx, fmt.Sprintf("LTAI5tBench0000000001:%032x", i), 30*time.Minute, 0); !fresh || err != nil {
				b.Error(fresh, err)
				return
			}
		}
	})
}

// BenchmarkNonceBoltBucket prices the option not taken: each nonce put in a
// bbolt bucket by a write transaction with fsync turned off (NoSync), which
// still rewrites a B+tree path and the meta page per request.
func BenchmarkNonceBoltBucket(b *testing.B) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "nonces.db"), 0o600, &bbolt.Options{NoSync: true, NoFreelistSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	bucket := []byte("nonces")
	i := 0
	for b.Loop() {
		i++
		err := db.Update(func(tx *bbolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists(bucket)
			if err != nil {
				return err
			}
			var exp [8]byte
			return bk.Put(fmt.Appendf(nil, "LTAI5tBench0000000001:%032x", i), exp[:])
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// Nonces accepted concurrently share journal writes, and every one of them is
// still refused after a restart.
func TestConcurrentNoncesAllSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kms.db")
	n, err := OpenNonces(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const workers, each = 16, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if fresh, err := n.Use(ctx, fmt.Sprintf("LTAIconcurrent:%d-%d", w, i), time.Hour, 0); !fresh || err != nil {
					t.Errorf("first use: fresh %v, err %v", fresh, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Use(ctx, "LTAIconcurrent:after-close", time.Hour, 0); err == nil {
		t.Fatal("a closed journal accepted a nonce")
	}
	again, err := OpenNonces(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	for w := range workers {
		for i := range each {
			if fresh, err := again.Use(ctx, fmt.Sprintf("LTAIconcurrent:%d-%d", w, i), time.Hour, 0); fresh || err != nil {
				t.Fatalf("nonce %d-%d after a restart: fresh %v, err %v; want refused", w, i, fresh, err)
			}
		}
	}
}
