package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Purged names what Purge destroyed: keys by ID, secrets by name.
type Purged struct {
	Keys, Secrets []string
}

// Purge destroys every key and generic secret still stored past its
// deletion date, a key with its versions, aliases, grants and last use.
// Requests destroy those they meet (storedKey, loadSecret), and nothing runs
// between requests on a serverless platform, so without Purge the wrapped
// material of a key no request names again would outlive its deletion date
// in the store, in its backups and under every later root key. It runs
// beside serving instances: each destruction holds to the revision it read,
// as a request's does, and what is restored meanwhile stays.
func (s *Service) Purge(ctx context.Context) (Purged, error) {
	var p Purged
	err := s.eachKey(ctx, time.Time{}, func(k *Key) error {
		if !s.deleted(k) {
			return nil
		}
		_, err := s.storedKey(ctx, k.ID)
		switch {
		case errors.Is(err, errDestroyed):
			p.Keys = append(p.Keys, k.ID)
		case errors.Is(err, ErrNotFound):
			// Another destroyed it meanwhile.
		case err != nil:
			return fmt.Errorf("key %s: %w", k.ID, err)
		}
		return nil
	})
	if err != nil || s.secrets == nil {
		return p, err
	}
	err = s.eachSecret(ctx, func(sec *GenericSecret) error {
		if !sec.PastDeletion(s.clock.Now()) {
			return nil
		}
		destroyed, err := s.dropSecret(ctx, sec)
		if err != nil {
			return fmt.Errorf("secret %s: %w", sec.Name, err)
		}
		if destroyed {
			p.Secrets = append(p.Secrets, sec.Name)
		}
		return nil
	})
	return p, err
}

// eachSecret calls fn with every secret the store holds, past its deletion
// date or not, by name and without its versions, listing scanBatch at a
// time. It stops at fn's first error and returns it.
func (s *Service) eachSecret(ctx context.Context, fn func(*GenericSecret) error) error {
	for after := ""; ; {
		secrets, err := s.secrets.ListSecretsAfter(ctx, after, scanBatch)
		if err != nil {
			return fmt.Errorf("list secrets: %w", err)
		}
		for i := range secrets {
			if err := fn(&secrets[i]); err != nil {
				return err
			}
		}
		if len(secrets) < scanBatch {
			return nil
		}
		after = secrets[len(secrets)-1].Name
	}
}

// dropSecret destroys sec, read past its deletion date, if it is stored as
// it was read, and reports whether this call destroyed it. One already gone
// was destroyed by another; one that changed meanwhile was restored by a
// request that read it before its date passed, and stays.
func (s *Service) dropSecret(ctx context.Context, sec *GenericSecret) (destroyed bool, err error) {
	err = s.secrets.DeleteSecret(ctx, sec.Name, sec.Revision)
	switch {
	case err == nil:
		s.destroyed(ctx, Destruction{Kind: DestroyedSecret, ID: sec.Name, DeleteAt: sec.DeleteAt})
		return true, nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict):
		return false, nil
	}
	return false, err
}
