package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/kmsless/kmsless/core"
)

var _ core.KeyUsageStore = (*Store)(nil)

// RecordKeyUsage keeps u as keyID's last use unless the use kept is later.
func (s *Store) RecordKeyUsage(ctx context.Context, keyID string, u core.KeyUsage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[keyID]; !ok {
		return fmt.Errorf("memory: key %q: %w", keyID, core.ErrNotFound)
	}
	if kept, ok := s.usage[keyID]; ok && kept.At.After(u.At) {
		return nil
	}
	s.usage[keyID] = u
	return nil
}

// KeyUsage returns keyID's last recorded use, if any, and when New made the
// store.
func (s *Store) KeyUsage(ctx context.Context, keyID string) (core.KeyUsage, time.Time, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.usage[keyID], s.since, nil
}
