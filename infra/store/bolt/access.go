package bolt

import (
	"bytes"
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/kmsless/kmsless/core"
)

var _ core.AccessStore = (*Store)(nil)

// CreateAccess stores a new access record.
func (s *Store) CreateAccess(ctx context.Context, r core.AccessRecord) error {
	if r.Kind == "" || r.Name == "" {
		return fmt.Errorf("bolt: access record %q of kind %q: kind and name must not be empty", r.Name, r.Kind)
	}
	if !noNUL(r.Kind, r.Name) {
		return fmt.Errorf("bolt: access record %q of kind %q: the kind or name holds a NUL byte", r.Name, r.Kind)
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b, id := tx.Bucket(bucketAccess), accessKey(r.Kind, r.Name)
		if _, ok := getAccess(b, id); ok {
			return fmt.Errorf("bolt: %s %q: %w", r.Kind, r.Name, core.ErrExists)
		}
		return b.Put(id, notNil(r.Doc))
	})
}

// GetAccess returns an access record.
func (s *Store) GetAccess(ctx context.Context, kind, name string) (core.AccessRecord, error) {
	var doc []byte
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		v, ok := getAccess(tx.Bucket(bucketAccess), accessKey(kind, name))
		if !ok || !noNUL(kind, name) {
			return fmt.Errorf("bolt: %s %q: %w", kind, name, core.ErrNotFound)
		}
		// The value lives in the file's mapping only while the transaction
		// is open.
		doc = bytes.Clone(v)
		return nil
	})
	if err != nil {
		return core.AccessRecord{}, err
	}
	return core.AccessRecord{Kind: kind, Name: name, Doc: doc}, nil
}

// ReplaceAccess replaces the Doc of an access record.
func (s *Store) ReplaceAccess(ctx context.Context, r core.AccessRecord) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b, id := tx.Bucket(bucketAccess), accessKey(r.Kind, r.Name)
		if _, ok := getAccess(b, id); !ok || !noNUL(r.Kind, r.Name) {
			return fmt.Errorf("bolt: %s %q: %w", r.Kind, r.Name, core.ErrNotFound)
		}
		return b.Put(id, notNil(r.Doc))
	})
}

// DeleteAccess removes an access record.
func (s *Store) DeleteAccess(ctx context.Context, kind, name string) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b, id := tx.Bucket(bucketAccess), accessKey(kind, name)
		if _, ok := getAccess(b, id); !ok || !noNUL(kind, name) {
			return fmt.Errorf("bolt: %s %q: %w", kind, name, core.ErrNotFound)
		}
		return b.Delete(id)
	})
}

// ListAccess returns every record of a kind, by name: the bucket holds them
// under one prefix, in that order.
func (s *Store) ListAccess(ctx context.Context, kind string) ([]core.AccessRecord, error) {
	if !noNUL(kind) {
		return nil, nil
	}
	var rs []core.AccessRecord
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		prefix := accessKey(kind, "")
		return walkAfter(tx.Bucket(bucketAccess), prefix, nil, 0, nil, func(k, v []byte) error {
			rs = append(rs, core.AccessRecord{Kind: kind, Name: string(k[len(prefix):]), Doc: bytes.Clone(v)})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// accessKey is an access record's key in its bucket: kind ‖ 0 ‖ name, as
// the grant buckets join names. A name of "" makes the prefix of its kind.
func accessKey(kind, name string) []byte {
	return grantKey(kind, name)
}

// getAccess returns the Doc stored under id and whether there is one. It
// seeks rather than Gets: an empty Doc must not read as a missing record.
func getAccess(b *bbolt.Bucket, id []byte) ([]byte, bool) {
	k, v := b.Cursor().Seek(id)
	return v, bytes.Equal(k, id)
}

// notNil is doc, or an empty value for a nil one: bbolt keeps either as
// empty.
func notNil(doc []byte) []byte {
	if doc == nil {
		return []byte{}
	}
	return doc
}
