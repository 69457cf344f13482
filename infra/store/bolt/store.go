package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/records"
)

// lockTimeout bounds the wait for bbolt's exclusive file lock: a second process
// opening the same file fails with a clear error instead of hanging.
const lockTimeout = time.Second

// format is the layout version written into the meta bucket, so that a later
// layout can recognise (and migrate) files written by this one.
const format = "1"

// Buckets. Values are the core types as JSON: they already carry JSON tags, the
// records are small and rarely written, and JSON keeps a file readable with the
// bbolt CLI. Index entries have empty values.
var (
	bucketMeta           = []byte("meta")
	bucketKeys           = []byte("keys")             // key ID → Key
	bucketKeysByCreation = []byte("keys_by_creation") // when(CreatedAt) ‖ key ID → ∅
	bucketVersions       = []byte("versions")         // owner(key ID) ‖ version ID → KeyVersion
	bucketVersionOrder   = []byte("version_order")    // owner(key ID) ‖ when(CreatedAt when added) ‖ seq → version ID
	bucketAliases        = []byte("aliases")          // alias name → Alias
	bucketAliasesByKey   = []byte("aliases_by_key")   // owner(key ID) ‖ alias name → ∅
	bucketPartitions     = []byte("partitions")       // partition ID → Partition
	bucketSecrets        = []byte("secrets")          // secret name → GenericSecret, without its versions
	bucketSecretVersions = []byte("secret_versions")  // secret name → its versions (records.EncodeVersions)
	// Grant buckets join names with NUL, which no name they hold may
	// contain (CreateGrant refuses it): byte order is then the order of
	// the parts, compared one after another.
	bucketGrants           = []byte("grants")             // key ID ‖ 0 ‖ grant ID → Grant
	bucketGrantsByGrantee  = []byte("grants_by_grantee")  // GranteeName ‖ 0 ‖ key ID ‖ 0 ‖ grant ID → ∅
	bucketGrantsByRetiring = []byte("grants_by_retiring") // RetiringName ‖ 0 ‖ key ID ‖ 0 ‖ grant ID → ∅, when there is one
	bucketCertificates     = []byte("certificates")       // certificate ID → Certificate
	bucketKeyUsage         = []byte("key_usage")          // key ID → KeyUsage, its last use
	// Access records hold core's Doc as it is: the store never reads it.
	// Kind and name join with NUL as in the grant buckets (CreateAccess
	// refuses it in either), so a kind's records lie together, by name.
	bucketAccess = []byte("access") // kind ‖ 0 ‖ name → AccessRecord.Doc
)

// metaUsageSince is the meta entry that holds since when the file keeps
// keys' uses, as RFC 3339 text in UTC to the nanosecond. A file written
// before uses were kept lacks it: Open writes it then, from that time.
var metaUsageSince = []byte("usage_since")

// allBuckets are the buckets Open makes sure of. A file written before one was
// added lacks it, and Open creates it there: adding a bucket needs no new
// format.
var allBuckets = [][]byte{bucketMeta, bucketKeys, bucketKeysByCreation, bucketVersions, bucketVersionOrder, bucketAliases, bucketAliasesByKey, bucketPartitions, bucketSecrets, bucketSecretVersions,
	bucketGrants, bucketGrantsByGrantee, bucketGrantsByRetiring, bucketCertificates, bucketKeyUsage, bucketAccess}

// Store is a core.KeyStore backed by one bbolt file.
type Store struct {
	db *bbolt.DB
	// since is when the file began keeping keys' uses, read at Open: it
	// never changes after.
	since time.Time
	// tx, when set, is the one transaction every read and write of this
	// Store runs in (Transaction).
	tx *bbolt.Tx
}

var _ core.KeyStore = (*Store)(nil)

