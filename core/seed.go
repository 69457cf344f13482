package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// SeedKey is a key a seed file declares: a fixture that start-up makes once
// and then finds in the store.
type SeedKey struct {
	ID          string
	Description string
	// State is Enabled (when empty) or Disabled.
	State KeyState
	// RotationInterval ("365d", "720h") turns automatic rotation on; empty
	// leaves it off.
	RotationInterval string
	Tags             map[string]string
	Aliases          []string
	// DeletionProtection, when set, refuses ScheduleKeyDeletion with the
	// description as the reason.
	DeletionProtection            bool
	DeletionProtectionDescription string
	// Policy is the key's own policy document (see keypolicy.go); empty
	// is the default policy.
	Policy string
	// Versions are the key's material, oldest first; the last is primary.
	// None: one version of fresh random material, made once.
	Versions []SeedVersion
}

// SeedVersion is one version of a seeded key's material.
type SeedVersion struct {
	// ID is the version's ID; empty derives one from the key ID and the
	// version's position, the same on every instance seeded from one file,
	// as blobs name their version.
	ID string
	// Material is 32 bytes. Seed zeroes it.
	Material []byte
}

// SeedResult counts what a seed did.
type SeedResult struct {
	Created, Existing, Aliases int
}

// SeedConflict is a seed that disagrees with the store: start-up stops and
// the store is left as it was. Each line names one conflict; none carries key
// material.
type SeedConflict struct {
	Conflicts []string
}

func (e *SeedConflict) Error() string {
	return "the seed conflicts with the store: " + strings.Join(e.Conflicts, "; ")
}

// seedPlan is a checked seed key and what applying it needs.
type seedPlan struct {
	key      Key
	versions []KeyVersion
	exists   bool
	aliases  []string // aliases still to create
	// purge marks a stored key of this ID past its deletion date, to
	// destroy at revision before the key is seeded afresh; deleteAt was
	// its deletion date.
	purge    bool
	revision int64
	deleteAt time.Time
}

// Seed applies a seed idempotently: keys the store lacks are created with
// their versions and aliases; keys it has are checked (same material, by
// unwrapping the stored versions with the root key) and otherwise left as they
// are, so a restart changes nothing and changes made since through the API
// stand. Every check runs before the first write: a seed that is malformed or
// conflicts with the store (a key ID with other material, an alias on another
// key) is refused whole. Seed zeroes the given material.
func (s *Service) Seed(ctx context.Context, keys []SeedKey) (SeedResult, error) {
	defer func() {
		for _, k := range keys {
			for _, v := range k.Versions {
				clear(v.Material)
			}
		}
	}()
	plans, err := s.planSeed(ctx, keys)
	if err != nil {
		return SeedResult{}, err
	}
	var res SeedResult
	for i := range plans {
		p := &plans[i]
		if p.exists {
			res.Existing++
		} else {
			if err := s.purgeSeeded(ctx, p); err != nil {
				return res, err
			}
			created, err := s.createSeeded(ctx, p, keys[i])
			if err != nil {
				return res, err
			}
			if created {
				res.Created++
			} else {
				res.Existing++
			}
		}
		for _, name := range p.aliases {
			now := s.clock.Now().UTC().Truncate(time.Second)
			err := s.store.CreateAlias(ctx, Alias{Name: name, KeyID: p.key.ID, CreatedAt: now, UpdatedAt: now})
			if errors.Is(err, ErrExists) {
				// Another instance seeding at the same moment.
				if a, gerr := s.store.GetAlias(ctx, name); gerr == nil && a.KeyID == p.key.ID {
					continue
				}
				return res, &SeedConflict{Conflicts: []string{fmt.Sprintf("alias %s was taken by another key while seeding", name)}}
			}
			if err != nil {
				return res, fmt.Errorf("seed alias %s: %w", name, err)
			}
			s.aliasChanged(ctx, name, p.key.ID)
			res.Aliases++
		}
	}
	return res, nil
}

