package bolt

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/kmsless/kmsless/core"
)

// A file written before access records existed lacks their bucket; Open
// adds it, and records written then, an empty Doc among them, survive a
// reopen: read from the file's pages rather than from the transaction that
// wrote them.
func TestOpenAddsAccessBucketToAnOlderFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kms.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bucketAccess) }); err != nil {
		t.Fatal(err)
	}
	s.Close()

	rs := []core.AccessRecord{
		{Kind: core.AccessClientKey, Name: "KAAP.empty", Doc: nil},
		{Kind: core.AccessPolicy, Name: "policy-1", Doc: []byte("{\"a\":\"\\u0000\"}\x00\xff")},
	}
	s, err = Open(path)
	if err != nil {
		t.Fatalf("Open of a file without an access bucket: %v", err)
	}
	for _, r := range rs {
		if err := s.CreateAccess(ctx, r); err != nil {
			t.Fatalf("CreateAccess(%s %q): %v", r.Kind, r.Name, err)
		}
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, r := range rs {
		got, err := s.GetAccess(ctx, r.Kind, r.Name)
		if err != nil || got.Kind != r.Kind || got.Name != r.Name || !bytes.Equal(got.Doc, r.Doc) {
			t.Fatalf("GetAccess(%s %q) after reopen = %+v, %v; want %+v", r.Kind, r.Name, got, err, r)
		}
		if err := s.CreateAccess(ctx, r); !errors.Is(err, core.ErrExists) {
			t.Fatalf("CreateAccess(%s %q) again after reopen: %v, want %v", r.Kind, r.Name, err, core.ErrExists)
		}
		listed, err := s.ListAccess(ctx, r.Kind)
		if err != nil || len(listed) != 1 || listed[0].Name != r.Name || !bytes.Equal(listed[0].Doc, r.Doc) {
			t.Fatalf("ListAccess(%s) after reopen = %+v, %v; want %+v", r.Kind, listed, err, r)
		}
	}
}
