package bolt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "kms.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return openTemp(t) })
}

func TestGrantConformance(t *testing.T) {
	storetest.Grants(t, func(t *testing.T) storetest.Store { return openTemp(t) })
}

func TestAccessConformance(t *testing.T) {
	storetest.Access(t, func(t *testing.T) storetest.Store { return openTemp(t) })
}

func TestOpenCreatesParentDirectoriesAndAPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "kms.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Fatalf("store file mode %o, want 600", mode)
	}
}

func TestOpenFailsFastWhileAnotherHolderHasTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kms.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()

	// bbolt's flock is per open file, so a second Open in this process stands
	// in for a second process.
	start := time.Now()
	second, err := Open(path)
	if err == nil {
		second.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(err, bolterrors.ErrTimeout) || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second Open: %v; want a lock timeout that says so", err)
	}
	if waited := time.Since(start); waited > 5*lockTimeout {
		t.Fatalf("second Open took %s to fail", waited)
	}
}

func TestReopenAfterCloseKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kms.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	created := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	k := core.Key{ID: "key-1", KeySpec: "Aliyun_AES_256", State: core.KeyEnabled, CreatedAt: created, PrimaryVersionID: "v1", Revision: 1}
	v1 := core.KeyVersion{KeyID: k.ID, VersionID: "v1", CreatedAt: created, Wrapped: []byte{0, 1, 2, 0xff}}
	v2 := core.KeyVersion{KeyID: k.ID, VersionID: "v2", CreatedAt: created.Add(time.Hour), Wrapped: []byte{9, 8, 7}}
	next := k
	next.PrimaryVersionID, next.Revision = v2.VersionID, 2
	alias := core.Alias{Name: "alias/app", KeyID: k.ID, CreatedAt: created, UpdatedAt: created}
	p := core.Partition{ID: "p-1", KeyID: k.ID, KeyVersionID: "v2", CiphertextBlob: []byte("blob"), EncryptionContext: map[string]string{"a": "b"}, CreatedAt: created}
	if err := s.CreateKey(ctx, k, v1); err != nil {
		t.Fatal(err)
	}
	if err := s.AddVersion(ctx, next, v2); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAlias(ctx, alias); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreatePartition(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	gotKey, err := s.GetKey(ctx, k.ID)
	if err != nil || !reflect.DeepEqual(gotKey, next) {
		t.Fatalf("GetKey after reopen = %+v, %v; want %+v", gotKey, err, next)
	}
	vs, total, err := s.ListVersions(ctx, k.ID, core.Page{})
	if err != nil || total != 2 || !reflect.DeepEqual(vs, []core.KeyVersion{v1, v2}) {
		t.Fatalf("ListVersions after reopen = %+v (total %d), %v", vs, total, err)
	}
	gotAlias, err := s.GetAlias(ctx, alias.Name)
	if err != nil || !reflect.DeepEqual(gotAlias, alias) {
		t.Fatalf("GetAlias after reopen = %+v, %v; want %+v", gotAlias, err, alias)
	}
	gotPartition, err := s.GetPartition(ctx, p.ID)
	if err != nil || !reflect.DeepEqual(gotPartition, p) {
		t.Fatalf("GetPartition after reopen = %+v, %v; want %+v", gotPartition, err, p)
	}
}

// ReplaceVersion keeps a version's place among its key's versions when the
// version it stores was created at another time, later or earlier: they
// list in the order they were added.
func TestReplaceVersionKeepsTheVersionsPlace(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	k := core.Key{ID: "key-1", KeySpec: "Aliyun_AES_256", Origin: "EXTERNAL", State: core.KeyEnabled, CreatedAt: created, PrimaryVersionID: "v1", Revision: 1}
	v1 := core.KeyVersion{KeyID: k.ID, VersionID: "v1", CreatedAt: created, Wrapped: []byte{1}}
	v2 := core.KeyVersion{KeyID: k.ID, VersionID: "v2", CreatedAt: created.Add(time.Hour), Wrapped: []byte{2}, Digest: []byte("d2"),
		RotationType: core.RotationPending, ExpireAt: created.Add(48 * time.Hour), MaterialDescription: "pending"}
	v3 := core.KeyVersion{KeyID: k.ID, VersionID: "v3", CreatedAt: created.Add(2 * time.Hour), Wrapped: []byte{3}}
	if err := s.CreateKey(ctx, k, v1, v2, v3); err != nil {
		t.Fatal(err)
	}
	rotated := v2
	rotated.CreatedAt, rotated.RotationType = created.Add(3*time.Hour), core.RotationOnDemand
	earlier := v3
	earlier.CreatedAt = created.Add(-time.Hour)
	for i, v := range []core.KeyVersion{rotated, earlier} {
		next := k
		next.Revision = k.Revision + 1 + int64(i)
		if err := s.ReplaceVersion(ctx, next, v); err != nil {
			t.Fatalf("ReplaceVersion(%s): %v", v.VersionID, err)
		}
	}
	vs, total, err := s.ListVersions(ctx, k.ID, core.Page{})
	if want := []core.KeyVersion{v1, rotated, earlier}; err != nil || total != 3 || !reflect.DeepEqual(vs, want) {
		t.Fatalf("ListVersions = %+v (total %d), %v; want %+v", vs, total, err, want)
	}
}

func TestOpenRefusesAFileOfAnotherLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kms.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte("format"), []byte("99")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(path); err == nil {
		s.Close()
		t.Fatal("Open accepted a file written in an unknown layout")
	}
}