// planSeed checks every seed key and compares it with the store.
func (s *Service) planSeed(ctx context.Context, keys []SeedKey) ([]seedPlan, error) {
	var conflicts []string
	ids, aliasOwner := map[string]bool{}, map[string]string{}
	plans := make([]seedPlan, len(keys))
	now := s.clock.Now().UTC().Truncate(time.Second)
	for i, sk := range keys {
		k, vs, err := s.seedKey(sk, now)
		if err != nil {
			return nil, fmt.Errorf("seed key %d (%s): %w", i+1, sk.ID, err)
		}
		if ids[k.ID] {
			return nil, fmt.Errorf("seed key %s appears twice", k.ID)
		}
		ids[k.ID] = true
		for _, a := range sk.Aliases {
			if err := validAliasName("aliases", a); err != nil {
				return nil, fmt.Errorf("seed key %s: alias %q: %s", k.ID, a, AsError(err).Message)
			}
			if owner, dup := aliasOwner[a]; dup {
				return nil, fmt.Errorf("seed alias %s is given to both %s and %s", a, owner, k.ID)
			}
			aliasOwner[a] = k.ID
		}
		p := seedPlan{key: k, versions: vs}
		stored, err := s.store.GetKey(ctx, k.ID)
		switch {
		case err == nil && s.deleted(&stored):
			// Gone to every caller, and purged by the first change that
			// meets it: the store lacks this key, so it is seeded afresh,
			// and its aliases, which go with it, are made again. Only with
			// the material it held: caches keep a version's material by its
			// IDs for as long as they like, since versions never change.
			p.purge, p.revision, p.deleteAt = true, stored.Revision, stored.DeleteAt
			conflicts = append(conflicts, s.compareSeeded(ctx, stored, sk)...)
		case err == nil:
			p.exists = true
			conflicts = append(conflicts, s.compareSeeded(ctx, stored, sk)...)
		case !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("seed key %s: %w", k.ID, err)
		}
		for _, a := range sk.Aliases {
			got, err := s.store.GetAlias(ctx, a)
			switch {
			case errors.Is(err, ErrNotFound):
				p.aliases = append(p.aliases, a)
			case err != nil:
				return nil, fmt.Errorf("seed alias %s: %w", a, err)
			case got.KeyID != k.ID:
				conflicts = append(conflicts, fmt.Sprintf("alias %s already names key %s, not %s", a, got.KeyID, k.ID))
			case p.purge:
				p.aliases = append(p.aliases, a)
			}
		}
		plans[i] = p
	}
	if len(conflicts) > 0 {
		return nil, &SeedConflict{Conflicts: conflicts}
	}
	return plans, nil
}

// seedKey checks a seed key and builds the key and its wrapped versions.
func (s *Service) seedKey(sk SeedKey, now time.Time) (Key, []KeyVersion, error) {
	if !validKeyID(sk.ID) {
		return Key{}, nil, errors.New("keyId must be 1 to 128 letters, digits, - and _")
	}
	if utf8.RuneCountInString(sk.Description) > 8192 {
		return Key{}, nil, errors.New("description is longer than 8192 characters")
	}
	state := sk.State
	switch state {
	case "":
		state = KeyEnabled
	case KeyEnabled, KeyDisabled:
	default:
		return Key{}, nil, fmt.Errorf("state must be Enabled or Disabled, not %q", sk.State)
	}
	if err := checkTags("tags", sk.Tags, TagRules{}); err != nil {
		return Key{}, nil, errors.New(AsError(err).Message)
	}
	if utf8.RuneCountInString(sk.DeletionProtectionDescription) > 8192 {
		return Key{}, nil, errors.New("deletionProtectionDescription is longer than 8192 characters")
	}
	if sk.Policy != "" {
		if _, err := s.compileDocument("key", sk.Policy); err != nil {
			return Key{}, nil, errors.New("policy: " + AsError(err).Message)
		}
	}
	k := Key{
		ID: sk.ID, Description: sk.Description, KeySpec: "Aliyun_AES_256", KeyUsage: "ENCRYPT/DECRYPT",
		Origin: "Aliyun_KMS", ProtectionLevel: "SOFTWARE", Creator: s.account, State: state, CreatedAt: now,
		LastRotatedAt: now, Tags: sk.Tags, Revision: 1,
		DeletionProtection: sk.DeletionProtection, DeletionProtectionDescription: sk.DeletionProtectionDescription,
		Policy: sk.Policy,
	}
	if sk.RotationInterval != "" {
		d, err := parseInterval("rotationInterval", sk.RotationInterval)
		if err != nil {
			return Key{}, nil, errors.New(AsError(err).Message)
		}
		k.AutomaticRotation, k.RotationInterval = true, d
	}
	if len(sk.Versions) == 0 {
		vid := newVersionID()
		v, err := s.root.newVersion(s.rand, k.ID, vid, now, KeyMaterialSize)
		if err != nil {
			return Key{}, nil, err
		}
		k.PrimaryVersionID = vid
		return k, []KeyVersion{v}, nil
	}
	seen := map[string]bool{}
	vs := make([]KeyVersion, 0, len(sk.Versions))
	for i, v := range sk.Versions {
		vid := v.ID
		if vid == "" {
			vid = seedVersionID(k.ID, i)
		}
		if !validKeyID(vid) || seen[vid] {
			return Key{}, nil, fmt.Errorf("version %d: versionId %q is not a valid, unique ID", i+1, vid)
		}
		seen[vid] = true
		if len(v.Material) != KeyMaterialSize {
			return Key{}, nil, fmt.Errorf("version %s: material must be base64 of %d bytes", vid, KeyMaterialSize)
		}
		w, err := s.root.wrap(s.rand, k.ID, vid, v.Material)
		if err != nil {
			return Key{}, nil, err
		}
		vs = append(vs, KeyVersion{KeyID: k.ID, VersionID: vid, CreatedAt: now, Wrapped: w, RootKeyID: s.root.ID()})
	}
	k.PrimaryVersionID = vs[len(vs)-1].VersionID
	return k, vs, nil
}

