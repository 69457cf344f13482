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

// A file written before certificates existed lacks their bucket; Open adds
// it, and certificates written then survive a reopen.
func TestOpenAddsCertificateBucketToAnOlderFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kms.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bucketCertificates) }); err != nil {
		t.Fatal(err)
	}
	s.Close()

	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	c := core.Certificate{ID: "3f1a9c2e-0d4b-4e8a-9b7c-5d6e7f8a9b0c", KeySpec: "RSA_2048", Subject: "CN=a",
		SubjectAlternativeNames: []string{"a.example"}, Status: core.CertificateActive, CreatedAt: at, UpdatedAt: at,
		PrivateKey: []byte{1}, RootKeyID: "r", CSR: []byte{2}, Certificate: []byte{3}, Chain: [][]byte{{4}, {5}}, Revision: 1}
	s, err = Open(path)
	if err != nil {
		t.Fatalf("Open of a file without a certificate bucket: %v", err)
	}
	if err := s.CreateCertificate(ctx, c); err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.GetCertificate(ctx, c.ID); err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("GetCertificate after reopen = %+v, %v; want %+v", got, err, c)
	}
}
