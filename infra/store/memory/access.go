package memory

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kmsless/kmsless/core"
)

var _ core.AccessStore = (*Store)(nil)

// CreateAccess stores a new access record.
func (s *Store) CreateAccess(ctx context.Context, r core.AccessRecord) error {
	if err := checkAccess(r.Kind, r.Name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.access[r.Kind][r.Name]; ok {
		return fmt.Errorf("memory: %s %q: %w", r.Kind, r.Name, core.ErrExists)
	}
	if s.access[r.Kind] == nil {
		s.access[r.Kind] = make(map[string][]byte)
	}
	s.access[r.Kind][r.Name] = bytes.Clone(r.Doc)
	return nil
}

// GetAccess returns an access record.
func (s *Store) GetAccess(ctx context.Context, kind, name string) (core.AccessRecord, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	doc, ok := s.access[kind][name]
	if !ok {
		return core.AccessRecord{}, fmt.Errorf("memory: %s %q: %w", kind, name, core.ErrNotFound)
	}
	return core.AccessRecord{Kind: kind, Name: name, Doc: bytes.Clone(doc)}, nil
}

// ReplaceAccess replaces the Doc of an access record.
func (s *Store) ReplaceAccess(ctx context.Context, r core.AccessRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.access[r.Kind][r.Name]; !ok {
		return fmt.Errorf("memory: %s %q: %w", r.Kind, r.Name, core.ErrNotFound)
	}
	s.access[r.Kind][r.Name] = bytes.Clone(r.Doc)
	return nil
}

// DeleteAccess removes an access record.
func (s *Store) DeleteAccess(ctx context.Context, kind, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.access[kind][name]; !ok {
		return fmt.Errorf("memory: %s %q: %w", kind, name, core.ErrNotFound)
	}
	delete(s.access[kind], name)
	if len(s.access[kind]) == 0 {
		delete(s.access, kind)
	}
	return nil
}

// ListAccess returns every record of a kind, by name.
func (s *Store) ListAccess(ctx context.Context, kind string) ([]core.AccessRecord, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := slices.Sorted(maps.Keys(s.access[kind]))
	rs := make([]core.AccessRecord, len(names))
	for i, name := range names {
		rs[i] = core.AccessRecord{Kind: kind, Name: name, Doc: bytes.Clone(s.access[kind][name])}
	}
	return rs, nil
}

// checkAccess refuses what the other stores cannot keep: an empty kind or
// name, or one holding a NUL byte, so a record behaves alike wherever it is
// kept.
func checkAccess(kind, name string) error {
	if kind == "" || name == "" {
		return fmt.Errorf("memory: access record %q of kind %q: kind and name must not be empty", name, kind)
	}
	if strings.ContainsRune(kind+name, 0) {
		return fmt.Errorf("memory: access record %q of kind %q: the kind or name holds a NUL byte", name, kind)
	}
	return nil
}
