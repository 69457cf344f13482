package bolt

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/kmsless/kmsless/core"
)

// A file written before keys' uses were kept lacks their bucket and the
// time they are kept since; Open adds both, from the time it opened the
// file, and a later Open keeps that time.
func TestOpenKeepsKeyUsageFromWhenItMeetsAnOlderFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kms.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket(bucketKeyUsage); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Delete(metaUsageSince)
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	before := time.Now()
	if s, err = Open(path); err != nil {
		t.Fatalf("Open of a file that keeps no uses: %v", err)
	}
	after := time.Now()
	_, since, err := s.KeyUsage(ctx, "key-a")
	if err != nil {
		t.Fatal(err)
	}
	if since.Before(before) || since.After(after) {
		t.Fatalf("uses kept since %v, want the time of the Open, between %v and %v", since, before, after)
	}
	k := core.Key{ID: "key-a", State: core.KeyEnabled, CreatedAt: before, PrimaryVersionID: "key-a-v1", Revision: 1}
	if err := s.CreateKey(ctx, k, core.KeyVersion{KeyID: k.ID, VersionID: k.PrimaryVersionID, CreatedAt: before, Wrapped: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	use := core.KeyUsage{Action: "Encrypt", At: before.UTC().Truncate(time.Millisecond), RequestID: "req-1"}
	if err := s.RecordKeyUsage(ctx, k.ID, use); err != nil {
		t.Fatalf("RecordKeyUsage: %v", err)
	}
	s.Close()

	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, again, err := s.KeyUsage(ctx, k.ID)
	if err != nil || got != use || !again.Equal(since) {
		t.Fatalf("KeyUsage after reopen = %+v, since %v, %v; want %+v, since %v", got, again, err, use, since)
	}
}

// A damaged time in the meta bucket fails Open, rather than keeping uses
// from a time the file never said.
func TestOpenRefusesADamagedUsageSince(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kms.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaUsageSince, []byte("yesterday")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(path); err == nil {
		s.Close()
		t.Fatal("Open of a file with a damaged usage_since succeeded")
	}
}
