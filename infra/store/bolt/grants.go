package bolt

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/bbolt"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/records"
)

var _ core.GrantStore = (*Store)(nil)

// CreateGrant stores a new grant and its index entries in one transaction.
func (s *Store) CreateGrant(ctx context.Context, g core.Grant) error {
	if g.KeyID == "" || g.ID == "" {
		return errors.New("bolt: key and grant IDs must not be empty")
	}
	if !noNUL(g.KeyID, g.ID, g.GranteeName, g.RetiringName) {
		return fmt.Errorf("bolt: grant %q of key %q: a key ID, grant ID or principal name holds a NUL byte", g.ID, g.KeyID)
	}
	value, err := records.Encode(g)
	if err != nil {
		return fmt.Errorf("bolt: encode grant %q of key %q: %w", g.ID, g.KeyID, err)
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		grants := tx.Bucket(bucketGrants)
		id := grantKey(g.KeyID, g.ID)
		if grants.Get(id) != nil {
			return fmt.Errorf("bolt: grant %q of key %q: %w", g.ID, g.KeyID, core.ErrExists)
		}
		if err := tx.Bucket(bucketGrantsByGrantee).Put(grantKey(g.GranteeName, g.KeyID, g.ID), []byte{}); err != nil {
			return err
		}
		if g.RetiringName != "" {
			if err := tx.Bucket(bucketGrantsByRetiring).Put(grantKey(g.RetiringName, g.KeyID, g.ID), []byte{}); err != nil {
				return err
			}
		}
		return grants.Put(id, value)
	})
}

// GetGrant returns a grant of a key.
func (s *Store) GetGrant(ctx context.Context, keyID, grantID string) (core.Grant, error) {
	var g core.Grant
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		g, err = getGrant(tx, keyID, grantID)
		return err
	})
	return g, err
}

// DeleteGrant removes a grant of a key and its index entries in one
// transaction.
func (s *Store) DeleteGrant(ctx context.Context, keyID, grantID string) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		g, err := getGrant(tx, keyID, grantID)
		if err != nil {
			return err
		}
		return deleteGrant(tx, g)
	})
}

// GrantsFor returns the grants of a key held by grantee, by grant ID: the
// grantee index holds them under one prefix, in that order.
func (s *Store) GrantsFor(ctx context.Context, keyID, grantee string) ([]core.Grant, error) {
	if !noNUL(keyID, grantee) {
		return nil, nil
	}
	var gs []core.Grant
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		prefix := grantKey(grantee, keyID, "")
		return walkAfter(tx.Bucket(bucketGrantsByGrantee), prefix, nil, 0, nil, func(entry, _ []byte) error {
			g, err := getGrant(tx, keyID, string(entry[len(prefix):]))
			gs = append(gs, g)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return gs, nil
}

// ListGrants returns the first limit grants of a key after the grant ID
// after, by grant ID. It seeks to its place: the grants up to after are not
// read.
func (s *Store) ListGrants(ctx context.Context, keyID, after string, limit int) ([]core.Grant, error) {
	if !noNUL(keyID, after) {
		return nil, nil
	}
	var gs []core.Grant
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return walkAfter(tx.Bucket(bucketGrants), grantKey(keyID, ""), []byte(after), limit, nil, func(_, value []byte) error {
			g, err := decode[core.Grant](value, "grant")
			gs = append(gs, g)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return gs, nil
}

// ListRetirable returns the first limit grants that retiring may retire
// after the position after, by key ID and then grant ID, which is the order
// of the retiring index under retiring's prefix.
func (s *Store) ListRetirable(ctx context.Context, retiring string, after core.GrantPosition, limit int) ([]core.Grant, error) {
	if retiring == "" || !noNUL(retiring, after.KeyID, after.GrantID) {
		return nil, nil
	}
	var gs []core.Grant
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		// The zero position joins to "\x00", before every entry: no key ID
		// is empty.
		prefix, from := grantKey(retiring, ""), grantKey(after.KeyID, after.GrantID)
		return walkAfter(tx.Bucket(bucketGrantsByRetiring), prefix, from, limit, nil, func(entry, _ []byte) error {
			keyID, grantID, _ := strings.Cut(string(entry[len(prefix):]), "\x00")
			g, err := getGrant(tx, keyID, grantID)
			gs = append(gs, g)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return gs, nil
}

// deleteGrants removes every grant of a key, for DeleteKey's transaction.
func deleteGrants(tx *bbolt.Tx, keyID string) error {
	if !noNUL(keyID) {
		return nil
	}
	grants := tx.Bucket(bucketGrants)
	for _, entry := range keysUnder(grants, grantKey(keyID, "")) {
		g, err := decode[core.Grant](grants.Get(entry), "grant")
		if err != nil {
			return err
		}
		if err := deleteGrant(tx, g); err != nil {
			return err
		}
	}
	return nil
}

// deleteGrant removes a stored grant and its index entries.
func deleteGrant(tx *bbolt.Tx, g core.Grant) error {
	if err := tx.Bucket(bucketGrantsByGrantee).Delete(grantKey(g.GranteeName, g.KeyID, g.ID)); err != nil {
		return err
	}
	if g.RetiringName != "" {
		if err := tx.Bucket(bucketGrantsByRetiring).Delete(grantKey(g.RetiringName, g.KeyID, g.ID)); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketGrants).Delete(grantKey(g.KeyID, g.ID))
}

func getGrant(tx *bbolt.Tx, keyID, grantID string) (core.Grant, error) {
	var v []byte
	if noNUL(keyID, grantID) {
		v = tx.Bucket(bucketGrants).Get(grantKey(keyID, grantID))
	}
	if v == nil {
		return core.Grant{}, fmt.Errorf("bolt: grant %q of key %q: %w", grantID, keyID, core.ErrNotFound)
	}
	return decode[core.Grant](v, "grant")
}

// grantKey joins the parts of a grant bucket's key with NUL bytes; a last
// part of "" makes the prefix of the entries under the others.
func grantKey(parts ...string) []byte {
	return []byte(strings.Join(parts, "\x00"))
}

// noNUL reports whether none of names holds a NUL byte, the separator of the
// grant buckets' keys.
func noNUL(names ...string) bool {
	for _, n := range names {
		if strings.IndexByte(n, 0) >= 0 {
			return false
		}
	}
	return true
}