// Open opens (creating if needed, with its parent directories) the store file at
// path. The file is readable by its owner only.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("bolt: create directory for %s: %w", path, err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: %s is locked by another process (waited %s): %w", path, lockTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	// A file already laid out needs only a read: a write transaction syncs the
	// disk twice, which every cold start would pay.
	ready := false
	var since time.Time
	err = db.View(func(tx *bbolt.Tx) (err error) {
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				return nil
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get([]byte("format"))
		if v != nil && string(v) != format {
			return fmt.Errorf("file layout %q is not the supported %q", v, format)
		}
		since, ready, err = usageSince(meta)
		ready = ready && v != nil
		return err
	})
	if err == nil && !ready {
		err = db.Update(func(tx *bbolt.Tx) (err error) {
			since, err = initialise(tx, time.Now())
			return err
		})
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: initialise %s: %w", path, err)
	}
	return &Store{db: db, since: since}, nil
}

// initialise creates the buckets and records the file layout and, unless
// the file has them, since when it keeps keys' uses: from now. It returns
// that time.
func initialise(tx *bbolt.Tx, now time.Time) (time.Time, error) {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return time.Time{}, err
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch v := meta.Get([]byte("format")); {
	case v == nil:
		if err := meta.Put([]byte("format"), []byte(format)); err != nil {
			return time.Time{}, err
		}
	case string(v) != format:
		return time.Time{}, fmt.Errorf("file layout %q is not the supported %q", v, format)
	}
	since, ok, err := usageSince(meta)
	if ok || err != nil {
		return since, err
	}
	since = now.UTC()
	return since, meta.Put(metaUsageSince, []byte(since.Format(time.RFC3339Nano)))
}

// usageSince reads since when the file keeps keys' uses, and whether the
// file says.
func usageSince(meta *bbolt.Bucket) (time.Time, bool, error) {
	v := meta.Get(metaUsageSince)
	if v == nil {
		return time.Time{}, false, nil
	}
	since, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("stored %s %q: %w", metaUsageSince, v, err)
	}
	return since.UTC(), true, nil
}

// Close releases the file and its lock. A Transaction's Store leaves them:
// its transaction ends with the function it was handed to.
func (s *Store) Close() error {
	if s.tx != nil {
		return nil
	}
	return s.db.Close()
}

func (s *Store) view(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.tx != nil {
		return fn(s.tx)
	}
	return s.db.View(fn)
}

func (s *Store) update(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.tx != nil {
		return fn(s.tx)
	}
	return s.db.Update(fn)
}

// Transaction runs fn with a Store whose reads and writes all run in one
// write transaction, committed when fn returns nil and discarded whole when
// it returns an error: for loading a store (a copy) all at once, written to
// disk once. A write that fails part-way leaves what it wrote in the
// transaction, so fn must fail when one of them does. The transaction's
// changes are held in memory until it commits, and it holds the file's write
// lock until fn returns; the Store fn gets is for fn's goroutine alone.
func (s *Store) Transaction(ctx context.Context, fn func(*Store) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		return fn(&Store{db: s.db, since: s.since, tx: tx})
	})
}

// CreateKey stores k and its versions in one transaction.
func (s *Store) CreateKey(ctx context.Context, k core.Key, first core.KeyVersion, more ...core.KeyVersion) error {
	versions := append([]core.KeyVersion{first}, more...)
	for _, v := range versions {
		if err := checkVersion(k, v); err != nil {
			return err
		}
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketKeys).Get([]byte(k.ID)) != nil {
			return fmt.Errorf("bolt: key %q: %w", k.ID, core.ErrExists)
		}
		for _, v := range versions {
			if err := putVersion(tx, v); err != nil {
				return err
			}
		}
		return putKey(tx, nil, k)
	})
}

// GetKey returns the key with the given ID.
func (s *Store) GetKey(ctx context.Context, id string) (core.Key, error) {
	var k core.Key
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		k, err = getKey(tx, id)
		return err
	})
	return k, err
}

// UpdateKey replaces the key's metadata if the stored revision is k.Revision-1.
func (s *Store) UpdateKey(ctx context.Context, k core.Key) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := casKey(tx, k)
		if err != nil {
			return err
		}
		return putKey(tx, &old, k)
	})
}