// seedVersionID is the version ID a seeded version without one gets: a UUID
// derived from the key ID and position, never from the material.
func seedVersionID(keyID string, i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "kmsless/v1/seed-version\x00%s\x00%d", keyID, i))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// compareSeeded lists how a stored key disagrees with its seed: each seeded
// version must be stored, wrapping the same material. A seed without material
// accepts whatever the key holds.
func (s *Service) compareSeeded(ctx context.Context, stored Key, sk SeedKey) []string {
	var out []string
	if !symmetric(&stored) {
		// Seeds are encryption keys; an HMAC key of the same material
		// is not the key the seed describes.
		out = append(out, fmt.Sprintf("key %s exists as a %s key, not the %s key the seed describes", stored.ID, stored.KeySpec, SpecAES))
	}
	for i, v := range sk.Versions {
		vid := v.ID
		if vid == "" {
			vid = seedVersionID(sk.ID, i)
		}
		sv, err := s.store.GetVersion(ctx, stored.ID, vid)
		if errors.Is(err, ErrNotFound) {
			out = append(out, fmt.Sprintf("key %s exists without the seeded version %s", stored.ID, vid))
			continue
		}
		if err != nil {
			out = append(out, fmt.Sprintf("key %s version %s cannot be read: %v", stored.ID, vid, err))
			continue
		}
		same, err := s.roots.holds(sv, v.Material)
		switch {
		case err != nil:
			out = append(out, fmt.Sprintf("key %s version %s cannot be compared with the seed: %v", stored.ID, vid, err))
		case !same:
			out = append(out, fmt.Sprintf("key %s version %s holds other material than the seed", stored.ID, vid))
		}
	}
	return out
}

// purgeSeeded destroys the stored key past its deletion date that a plan
// replaces, with its versions and aliases. Another instance may have purged
// it first; one that changed it meanwhile (its clock behind) makes the seed
// stop, as any conflict does, and the next start-up plans again.
func (s *Service) purgeSeeded(ctx context.Context, p *seedPlan) error {
	if !p.purge {
		return nil
	}
	err := s.store.DeleteKey(ctx, p.key.ID, p.revision)
	if errors.Is(err, ErrConflict) {
		return &SeedConflict{Conflicts: []string{fmt.Sprintf("key %s, past its deletion date, was changed while seeding", p.key.ID)}}
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("seed key %s: purge: %w", p.key.ID, err)
	}
	if err == nil {
		s.destroyed(ctx, Destruction{Kind: DestroyedKey, ID: p.key.ID, DeleteAt: p.deleteAt})
	}
	s.cache.InvalidateKey(ctx, p.key.ID)
	for _, a := range p.aliases {
		s.aliasChanged(ctx, a, p.key.ID)
	}
	return nil
}

// createSeeded stores a planned key and its versions. When another instance
// seeding the same store created it first, the stored key is compared instead.
func (s *Service) createSeeded(ctx context.Context, p *seedPlan, sk SeedKey) (bool, error) {
	k := p.key
	// All versions in one step: an instance seeding the same store at the
	// same moment never sees the key without the versions it declares.
	err := s.store.CreateKey(ctx, k, p.versions[0], p.versions[1:]...)
	if errors.Is(err, ErrExists) {
		stored, gerr := s.store.GetKey(ctx, k.ID)
		if gerr != nil {
			return false, fmt.Errorf("seed key %s: %w", k.ID, gerr)
		}
		if c := s.compareSeeded(ctx, stored, sk); len(c) > 0 {
			return false, &SeedConflict{Conflicts: c}
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("seed key %s: %w", k.ID, err)
	}
	s.cache.InvalidateKey(ctx, k.ID)
	return true, nil
}
