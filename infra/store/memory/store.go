package memory

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/kmsless/kmsless/core"
)

// Store holds keys, versions, aliases, partition records, secrets, grants,
// certificates, keys' last uses and access records in maps behind one lock,
// so every method is atomic. Values are copied on the way in and out: a
// caller never shares a buffer with the stored record.
type Store struct {
	mu           sync.RWMutex
	keys         map[string]core.Key
	order        []core.KeyPosition           // every key's place, in the listing's order
	versions     map[string][]core.KeyVersion // by key ID, in insertion order
	aliases      map[string]core.Alias
	partitions   map[string]core.Partition
	secrets      map[string]core.GenericSecret
	grants       map[string]map[string]core.Grant // by key ID, then grant ID
	certificates map[string]core.Certificate
	usage        map[string]core.KeyUsage     // by key ID
	access       map[string]map[string][]byte // Docs by kind, then name
	since        time.Time                    // when New made the store
}

// New returns an empty store, which keeps keys' uses from now.
func New() *Store {
	return &Store{
		keys:         make(map[string]core.Key),
		versions:     make(map[string][]core.KeyVersion),
		aliases:      make(map[string]core.Alias),
		partitions:   make(map[string]core.Partition),
		secrets:      make(map[string]core.GenericSecret),
		grants:       make(map[string]map[string]core.Grant),
		certificates: make(map[string]core.Certificate),
		usage:        make(map[string]core.KeyUsage),
		access:       make(map[string]map[string][]byte),
		since:        time.Now().UTC(),
	}
}

// Close does nothing: there is nothing to release.
func (s *Store) Close() error { return nil }

func checkVersion(k core.Key, v core.KeyVersion) error {
	if k.ID == "" || v.VersionID == "" {
		return errors.New("memory: key and version IDs must not be empty")
	}
	if v.KeyID != k.ID {
		return fmt.Errorf("memory: version %q belongs to key %q, not %q", v.VersionID, v.KeyID, k.ID)
	}
	return nil
}

func copyVersion(v core.KeyVersion) core.KeyVersion {
	v.Wrapped = bytes.Clone(v.Wrapped)
	v.Digest = bytes.Clone(v.Digest)
	return v
}

func copyKey(k core.Key) core.Key {
	k.Tags = maps.Clone(k.Tags)
	return k
}

func copyPartition(p core.Partition) core.Partition {
	p.CiphertextBlob = bytes.Clone(p.CiphertextBlob)
	p.EncryptionContext = maps.Clone(p.EncryptionContext)
	return p
}

