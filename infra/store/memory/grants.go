package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kmsless/kmsless/core"
)

var _ core.GrantStore = (*Store)(nil)

func copyGrant(g core.Grant) core.Grant {
	g.Operations = slices.Clone(g.Operations)
	g.Constraints.Equals = maps.Clone(g.Constraints.Equals)
	g.Constraints.Subset = maps.Clone(g.Constraints.Subset)
	return g
}

// CreateGrant stores a new grant.
func (s *Store) CreateGrant(ctx context.Context, g core.Grant) error {
	if g.KeyID == "" || g.ID == "" {
		return errors.New("memory: key and grant IDs must not be empty")
	}
	// The other stores cannot keep a NUL in these names; neither does this
	// one, so a grant behaves alike wherever it is kept.
	if strings.ContainsRune(g.KeyID+g.ID+g.GranteeName+g.RetiringName, 0) {
		return fmt.Errorf("memory: grant %q of key %q: a key ID, grant ID or principal name holds a NUL byte", g.ID, g.KeyID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.grants[g.KeyID][g.ID]; ok {
		return fmt.Errorf("memory: grant %q of key %q: %w", g.ID, g.KeyID, core.ErrExists)
	}
	if s.grants[g.KeyID] == nil {
		s.grants[g.KeyID] = make(map[string]core.Grant)
	}
	s.grants[g.KeyID][g.ID] = copyGrant(g)
	return nil
}

// GetGrant returns a grant of a key.
func (s *Store) GetGrant(ctx context.Context, keyID, grantID string) (core.Grant, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.grants[keyID][grantID]
	if !ok {
		return core.Grant{}, fmt.Errorf("memory: grant %q of key %q: %w", grantID, keyID, core.ErrNotFound)
	}
	return copyGrant(g), nil
}

// DeleteGrant removes a grant of a key.
func (s *Store) DeleteGrant(ctx context.Context, keyID, grantID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.grants[keyID][grantID]; !ok {
		return fmt.Errorf("memory: grant %q of key %q: %w", grantID, keyID, core.ErrNotFound)
	}
	s.dropGrant(keyID, grantID)
	return nil
}

// dropGrant removes a stored grant; the caller holds the lock for writing.
func (s *Store) dropGrant(keyID, grantID string) {
	delete(s.grants[keyID], grantID)
	if len(s.grants[keyID]) == 0 {
		delete(s.grants, keyID)
	}
}

// GrantsFor returns the grants of a key held by grantee, by grant ID.
func (s *Store) GrantsFor(ctx context.Context, keyID, grantee string) ([]core.Grant, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var gs []core.Grant
	for _, g := range s.grants[keyID] {
		if g.GranteeName == grantee {
			gs = append(gs, copyGrant(g))
		}
	}
	slices.SortFunc(gs, func(a, b core.Grant) int { return cmp.Compare(a.ID, b.ID) })
	return gs, nil
}

// ListGrants returns the first limit grants of a key after the grant ID
// after, by grant ID.
func (s *Store) ListGrants(ctx context.Context, keyID, after string, limit int) ([]core.Grant, error) {
	s.mu.RLock()
	var gs []core.Grant
	for _, g := range s.grants[keyID] {
		if g.ID > after {
			gs = append(gs, g)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(gs, func(a, b core.Grant) int { return cmp.Compare(a.ID, b.ID) })
	return firstGrants(gs, limit), nil
}

// ListRetirable returns the first limit grants that retiring may retire
// after the position after, by key ID and then grant ID. A grant without a
// retiring principal is nobody's to retire, "" included.
func (s *Store) ListRetirable(ctx context.Context, retiring string, after core.GrantPosition, limit int) ([]core.Grant, error) {
	if retiring == "" {
		return nil, nil
	}
	s.mu.RLock()
	var gs []core.Grant
	for keyID, byID := range s.grants {
		if keyID < after.KeyID {
			continue
		}
		for _, g := range byID {
			if g.RetiringName == retiring && (keyID > after.KeyID || g.ID > after.GrantID) {
				gs = append(gs, g)
			}
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(gs, func(a, b core.Grant) int {
		return cmp.Or(cmp.Compare(a.KeyID, b.KeyID), cmp.Compare(a.ID, b.ID))
	})
	return firstGrants(gs, limit), nil
}

// firstGrants copies the first limit of gs (all when limit is zero or less).
func firstGrants(gs []core.Grant, limit int) []core.Grant {
	if limit > 0 && len(gs) > limit {
		gs = gs[:limit]
	}
	for i := range gs {
		gs[i] = copyGrant(gs[i])
	}
	return gs
}
