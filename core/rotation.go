package core

import (
	"context"
	"errors"
	"fmt"
)

// Rewrap is one version's new wrapping: Next replaces the stored version if
// the stored one is still Old.
type Rewrap struct {
	Old, Next KeyVersion
}

// VersionRewrapper is implemented by key stores that can re-wrap stored
// versions, which a root rotation needs.
type VersionRewrapper interface {
	// RewrapVersions replaces, in one atomic step, the Wrapped, Digest and
	// RootKeyID of every version in batch whose stored Wrapped and Digest
	// still equal its Old's. Versions changed meanwhile, or gone with their
	// key, are left as they are. It returns how many it replaced.
	RewrapVersions(ctx context.Context, batch []Rewrap) (int, error)
}

// RewrapProgress counts a root rotation's work so far.
type RewrapProgress struct {
	// Passes over the store; the last one finds nothing left to re-wrap.
	Passes int
	// Keys, Versions and Certificates are what the latest pass read so
	// far.
	Keys, Versions, Certificates int
	// Rewrapped counts versions re-wrapped by this run, all passes
	// together, and CertificatesRewrapped certificates' private keys.
	Rewrapped, CertificatesRewrapped int
}

// RewrapOptions tune RewrapRoot.
type RewrapOptions struct {
	// Batch is how many versions one store write re-wraps (default 100).
	Batch int
	// Progress, if set, is called after every store write and every pass.
	Progress func(RewrapProgress)
}

// maxIdlePasses bounds the passes that find work but can re-wrap none of it
// (versions re-wrapped by a concurrent run in the meantime, say).
const maxIdlePasses = 3

