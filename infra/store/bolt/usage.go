package bolt

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/records"
)

var _ core.KeyUsageStore = (*Store)(nil)

// RecordKeyUsage keeps u as keyID's last use unless the use kept is later,
// in one transaction that finds the key.
func (s *Store) RecordKeyUsage(ctx context.Context, keyID string, u core.KeyUsage) error {
	value, err := records.Encode(u)
	if err != nil {
		return fmt.Errorf("bolt: encode use of key %q: %w", keyID, err)
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketKeys).Get([]byte(keyID)) == nil {
			return fmt.Errorf("bolt: key %q: %w", keyID, core.ErrNotFound)
		}
		usage := tx.Bucket(bucketKeyUsage)
		if old := usage.Get([]byte(keyID)); old != nil {
			kept, err := decode[core.KeyUsage](old, "key usage")
			if err != nil {
				return err
			}
			if kept.At.After(u.At) {
				return nil
			}
		}
		return usage.Put([]byte(keyID), value)
	})
}

// KeyUsage returns keyID's last recorded use, if any, and since when the
// file keeps uses.
func (s *Store) KeyUsage(ctx context.Context, keyID string) (core.KeyUsage, time.Time, error) {
	var u core.KeyUsage
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		if v := tx.Bucket(bucketKeyUsage).Get([]byte(keyID)); v != nil {
			u, err = decode[core.KeyUsage](v, "key usage")
		}
		return err
	})
	if err != nil {
		return core.KeyUsage{}, time.Time{}, err
	}
	return u, s.since, nil
}