// CreateKey stores k and its versions, first then more, in one step.
func (s *Store) CreateKey(ctx context.Context, k core.Key, first core.KeyVersion, more ...core.KeyVersion) error {
	vs := append([]core.KeyVersion{first}, more...)
	seen := map[string]bool{}
	for _, v := range vs {
		if err := checkVersion(k, v); err != nil {
			return err
		}
		if seen[v.VersionID] {
			return fmt.Errorf("memory: version %q of key %q given twice: %w", v.VersionID, k.ID, core.ErrExists)
		}
		seen[v.VersionID] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok {
		return fmt.Errorf("memory: key %q: %w", k.ID, core.ErrExists)
	}
	s.putKey(k)
	for _, v := range vs {
		s.versions[k.ID] = append(s.versions[k.ID], copyVersion(v))
	}
	return nil
}

// ReplaceVersion stores v whole in place of the version with its ID, and
// the key's new metadata under the same compare-and-set as UpdateKey. The
// version keeps its place in the insertion order.
func (s *Store) ReplaceVersion(ctx context.Context, k core.Key, v core.KeyVersion) error {
	if err := checkVersion(k, v); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.cas(k); err != nil {
		return err
	}
	vs := s.versions[k.ID]
	i := slices.IndexFunc(vs, func(old core.KeyVersion) bool { return old.VersionID == v.VersionID })
	if i < 0 {
		return fmt.Errorf("memory: version %q of key %q: %w", v.VersionID, k.ID, core.ErrNotFound)
	}
	vs[i] = copyVersion(v)
	s.putKey(k)
	return nil
}

// GetKey returns the key with the given ID.
func (s *Store) GetKey(ctx context.Context, id string) (core.Key, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.key(id)
}

// putKey stores a copy of k and keeps order: a new key, or one whose place
// has changed, takes its place in it.
func (s *Store) putKey(k core.Key) {
	if old, ok := s.keys[k.ID]; ok {
		if old.Position().Compare(k.Position()) == 0 {
			s.keys[k.ID] = copyKey(k)
			return
		}
		s.unorder(old.Position())
	}
	i, _ := slices.BinarySearchFunc(s.order, k.Position(), core.KeyPosition.Compare)
	s.order = slices.Insert(s.order, i, k.Position())
	s.keys[k.ID] = copyKey(k)
}

// unorder takes the place p out of order.
func (s *Store) unorder(p core.KeyPosition) {
	if i, ok := slices.BinarySearchFunc(s.order, p, core.KeyPosition.Compare); ok {
		s.order = slices.Delete(s.order, i, i+1)
	}
}

func (s *Store) key(id string) (core.Key, error) {
	k, ok := s.keys[id]
	if !ok {
		return core.Key{}, fmt.Errorf("memory: key %q: %w", id, core.ErrNotFound)
	}
	return copyKey(k), nil
}

// cas checks that k is the next revision of the stored key.
func (s *Store) cas(k core.Key) error {
	old, err := s.key(k.ID)
	if err != nil {
		return err
	}
	if old.Revision != k.Revision-1 {
		return fmt.Errorf("memory: key %q is at revision %d, update expects %d: %w", k.ID, old.Revision, k.Revision-1, core.ErrConflict)
	}
	return nil
}

// UpdateKey replaces the key's metadata if the stored revision is k.Revision-1.
func (s *Store) UpdateKey(ctx context.Context, k core.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.cas(k); err != nil {
		return err
	}
	s.putKey(k)
	return nil
}

// AddVersion stores v and the key's new metadata under the same compare-and-set
// as UpdateKey.
func (s *Store) AddVersion(ctx context.Context, k core.Key, v core.KeyVersion) error {
	if err := checkVersion(k, v); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.cas(k); err != nil {
		return err
	}
	if slices.ContainsFunc(s.versions[k.ID], func(old core.KeyVersion) bool { return old.VersionID == v.VersionID }) {
		return fmt.Errorf("memory: version %q of key %q: %w", v.VersionID, k.ID, core.ErrExists)
	}
	s.putKey(k)
	s.versions[k.ID] = append(s.versions[k.ID], copyVersion(v))
	return nil
}

// DeleteKey removes the key, its versions, aliases, grants and last use if
// the stored revision is still revision.
func (s *Store) DeleteKey(ctx context.Context, id string, revision int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.key(id)
	if err != nil {
		return err
	}
	if old.Revision != revision {
		return fmt.Errorf("memory: key %q is at revision %d, delete expects %d: %w", id, old.Revision, revision, core.ErrConflict)
	}
	s.unorder(old.Position())
	delete(s.keys, id)
	delete(s.versions, id)
	delete(s.usage, id)
	maps.DeleteFunc(s.aliases, func(_ string, a core.Alias) bool { return a.KeyID == id })
	for grantID := range s.grants[id] {
		s.dropGrant(id, grantID)
	}
	return nil
}

// page cuts one page out of all and returns it with the total count.
func page[T any](all []T, p core.Page) ([]T, int) {
	total := len(all)
	start := min(max(p.Offset, 0), total)
	end := total
	if p.Limit > 0 {
		end = min(start+p.Limit, total)
	}
	return slices.Clone(all[start:end]), total
}

// ListKeys returns one page of the keys that exist at asOf, ordered by
// creation time, then ID.
func (s *Store) ListKeys(ctx context.Context, asOf time.Time, p core.Page) ([]core.Key, int, error) {
	keys, total := page(s.listed(asOf, core.KeyPosition{}, 0), p)
	return copyKeys(keys), total, nil
}

// ListKeysAfter returns the first limit keys that exist at asOf after the
// position after, in ListKeys' order.
func (s *Store) ListKeysAfter(ctx context.Context, asOf time.Time, after core.KeyPosition, limit int) ([]core.Key, error) {
	return copyKeys(s.listed(asOf, after, limit)), nil
}

// listed returns the keys that exist at asOf after the position after (the
// zero position comes before every key), ordered by creation time, then ID,
// and at most limit of them (0: every one). It finds its place in order, so
// a walk over every key a page at a time costs what it reads, as the other
// stores' do. The keys share their tags with the stored ones, which are
// replaced, never changed: a caller hands out copies.
func (s *Store) listed(asOf time.Time, after core.KeyPosition, limit int) []core.Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, found := slices.BinarySearchFunc(s.order, after, core.KeyPosition.Compare)
	if found {
		i++
	}
	var keys []core.Key
	for _, p := range s.order[i:] {
		if limit > 0 && len(keys) == limit {
			break
		}
		if k := s.keys[p.ID]; !k.PastDeletion(asOf) {
			keys = append(keys, k)
		}
	}
	return keys
}

func copyKeys(keys []core.Key) []core.Key {
	for i := range keys {
		keys[i] = copyKey(keys[i])
	}
	return keys
}

// GetVersion returns one version of a key.
func (s *Store) GetVersion(ctx context.Context, keyID, versionID string) (core.KeyVersion, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.versions[keyID] {
		if v.VersionID == versionID {
			return copyVersion(v), nil
		}
	}
	return core.KeyVersion{}, fmt.Errorf("memory: version %q of key %q: %w", versionID, keyID, core.ErrNotFound)
}

// ListVersions returns one page of a key's versions, oldest first.
func (s *Store) ListVersions(ctx context.Context, keyID string, p core.Page) ([]core.KeyVersion, int, error) {
	s.mu.RLock()
	vs, total := page(s.versions[keyID], p)
	s.mu.RUnlock()
	for i := range vs {
		vs[i] = copyVersion(vs[i])
	}
	return vs, total, nil
}