// AddVersion stores v and the key's new metadata in one transaction, under the
// same compare-and-set as UpdateKey.
func (s *Store) AddVersion(ctx context.Context, k core.Key, v core.KeyVersion) error {
	if err := checkVersion(k, v); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := casKey(tx, k)
		if err != nil {
			return err
		}
		if err := putVersion(tx, v); err != nil {
			return err
		}
		return putKey(tx, &old, k)
	})
}

// ReplaceVersion stores v whole over the stored version with its ID and
// the key's new metadata in one transaction, under the same compare-and-set
// as UpdateKey. The version keeps its place in the creation order: its
// order entry, which holds the CreatedAt it was added with, stays as it
// is, even when v's CreatedAt differs.
func (s *Store) ReplaceVersion(ctx context.Context, k core.Key, v core.KeyVersion) error {
	if err := checkVersion(k, v); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := casKey(tx, k)
		if err != nil {
			return err
		}
		versions := tx.Bucket(bucketVersions)
		id := join(owner(v.KeyID), []byte(v.VersionID))
		if versions.Get(id) == nil {
			return fmt.Errorf("bolt: version %q of key %q: %w", v.VersionID, v.KeyID, core.ErrNotFound)
		}
		value, err := records.Encode(v)
		if err != nil {
			return fmt.Errorf("bolt: encode version %q: %w", v.VersionID, err)
		}
		if err := versions.Put(id, value); err != nil {
			return err
		}
		return putKey(tx, &old, k)
	})
}

// DeleteKey removes the key, its versions, aliases, grants and last use in
// one transaction, if the stored revision is still revision.
func (s *Store) DeleteKey(ctx context.Context, id string, revision int64) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		k, err := getKey(tx, id)
		if err != nil {
			return err
		}
		if k.Revision != revision {
			return fmt.Errorf("bolt: key %q is at revision %d, delete expects %d: %w", id, k.Revision, revision, core.ErrConflict)
		}
		prefix := owner(id)
		versions, order := tx.Bucket(bucketVersions), tx.Bucket(bucketVersionOrder)
		for _, entry := range keysUnder(order, prefix) {
			if err := versions.Delete(join(prefix, order.Get(entry))); err != nil {
				return err
			}
			if err := order.Delete(entry); err != nil {
				return err
			}
		}
		aliases, byKey := tx.Bucket(bucketAliases), tx.Bucket(bucketAliasesByKey)
		for _, entry := range keysUnder(byKey, prefix) {
			if err := aliases.Delete(entry[len(prefix):]); err != nil {
				return err
			}
			if err := byKey.Delete(entry); err != nil {
				return err
			}
		}
		if err := deleteGrants(tx, id); err != nil {
			return err
		}
		if err := tx.Bucket(bucketKeyUsage).Delete([]byte(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketKeysByCreation).Delete(join(when(k.CreatedAt), []byte(id))); err != nil {
			return err
		}
		return tx.Bucket(bucketKeys).Delete([]byte(id))
	})
}

// ListKeys returns one page of the keys that exist at asOf, ordered by
// creation time, then ID.
func (s *Store) ListKeys(ctx context.Context, asOf time.Time, p core.Page) ([]core.Key, int, error) {
	var keys []core.Key
	var total int
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		keep := existing(tx, asOf, func(entry, _ []byte) (string, error) { return string(entry[whenLen:]), nil })
		total, err = walk(tx.Bucket(bucketKeysByCreation), nil, p, keep, func(entry, _ []byte) error {
			k, err := getKey(tx, string(entry[whenLen:]))
			keys = append(keys, k)
			return err
		})
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return keys, total, nil
}

