package bolt

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/records"
)

var _ core.CertificateStore = (*Store)(nil)

// CreateCertificate stores a new certificate.
func (s *Store) CreateCertificate(ctx context.Context, c core.Certificate) error {
	if c.ID == "" {
		return errors.New("bolt: certificate ID must not be empty")
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketCertificates).Get([]byte(c.ID)) != nil {
			return fmt.Errorf("bolt: certificate %q: %w", c.ID, core.ErrExists)
		}
		return putCertificate(tx, c)
	})
}

// GetCertificate returns a certificate.
func (s *Store) GetCertificate(ctx context.Context, id string) (core.Certificate, error) {
	var c core.Certificate
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		c, err = getCertificate(tx, id)
		return err
	})
	return c, err
}

// UpdateCertificate replaces a certificate if the stored revision is
// c.Revision-1. The certificate keeps its creation time.
func (s *Store) UpdateCertificate(ctx context.Context, c core.Certificate) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getCertificate(tx, c.ID)
		if err != nil {
			return err
		}
		if old.Revision != c.Revision-1 {
			return fmt.Errorf("bolt: certificate %q is at revision %d, update expects %d: %w", c.ID, old.Revision, c.Revision-1, core.ErrConflict)
		}
		c.CreatedAt = old.CreatedAt
		return putCertificate(tx, c)
	})
}

// DeleteCertificate removes a certificate, if the stored revision is still
// revision.
func (s *Store) DeleteCertificate(ctx context.Context, id string, revision int64) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getCertificate(tx, id)
		if err != nil {
			return err
		}
		if old.Revision != revision {
			return fmt.Errorf("bolt: certificate %q is at revision %d, delete expects %d: %w", id, old.Revision, revision, core.ErrConflict)
		}
		return tx.Bucket(bucketCertificates).Delete([]byte(id))
	})
}

// ListCertificatesAfter returns the first limit certificates whose ID comes
// after after, in the bucket's order (the IDs' bytes); all the rest when
// limit is zero or less.
func (s *Store) ListCertificatesAfter(ctx context.Context, after string, limit int) ([]core.Certificate, error) {
	return listByID[core.Certificate](ctx, s, bucketCertificates, "certificate", after, limit)
}

func getCertificate(tx *bbolt.Tx, id string) (core.Certificate, error) {
	v := tx.Bucket(bucketCertificates).Get([]byte(id))
	if v == nil {
		return core.Certificate{}, fmt.Errorf("bolt: certificate %q: %w", id, core.ErrNotFound)
	}
	return decode[core.Certificate](v, "certificate")
}

func putCertificate(tx *bbolt.Tx, c core.Certificate) error {
	value, err := records.Encode(c)
	if err != nil {
		return fmt.Errorf("bolt: encode certificate %q: %w", c.ID, err)
	}
	return tx.Bucket(bucketCertificates).Put([]byte(c.ID), value)
}