// CreateAlias stores a new alias of an existing key.
func (s *Store) CreateAlias(ctx context.Context, a core.Alias) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.aliases[a.Name]; ok {
		return fmt.Errorf("memory: alias %q: %w", a.Name, core.ErrExists)
	}
	if _, err := s.key(a.KeyID); err != nil {
		return err
	}
	s.aliases[a.Name] = a
	return nil
}

// UpdateAlias points an existing alias at another existing key. The alias keeps
// its creation time.
func (s *Store) UpdateAlias(ctx context.Context, a core.Alias) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.alias(a.Name)
	if err != nil {
		return err
	}
	if _, err := s.key(a.KeyID); err != nil {
		return err
	}
	a.CreatedAt = old.CreatedAt
	s.aliases[a.Name] = a
	return nil
}

// DeleteAlias removes an alias.
func (s *Store) DeleteAlias(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.alias(name); err != nil {
		return err
	}
	delete(s.aliases, name)
	return nil
}

// GetAlias returns an alias by name.
func (s *Store) GetAlias(ctx context.Context, name string) (core.Alias, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.alias(name)
}

func (s *Store) alias(name string) (core.Alias, error) {
	a, ok := s.aliases[name]
	if !ok {
		return core.Alias{}, fmt.Errorf("memory: alias %q: %w", name, core.ErrNotFound)
	}
	return a, nil
}

// ListAliases returns one page of aliases ordered by name: all of them, or those
// of keyID when it is not empty, but for those of keys past their deletion
// date at asOf.
func (s *Store) ListAliases(ctx context.Context, keyID string, asOf time.Time, p core.Page) ([]core.Alias, int, error) {
	as, total := page(s.listedAliases(keyID, asOf, ""), p)
	return as, total, nil
}

// ListAliasesAfter returns the first limit aliases after the position after,
// in ListAliases' order and leaving out the same. The map holds no order: it
// sorts the aliases after the position, as ListAliases sorts them all.
func (s *Store) ListAliasesAfter(ctx context.Context, keyID string, asOf time.Time, after core.AliasPosition, limit int) ([]core.Alias, error) {
	as, _ := page(s.listedAliases(keyID, asOf, after.Name), core.Page{Limit: limit})
	return as, nil
}

// listedAliases returns, ordered by name, the aliases whose names come after
// after (every name comes after ""): all of them, or those of keyID when it
// is not empty, but for those of keys past their deletion date at asOf.
func (s *Store) listedAliases(keyID string, asOf time.Time, after string) []core.Alias {
	s.mu.RLock()
	var all []core.Alias
	for _, a := range s.aliases {
		if (keyID == "" || a.KeyID == keyID) && a.Name > after && !s.keys[a.KeyID].PastDeletion(asOf) {
			all = append(all, a)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(all, func(a, b core.Alias) int { return cmp.Compare(a.Name, b.Name) })
	return all
}

// CreatePartition stores p unless a record for p.ID exists, and returns the
// stored record and whether this call created it.
func (s *Store) CreatePartition(ctx context.Context, p core.Partition) (core.Partition, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if stored, ok := s.partitions[p.ID]; ok {
		return copyPartition(stored), false, nil
	}
	s.partitions[p.ID] = copyPartition(p)
	return copyPartition(p), true, nil
}

// GetPartition returns a partition record.
func (s *Store) GetPartition(ctx context.Context, id string) (core.Partition, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.partitions[id]
	if !ok {
		return core.Partition{}, fmt.Errorf("memory: partition %q: %w", id, core.ErrNotFound)
	}
	return copyPartition(p), nil
}

// ListPartitionsAfter returns the first limit partition records whose ID
// comes after after, by ID; all the rest when limit is zero or less.
func (s *Store) ListPartitionsAfter(ctx context.Context, after string, limit int) ([]core.Partition, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return byIDAfter(s.partitions, after, limit, copyPartition), nil
}

// byIDAfter returns copies of the first limit records of m, by ID (m's
// keys), whose ID comes after after; all the rest when limit is zero or
// less. The caller holds the lock.
func byIDAfter[T any](m map[string]T, after string, limit int, clone func(T) T) []T {
	ids := slices.Sorted(maps.Keys(m))
	i, found := slices.BinarySearch(ids, after)
	if found {
		i++
	}
	ids = ids[i:]
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]T, len(ids))
	for i, id := range ids {
		out[i] = clone(m[id])
	}
	return out
}

// RewrapVersions replaces the wrapping of the versions in batch that are still
// stored as their Old, in one step: a root rotation's write.
func (s *Store) RewrapVersions(ctx context.Context, batch []core.Rewrap) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range batch {
		vs := s.versions[r.Next.KeyID]
		i := slices.IndexFunc(vs, func(v core.KeyVersion) bool { return v.VersionID == r.Next.VersionID })
		if i < 0 || !bytes.Equal(vs[i].Wrapped, r.Old.Wrapped) || !bytes.Equal(vs[i].Digest, r.Old.Digest) {
			continue
		}
		vs[i].Wrapped, vs[i].Digest, vs[i].RootKeyID = bytes.Clone(r.Next.Wrapped), bytes.Clone(r.Next.Digest), r.Next.RootKeyID
		n++
	}
	return n, nil
}