// ListKeysAfter returns the first limit keys that exist at asOf after the
// position after, in ListKeys' order. The creation-order index puts the
// position's entry, or the first after it, one seek away: it reads only the
// keys it returns and those past their deletion date among them.
func (s *Store) ListKeysAfter(ctx context.Context, asOf time.Time, after core.KeyPosition, limit int) ([]core.Key, error) {
	var keys []core.Key
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		from := join(when(after.CreatedAt), []byte(after.ID))
		c := tx.Bucket(bucketKeysByCreation).Cursor()
		entry, _ := c.Seek(from)
		if bytes.Equal(entry, from) {
			entry, _ = c.Next()
		}
		for ; entry != nil && (limit <= 0 || len(keys) < limit); entry, _ = c.Next() {
			k, err := getKey(tx, string(entry[whenLen:]))
			if err != nil {
				return err
			}
			if !k.PastDeletion(asOf) {
				keys = append(keys, k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// GetVersion returns one version of a key.
func (s *Store) GetVersion(ctx context.Context, keyID, versionID string) (core.KeyVersion, error) {
	var v core.KeyVersion
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		v, err = getVersion(tx, keyID, versionID)
		return err
	})
	return v, err
}

// ListVersions returns one page of a key's versions, oldest first.
func (s *Store) ListVersions(ctx context.Context, keyID string, p core.Page) ([]core.KeyVersion, int, error) {
	var vs []core.KeyVersion
	var total int
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		total, err = walk(tx.Bucket(bucketVersionOrder), owner(keyID), p, nil, func(_, versionID []byte) error {
			v, err := getVersion(tx, keyID, string(versionID))
			vs = append(vs, v)
			return err
		})
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return vs, total, nil
}

// CreateAlias stores a new alias of an existing key.
func (s *Store) CreateAlias(ctx context.Context, a core.Alias) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketAliases).Get([]byte(a.Name)) != nil {
			return fmt.Errorf("bolt: alias %q: %w", a.Name, core.ErrExists)
		}
		if _, err := getKey(tx, a.KeyID); err != nil {
			return err
		}
		return putAlias(tx, nil, a)
	})
}

// UpdateAlias points an existing alias at another existing key. The alias keeps
// its creation time.
func (s *Store) UpdateAlias(ctx context.Context, a core.Alias) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getAlias(tx, a.Name)
		if err != nil {
			return err
		}
		if _, err := getKey(tx, a.KeyID); err != nil {
			return err
		}
		a.CreatedAt = old.CreatedAt
		return putAlias(tx, &old, a)
	})
}

// DeleteAlias removes an alias.
func (s *Store) DeleteAlias(ctx context.Context, name string) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getAlias(tx, name)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketAliasesByKey).Delete(join(owner(old.KeyID), []byte(name))); err != nil {
			return err
		}
		return tx.Bucket(bucketAliases).Delete([]byte(name))
	})
}

// GetAlias returns an alias by name.
func (s *Store) GetAlias(ctx context.Context, name string) (core.Alias, error) {
	var a core.Alias
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		a, err = getAlias(tx, name)
		return err
	})
	return a, err
}

// ListAliases returns one page of aliases ordered by name: all of them, or those
// of keyID when it is not empty, but for those of keys past their deletion
// date at asOf.
func (s *Store) ListAliases(ctx context.Context, keyID string, asOf time.Time, p core.Page) ([]core.Alias, int, error) {
	var as []core.Alias
	var total int
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		l := listAliases(tx, keyID, asOf)
		total, err = walk(l.bucket, l.prefix, p, l.keep, func(k, v []byte) error {
			a, err := l.read(k, v)
			as = append(as, a)
			return err
		})
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return as, total, nil
}

