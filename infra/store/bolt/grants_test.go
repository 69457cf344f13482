package bolt

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/kmsless/kmsless/core"
)

// A file written before grants existed lacks their buckets; Open adds them,
// and grants written then survive a reopen.
func TestOpenAddsGrantBucketsToAnOlderFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kms.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketGrants, bucketGrantsByGrantee, bucketGrantsByRetiring} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	g := core.Grant{ID: "g1", KeyID: "key-1", GranteeName: "alice", RetiringName: "bob",
		Operations: []string{"Decrypt"}, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
	s, err = Open(path)
	if err != nil {
		t.Fatalf("Open of a file without grant buckets: %v", err)
	}
	if err := s.CreateGrant(ctx, g); err != nil {
		t.Fatalf("CreateGrant: %v", err)
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.GetGrant(ctx, g.KeyID, g.ID); err != nil || !reflect.DeepEqual(got, g) {
		t.Fatalf("GetGrant after reopen = %+v, %v; want %+v", got, err, g)
	}
	if rs, err := s.ListRetirable(ctx, "bob", core.GrantPosition{}, 0); err != nil || len(rs) != 1 {
		t.Fatalf("ListRetirable after reopen = %+v, %v; want the grant", rs, err)
	}
}
