package memory

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/kmsless/kmsless/core"
)

func copySecret(sec core.GenericSecret) core.GenericSecret {
	sec.Tags = maps.Clone(sec.Tags)
	sec.Stages = maps.Clone(sec.Stages)
	sec.Versions = slices.Clone(sec.Versions)
	for i := range sec.Versions {
		sec.Versions[i].Sealed = bytes.Clone(sec.Versions[i].Sealed)
	}
	return sec
}

// CreateSecret stores a new secret.
func (s *Store) CreateSecret(ctx context.Context, sec core.GenericSecret) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.secrets[sec.Name]; ok {
		return fmt.Errorf("memory: secret %q: %w", sec.Name, core.ErrExists)
	}
	s.secrets[sec.Name] = copySecret(sec)
	return nil
}

// GetSecret returns a secret with its versions.
func (s *Store) GetSecret(ctx context.Context, name string) (core.GenericSecret, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sec, ok := s.secrets[name]
	if !ok {
		return core.GenericSecret{}, fmt.Errorf("memory: secret %q: %w", name, core.ErrNotFound)
	}
	return copySecret(sec), nil
}

// UpdateSecret replaces a secret if its stored revision is sec.Revision-1.
func (s *Store) UpdateSecret(ctx context.Context, sec core.GenericSecret) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.secrets[sec.Name]
	switch {
	case !ok:
		return fmt.Errorf("memory: secret %q: %w", sec.Name, core.ErrNotFound)
	case stored.Revision != sec.Revision-1:
		return fmt.Errorf("memory: secret %q: %w", sec.Name, core.ErrConflict)
	}
	sec = copySecret(sec)
	sec.CreatedAt = stored.CreatedAt
	s.secrets[sec.Name] = sec
	return nil
}

// DeleteSecret removes a secret if its stored revision is revision.
func (s *Store) DeleteSecret(ctx context.Context, name string, revision int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.secrets[name]
	switch {
	case !ok:
		return fmt.Errorf("memory: secret %q: %w", name, core.ErrNotFound)
	case stored.Revision != revision:
		return fmt.Errorf("memory: secret %q: %w", name, core.ErrConflict)
	}
	delete(s.secrets, name)
	return nil
}

// ListSecretsAfter returns up to limit secrets after the name after, by
// name, without their versions.
func (s *Store) ListSecretsAfter(ctx context.Context, after string, limit int) ([]core.GenericSecret, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return byIDAfter(s.secrets, after, limit, func(sec core.GenericSecret) core.GenericSecret {
		sec.Versions = nil
		return copySecret(sec)
	}), nil
}

// ListSecrets returns one page of the secrets that exist at asOf, by name.
func (s *Store) ListSecrets(ctx context.Context, asOf time.Time, p core.Page) ([]core.GenericSecret, int, error) {
	s.mu.RLock()
	var all []core.GenericSecret
	for _, sec := range s.secrets {
		if !sec.PastDeletion(asOf) {
			sec.Versions = nil
			all = append(all, sec)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(all, func(a, b core.GenericSecret) int { return cmp.Compare(a.Name, b.Name) })
	items, total := page(all, p)
	for i := range items {
		items[i] = copySecret(items[i])
	}
	return items, total, nil
}
