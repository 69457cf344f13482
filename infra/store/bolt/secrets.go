package bolt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/records"
)

var _ core.SecretStore = (*Store)(nil)

// CreateSecret stores a new secret, versions included.
func (s *Store) CreateSecret(ctx context.Context, sec core.GenericSecret) error {
	if sec.Name == "" {
		return errors.New("bolt: secret name must not be empty")
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketSecrets).Get([]byte(sec.Name)) != nil {
			return fmt.Errorf("bolt: secret %q: %w", sec.Name, core.ErrExists)
		}
		return putSecret(tx, sec)
	})
}

// GetSecret returns a secret with its versions.
func (s *Store) GetSecret(ctx context.Context, name string) (core.GenericSecret, error) {
	var sec core.GenericSecret
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		sec, err = getSecret(tx, name, true)
		return err
	})
	return sec, err
}

// UpdateSecret replaces a secret, versions and all, if the stored revision is
// sec.Revision-1. The secret keeps its creation time.
func (s *Store) UpdateSecret(ctx context.Context, sec core.GenericSecret) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getSecret(tx, sec.Name, false)
		if err != nil {
			return err
		}
		if old.Revision != sec.Revision-1 {
			return fmt.Errorf("bolt: secret %q is at revision %d, update expects %d: %w", sec.Name, old.Revision, sec.Revision-1, core.ErrConflict)
		}
		sec.CreatedAt = old.CreatedAt
		return putSecret(tx, sec)
	})
}

// DeleteSecret removes a secret, if the stored revision is still revision.
func (s *Store) DeleteSecret(ctx context.Context, name string, revision int64) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getSecret(tx, name, false)
		if err != nil {
			return err
		}
		if old.Revision != revision {
			return fmt.Errorf("bolt: secret %q is at revision %d, delete expects %d: %w", name, old.Revision, revision, core.ErrConflict)
		}
		if err := tx.Bucket(bucketSecretVersions).Delete([]byte(name)); err != nil {
			return err
		}
		return tx.Bucket(bucketSecrets).Delete([]byte(name))
	})
}

// ListSecretsAfter returns up to limit secrets after the name after, by name,
// without their versions (kept in a bucket of their own).
func (s *Store) ListSecretsAfter(ctx context.Context, after string, limit int) ([]core.GenericSecret, error) {
	return listByID[core.GenericSecret](ctx, s, bucketSecrets, "secret", after, limit)
}

// ListSecrets returns one page of the secrets that exist at asOf, ordered by
// name, without their versions. A secret whose deletion date is not after a
// non-zero asOf is left out.
func (s *Store) ListSecrets(ctx context.Context, asOf time.Time, p core.Page) ([]core.GenericSecret, int, error) {
	var secs []core.GenericSecret
	var total int
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		// With asOf set, the filter decodes every record (the versions,
		// kept apart, are not read); the page reuses what it decoded.
		// Without, only the page's records are read.
		var keep func(k, v []byte) error
		var cur core.GenericSecret
		if !asOf.IsZero() {
			keep = func(_, value []byte) (err error) {
				if cur, err = decode[core.GenericSecret](value, "secret"); err != nil {
					return err
				}
				if cur.PastDeletion(asOf) {
					return errSkip
				}
				return nil
			}
		}
		total, err = walk(tx.Bucket(bucketSecrets), nil, p, keep, func(_, value []byte) (err error) {
			if keep == nil {
				if cur, err = decode[core.GenericSecret](value, "secret"); err != nil {
					return err
				}
			}
			secs = append(secs, cur)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return secs, total, nil
}

// getSecret reads a secret's record and, when versions is set, its versions.
func getSecret(tx *bbolt.Tx, name string, versions bool) (core.GenericSecret, error) {
	v := tx.Bucket(bucketSecrets).Get([]byte(name))
	if v == nil {
		return core.GenericSecret{}, fmt.Errorf("bolt: secret %q: %w", name, core.ErrNotFound)
	}
	sec, err := decode[core.GenericSecret](v, "secret")
	if err != nil || !versions {
		return sec, err
	}
	if sec.Versions, err = records.DecodeVersions(tx.Bucket(bucketSecretVersions).Get([]byte(name))); err != nil {
		return core.GenericSecret{}, fmt.Errorf("bolt: decode stored versions of secret %q: %w", name, err)
	}
	return sec, nil
}

func putSecret(tx *bbolt.Tx, sec core.GenericSecret) error {
	value, err := records.Encode(sec)
	if err != nil {
		return fmt.Errorf("bolt: encode secret %q: %w", sec.Name, err)
	}
	if err := tx.Bucket(bucketSecretVersions).Put([]byte(sec.Name), records.EncodeVersions(sec.Versions)); err != nil {
		return err
	}
	return tx.Bucket(bucketSecrets).Put([]byte(sec.Name), value)
}