// RewrapRoot re-wraps, under the current root key, every stored version that
// another root key of the ring wrapped or that records none, and every
// certificate's private key another wrapped, and seals again the material
// digests of imported keys with them. Instances keep serving
// meanwhile: each version is replaced atomically, and every instance
// configured with both keys opens it before and after. It is safe to stop at
// any point and to run again; it returns when a whole pass over the store
// finds nothing left, after which the other root keys can be dropped. Keys
// past their deletion dates are not re-wrapped. It
// fails, after re-wrapping all else, while a key whose material is deleted
// keeps a digest of the first form (digest.go): only the same material,
// imported again, moves that digest.
func (s *Service) RewrapRoot(ctx context.Context, opts RewrapOptions) (RewrapProgress, error) {
	rw, ok := s.store.(VersionRewrapper)
	if !ok {
		return RewrapProgress{}, errors.New("this key store cannot re-wrap versions")
	}
	if opts.Batch <= 0 {
		opts.Batch = 100
	}
	report := func(p RewrapProgress) {
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	var p RewrapProgress
	for idle := 0; ; {
		p.Passes++
		p.Keys, p.Versions, p.Certificates = 0, 0, 0
		found, done, held, err := s.rewrapPass(ctx, rw, opts.Batch, &p, report)
		if err != nil {
			return p, err
		}
		report(p)
		if found == 0 && len(held) > 0 {
			return p, fmt.Errorf("keys %v: their imported material is deleted and their material digests are of the first form, which only the root key that made them checks; import the same material into them again while that key is configured, then re-wrap again", held)
		}
		if found == 0 {
			return p, nil
		}
		if done == 0 {
			if idle++; idle >= maxIdlePasses {
				return p, fmt.Errorf("%d versions still need re-wrapping, but %d passes changed none of them", found, idle)
			}
		}
	}
}

// rewrapPass walks every key's versions, then every certificate, once and
// re-wraps those not under the current root key. It returns how many needed it, how many it re-wrapped, and
// the keys whose digest only their deleted material could move.
func (s *Service) rewrapPass(ctx context.Context, rw VersionRewrapper, size int, p *RewrapProgress, report func(RewrapProgress)) (found, done int, held []string, err error) {
	current := s.roots.Current()
	batch := make([]Rewrap, 0, size)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := rw.RewrapVersions(ctx, batch)
		batch = batch[:0]
		if err != nil {
			return fmt.Errorf("store the re-wrapped versions: %w", err)
		}
		done += n
		p.Rewrapped += n
		report(*p)
		return nil
	}
	// A key past its deletion date is left under the root key that wrapped
	// it: its material is due for destruction, and once that root key is
	// dropped it opens under none.
	err = s.eachKey(ctx, s.clock.Now(), func(k *Key) error {
		versions, _, err := s.store.ListVersions(ctx, k.ID, Page{})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("list the versions of key %s: %w", k.ID, err)
		}
		p.Keys++
		for _, v := range versions {
			p.Versions++
			// A version that holds no material and no digest of it has
			// nothing to re-wrap.
			if v.RootKeyID == current.id || len(v.Wrapped) == 0 && len(v.Digest) == 0 {
				continue
			}
			next, err := s.rewrapVersion(current, v)
			if errors.Is(err, errDigestNeedsMaterial) {
				held = append(held, v.KeyID)
				continue
			}
			found++
			if err != nil {
				return fmt.Errorf("key %s version %s: %w", v.KeyID, v.VersionID, err)
			}
			if batch = append(batch, Rewrap{Old: v, Next: next}); len(batch) == size {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, nil, err
	}
	if err := flush(); err != nil {
		return 0, 0, nil, err
	}
	cfound, cdone, err := s.rewrapCertificates(ctx, current, p)
	return found + cfound, done + cdone, held, err
}

// rewrapCertificates re-wraps under current the private key of every
// certificate another root key wrapped, each with a compare-and-set update
// of its certificate: one changed meanwhile is left for the next pass.
func (s *Service) rewrapCertificates(ctx context.Context, current *RootKey, p *RewrapProgress) (found, done int, err error) {
	if s.certs == nil {
		return 0, 0, nil
	}
	for after := ""; ; {
		page, err := s.certs.ListCertificatesAfter(ctx, after, 100)
		if err != nil {
			return found, done, fmt.Errorf("list certificates: %w", err)
		}
		for _, cert := range page {
			after = cert.ID
			p.Certificates++
			if cert.RootKeyID == current.id {
				continue
			}
			found++
			v, err := s.rewrapVersion(current, KeyVersion{KeyID: cert.ID, VersionID: CertificateKeyVersion, Wrapped: cert.PrivateKey, RootKeyID: cert.RootKeyID})
			if err != nil {
				return found, done, fmt.Errorf("certificate %s: %w", cert.ID, err)
			}
			cert.PrivateKey, cert.RootKeyID = v.Wrapped, v.RootKeyID
			cert.Revision++
			switch err := s.certs.UpdateCertificate(ctx, cert); {
			case err == nil:
				done++
				p.CertificatesRewrapped++
			case !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound):
				return found, done, fmt.Errorf("store the re-wrapped certificate %s: %w", cert.ID, err)
			}
		}
		if len(page) < 100 {
			return found, done, nil
		}
	}
}

// rewrapVersion opens v under whichever root key wrapped it and seals its
// material, and the digest of imported material, again under current, with
// fresh nonces.
func (s *Service) rewrapVersion(current *RootKey, v KeyVersion) (KeyVersion, error) {
	next := v
	next.RootKeyID = current.id
	var material []byte
	if len(v.Wrapped) > 0 {
		m, err := s.roots.open(v)
		if err != nil {
			return KeyVersion{}, err
		}
		defer clear(m)
		if next.Wrapped, err = current.wrap(s.rand, v.KeyID, v.VersionID, m); err != nil {
			return KeyVersion{}, err
		}
		material = m
	}
	if len(v.Digest) > 0 {
		var err error
		if next.Digest, err = s.roots.resealDigest(s.rand, current, v, material); err != nil {
			return KeyVersion{}, err
		}
	}
	return next, nil
}

// RootKeyIDs lists the IDs of the root keys the service accepts, the current
// one first.
func (s *Service) RootKeyIDs() []string { return s.roots.IDs() }