// ListAliasesAfter returns the first limit aliases after the position after,
// in ListAliases' order and leaving out the same. The bucket it walks is
// ordered by name, so the position's entry, or the first after it, is one
// seek away: it reads only the aliases it returns and those it leaves out
// among them.
func (s *Store) ListAliasesAfter(ctx context.Context, keyID string, asOf time.Time, after core.AliasPosition, limit int) ([]core.Alias, error) {
	var as []core.Alias
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		l := listAliases(tx, keyID, asOf)
		return walkAfter(l.bucket, l.prefix, []byte(after.Name), limit, l.keep, func(k, v []byte) error {
			a, err := l.read(k, v)
			as = append(as, a)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return as, nil
}

// aliasListing is where a listing of aliases walks: the entries of bucket
// under prefix, in name order, that keep admits; read returns the alias an
// entry stands for.
type aliasListing struct {
	bucket *bbolt.Bucket
	prefix []byte
	keep   func(k, v []byte) error
	read   func(k, v []byte) (core.Alias, error)
}

// listAliases is the listing of all aliases (keyID empty), from the aliases
// bucket, or of keyID's, from its entries in the by-key bucket; either
// leaves out the aliases of keys past their deletion date at asOf.
func listAliases(tx *bbolt.Tx, keyID string, asOf time.Time) aliasListing {
	if keyID == "" {
		return aliasListing{
			bucket: tx.Bucket(bucketAliases),
			keep: existing(tx, asOf, func(_, value []byte) (string, error) {
				a, err := decode[core.Alias](value, "alias")
				return a.KeyID, err
			}),
			read: func(_, value []byte) (core.Alias, error) { return decode[core.Alias](value, "alias") },
		}
	}
	prefix := owner(keyID)
	return aliasListing{
		bucket: tx.Bucket(bucketAliasesByKey),
		prefix: prefix,
		keep:   existing(tx, asOf, func([]byte, []byte) (string, error) { return keyID, nil }),
		read:   func(entry, _ []byte) (core.Alias, error) { return getAlias(tx, string(entry[len(prefix):])) },
	}
}

// CreatePartition stores p unless a record for p.ID exists, and returns the
// stored record and whether this call created it.
func (s *Store) CreatePartition(ctx context.Context, p core.Partition) (core.Partition, bool, error) {
	var stored core.Partition
	var created bool
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPartitions)
		if v := b.Get([]byte(p.ID)); v != nil {
			var err error
			stored, err = decode[core.Partition](v, "partition")
			return err
		}
		value, err := records.Encode(p)
		if err != nil {
			return fmt.Errorf("bolt: encode partition %q: %w", p.ID, err)
		}
		stored, created = p, true
		return b.Put([]byte(p.ID), value)
	})
	if err != nil {
		return core.Partition{}, false, err
	}
	if created {
		// Hand back what a later read returns, not the caller's own buffers.
		stored.CiphertextBlob = bytes.Clone(p.CiphertextBlob)
		stored.EncryptionContext = maps.Clone(p.EncryptionContext)
	}
	return stored, created, nil
}

// GetPartition returns a partition record.
func (s *Store) GetPartition(ctx context.Context, id string) (core.Partition, error) {
	var p core.Partition
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketPartitions).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("bolt: partition %q: %w", id, core.ErrNotFound)
		}
		var err error
		p, err = decode[core.Partition](v, "partition")
		return err
	})
	return p, err
}

// ListPartitionsAfter returns the first limit partition records whose ID
// comes after after, in the bucket's order (the IDs' bytes); all the rest
// when limit is zero or less.
func (s *Store) ListPartitionsAfter(ctx context.Context, after string, limit int) ([]core.Partition, error) {
	return listByID[core.Partition](ctx, s, bucketPartitions, "partition", after, limit)
}

