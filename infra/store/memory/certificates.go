package memory

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/kmsless/kmsless/core"
)

func copyCertificate(c core.Certificate) core.Certificate {
	c.SubjectAlternativeNames = slices.Clone(c.SubjectAlternativeNames)
	c.Tags = maps.Clone(c.Tags)
	c.PrivateKey = bytes.Clone(c.PrivateKey)
	c.CSR = bytes.Clone(c.CSR)
	c.Certificate = bytes.Clone(c.Certificate)
	c.Chain = slices.Clone(c.Chain)
	for i := range c.Chain {
		c.Chain[i] = bytes.Clone(c.Chain[i])
	}
	return c
}

// CreateCertificate stores a new certificate.
func (s *Store) CreateCertificate(ctx context.Context, c core.Certificate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.certificates[c.ID]; ok {
		return fmt.Errorf("memory: certificate %q: %w", c.ID, core.ErrExists)
	}
	s.certificates[c.ID] = copyCertificate(c)
	return nil
}

// GetCertificate returns a certificate.
func (s *Store) GetCertificate(ctx context.Context, id string) (core.Certificate, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.certificates[id]
	if !ok {
		return core.Certificate{}, fmt.Errorf("memory: certificate %q: %w", id, core.ErrNotFound)
	}
	return copyCertificate(c), nil
}

// UpdateCertificate replaces a certificate if its stored revision is
// c.Revision-1. The certificate keeps its creation time.
func (s *Store) UpdateCertificate(ctx context.Context, c core.Certificate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.certificates[c.ID]
	switch {
	case !ok:
		return fmt.Errorf("memory: certificate %q: %w", c.ID, core.ErrNotFound)
	case stored.Revision != c.Revision-1:
		return fmt.Errorf("memory: certificate %q: %w", c.ID, core.ErrConflict)
	}
	c = copyCertificate(c)
	c.CreatedAt = stored.CreatedAt
	s.certificates[c.ID] = c
	return nil
}

// DeleteCertificate removes a certificate if its stored revision is revision.
func (s *Store) DeleteCertificate(ctx context.Context, id string, revision int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.certificates[id]
	switch {
	case !ok:
		return fmt.Errorf("memory: certificate %q: %w", id, core.ErrNotFound)
	case stored.Revision != revision:
		return fmt.Errorf("memory: certificate %q: %w", id, core.ErrConflict)
	}
	delete(s.certificates, id)
	return nil
}

// ListCertificatesAfter returns the first limit certificates whose ID comes
// after after, by ID; all the rest when limit is zero or less.
func (s *Store) ListCertificatesAfter(ctx context.Context, after string, limit int) ([]core.Certificate, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return byIDAfter(s.certificates, after, limit, copyCertificate), nil
}