// listByID decodes, in a bucket keyed by ID, the first limit records whose
// ID comes after after; all the rest when limit is zero or less. The cursor
// seeks to after: the records before it are not read.
func listByID[T core.Partition | core.Certificate | core.GenericSecret](ctx context.Context, s *Store, bucket []byte, what, after string, limit int) ([]T, error) {
	var out []T
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return walkAfter(tx.Bucket(bucket), nil, []byte(after), limit, nil, func(_, value []byte) error {
			v, err := decode[T](value, what)
			out = append(out, v)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func checkVersion(k core.Key, v core.KeyVersion) error {
	if k.ID == "" || v.VersionID == "" {
		return errors.New("bolt: key and version IDs must not be empty")
	}
	if v.KeyID != k.ID {
		return fmt.Errorf("bolt: version %q belongs to key %q, not %q", v.VersionID, v.KeyID, k.ID)
	}
	return nil
}

func getKey(tx *bbolt.Tx, id string) (core.Key, error) {
	v := tx.Bucket(bucketKeys).Get([]byte(id))
	if v == nil {
		return core.Key{}, fmt.Errorf("bolt: key %q: %w", id, core.ErrNotFound)
	}
	return decode[core.Key](v, "key")
}

// casKey returns the stored key that k replaces, or ErrConflict when k was not
// derived from the latest revision.
func casKey(tx *bbolt.Tx, k core.Key) (core.Key, error) {
	old, err := getKey(tx, k.ID)
	if err != nil {
		return core.Key{}, err
	}
	if old.Revision != k.Revision-1 {
		return core.Key{}, fmt.Errorf("bolt: key %q is at revision %d, update expects %d: %w", k.ID, old.Revision, k.Revision-1, core.ErrConflict)
	}
	return old, nil
}

// putKey writes k, moving its creation-order entry when old (the record it
// replaces, nil for a new key) was created at another time.
func putKey(tx *bbolt.Tx, old *core.Key, k core.Key) error {
	value, err := records.Encode(k)
	if err != nil {
		return fmt.Errorf("bolt: encode key %q: %w", k.ID, err)
	}
	byCreation := tx.Bucket(bucketKeysByCreation)
	entry := join(when(k.CreatedAt), []byte(k.ID))
	if old != nil {
		if prev := join(when(old.CreatedAt), []byte(k.ID)); !bytes.Equal(prev, entry) {
			if err := byCreation.Delete(prev); err != nil {
				return err
			}
		}
	}
	if err := byCreation.Put(entry, []byte{}); err != nil {
		return err
	}
	return tx.Bucket(bucketKeys).Put([]byte(k.ID), value)
}

func getVersion(tx *bbolt.Tx, keyID, versionID string) (core.KeyVersion, error) {
	v := tx.Bucket(bucketVersions).Get(join(owner(keyID), []byte(versionID)))
	if v == nil {
		return core.KeyVersion{}, fmt.Errorf("bolt: version %q of key %q: %w", versionID, keyID, core.ErrNotFound)
	}
	return decode[core.KeyVersion](v, "version")
}

// putVersion writes a new version and its place in the key's creation order;
// the sequence number keeps versions created in the same instant in insertion
// order.
func putVersion(tx *bbolt.Tx, v core.KeyVersion) error {
	versions, order := tx.Bucket(bucketVersions), tx.Bucket(bucketVersionOrder)
	id := join(owner(v.KeyID), []byte(v.VersionID))
	if versions.Get(id) != nil {
		return fmt.Errorf("bolt: version %q of key %q: %w", v.VersionID, v.KeyID, core.ErrExists)
	}
	value, err := records.Encode(v)
	if err != nil {
		return fmt.Errorf("bolt: encode version %q: %w", v.VersionID, err)
	}
	seq, err := order.NextSequence()
	if err != nil {
		return err
	}
	if err := versions.Put(id, value); err != nil {
		return err
	}
	return order.Put(join(owner(v.KeyID), when(v.CreatedAt), binary.BigEndian.AppendUint64(nil, seq)), []byte(v.VersionID))
}

func getAlias(tx *bbolt.Tx, name string) (core.Alias, error) {
	v := tx.Bucket(bucketAliases).Get([]byte(name))
	if v == nil {
		return core.Alias{}, fmt.Errorf("bolt: alias %q: %w", name, core.ErrNotFound)
	}
	return decode[core.Alias](v, "alias")
}

// putAlias writes a, moving its by-key entry when old (the record it replaces,
// nil for a new alias) pointed at another key.
func putAlias(tx *bbolt.Tx, old *core.Alias, a core.Alias) error {
	value, err := records.Encode(a)
	if err != nil {
		return fmt.Errorf("bolt: encode alias %q: %w", a.Name, err)
	}
	byKey := tx.Bucket(bucketAliasesByKey)
	if old != nil && old.KeyID != a.KeyID {
		if err := byKey.Delete(join(owner(old.KeyID), []byte(a.Name))); err != nil {
			return err
		}
	}
	if err := byKey.Put(join(owner(a.KeyID), []byte(a.Name)), []byte{}); err != nil {
		return err
	}
	return tx.Bucket(bucketAliases).Put([]byte(a.Name), value)
}

// walk visits, in key order, the entries of b under prefix that keep admits
// (all of them when keep is nil) and that fall inside p, and returns how many
// it admits in all.
func walk(b *bbolt.Bucket, prefix []byte, p core.Page, keep, visit func(k, v []byte) error) (int, error) {
	n := 0
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if keep != nil {
			if err := keep(k, v); errors.Is(err, errSkip) {
				continue
			} else if err != nil {
				return 0, err
			}
		}
		if n >= p.Offset && (p.Limit <= 0 || n < p.Offset+p.Limit) {
			if err := visit(k, v); err != nil {
				return 0, err
			}
		}
		n++
	}
	return n, nil
}

// walkAfter visits, in key order, the entries of b under prefix that come
// after prefix ‖ after and that keep admits (all of them when keep is nil),
// until it has visited limit (all when limit is zero or less). It seeks to
// its place and counts nothing: the entries before it are not read.
func walkAfter(b *bbolt.Bucket, prefix, after []byte, limit int, keep, visit func(k, v []byte) error) error {
	from := join(prefix, after)
	c := b.Cursor()
	k, v := c.Seek(from)
	if bytes.Equal(k, from) {
		k, v = c.Next()
	}
	for n := 0; k != nil && bytes.HasPrefix(k, prefix) && (limit <= 0 || n < limit); k, v = c.Next() {
		if keep != nil {
			if err := keep(k, v); errors.Is(err, errSkip) {
				continue
			} else if err != nil {
				return err
			}
		}
		if err := visit(k, v); err != nil {
			return err
		}
		n++
	}
	return nil
}

// errSkip is a walk filter's answer for an entry it leaves out.
var errSkip = errors.New("skip")

// existing is a walk filter that leaves out the entries whose key, named by
// keyID, is past its deletion date at asOf; nil (keep all) for a zero asOf,
// which spares reading keys for the count.
func existing(tx *bbolt.Tx, asOf time.Time, keyID func(k, v []byte) (string, error)) func(k, v []byte) error {
	if asOf.IsZero() {
		return nil
	}
	return func(k, v []byte) error {
		id, err := keyID(k, v)
		if err != nil {
			return err
		}
		key, err := getKey(tx, id)
		if err != nil {
			return err
		}
		if key.PastDeletion(asOf) {
			return errSkip
		}
		return nil
	}
}

// keysUnder copies the keys of b under prefix, so the caller can delete them
// without disturbing a live cursor.
func keysUnder(b *bbolt.Bucket, prefix []byte) [][]byte {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	return keys
}

// owner is the prefix of a key's entries in the per-key buckets. The length
// prefix makes it unambiguous whatever bytes an ID holds: no key's prefix is the
// start of another's.
func owner(keyID string) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(keyID))), keyID...)
}

// whenLen is the length of when's encoding.
const whenLen = 12

// when encodes t so that byte order is time order: seconds with the sign bit
// flipped, then nanoseconds, both big-endian.
func when(t time.Time) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, whenLen), uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

func join(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

// RewrapVersions replaces the wrapping of the versions in batch that are still
// stored as their Old, in one transaction: a root rotation's write.
func (s *Store) RewrapVersions(ctx context.Context, batch []core.Rewrap) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		n = 0
		versions := tx.Bucket(bucketVersions)
		for _, r := range batch {
			id := join(owner(r.Next.KeyID), []byte(r.Next.VersionID))
			stored, err := getVersion(tx, r.Next.KeyID, r.Next.VersionID)
			if errors.Is(err, core.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !bytes.Equal(stored.Wrapped, r.Old.Wrapped) || !bytes.Equal(stored.Digest, r.Old.Digest) {
				continue
			}
			stored.Wrapped, stored.Digest, stored.RootKeyID = r.Next.Wrapped, r.Next.Digest, r.Next.RootKeyID
			value, err := records.Encode(stored)
			if err != nil {
				return fmt.Errorf("bolt: encode version %q: %w", stored.VersionID, err)
			}
			if err := versions.Put(id, value); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
