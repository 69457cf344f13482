package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kmsless/kmsless/core"
)

// attempts bounds the retries after a connection failure. After a database
// restart each pooled connection fails once before the pool replaces it; a
// retry hides that from the caller when it is safe.
const attempts = 3

// read runs an idempotent query, retrying when it met a broken connection. A
// refused connection or a timeout is not retried: the next attempt would most
// likely wait just as long.
func (s *Store) read(ctx context.Context, op string, fn func() error) error {
	return s.run(ctx, op, fn, func(err error) bool { return pgconn.SafeToRetry(err) || brokenConn(err) })
}

// write runs a change, retrying only failures that happened before anything
// reached the server: a change that may have committed is never sent twice.
func (s *Store) write(ctx context.Context, op string, fn func() error) error {
	return s.run(ctx, op, fn, pgconn.SafeToRetry)
}

func (s *Store) run(ctx context.Context, op string, fn func() error, retry func(error) bool) error {
	var err error
	for range attempts {
		err = fn()
		if err == nil || isSentinel(err) || ctx.Err() != nil || !retry(err) {
			break
		}
	}
	if err == nil || isSentinel(err) {
		return err
	}
	return fail(ctx, op, err)
}

// isSentinel tells an answer the store has already phrased (not found, exists,
// conflict) from a failure still to be wrapped.
func isSentinel(err error) bool {
	return errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrExists) || errors.Is(err, core.ErrConflict)
}

const keyColumns = `id, description, key_spec, key_usage, origin, protection_level, creator, state,
	created_at, delete_at, primary_version_id, automatic_rotation, rotation_interval, last_rotated_at, revision,
	tags, deletion_protection, deletion_protection_description, material_expire_at, rotation_base, policy`

// keySet assigns every column but id from keyArgs' $2…$21.
const keySet = `description = $2, key_spec = $3, key_usage = $4, origin = $5, protection_level = $6,
	creator = $7, state = $8, created_at = $9, delete_at = $10, primary_version_id = $11,
	automatic_rotation = $12, rotation_interval = $13, last_rotated_at = $14, revision = $15,
	tags = $16::text::json, deletion_protection = $17, deletion_protection_description = $18,
	material_expire_at = $19, rotation_base = $20, policy = $21`

// keyValues are keyArgs' placeholders for an INSERT.
const keyValues = `$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::text::json, $17, $18, $19, $20, $21`

// keyArgs are $1…$21 in keyColumns order. Zero times and no tags are stored
// as NULL.
func keyArgs(k core.Key) []any {
	var tags *string
	if len(k.Tags) > 0 {
		b, _ := json.Marshal(k.Tags) // a map of strings always encodes
		t := string(b)
		tags = &t
	}
	return []any{k.ID, k.Description, k.KeySpec, k.KeyUsage, k.Origin, k.ProtectionLevel, k.Creator, string(k.State),
		k.CreatedAt, nullTime(k.DeleteAt), k.PrimaryVersionID, k.AutomaticRotation, int64(k.RotationInterval),
		nullTime(k.LastRotatedAt), k.Revision, tags, k.DeletionProtection, k.DeletionProtectionDescription,
		nullTime(k.MaterialExpireAt), nullTime(k.RotationBase), k.Policy}
}

// keyRow receives one row of keyColumns.
type keyRow struct {
	k                                                   core.Key
	state                                               string
	deleteAt, lastRotated, materialExpire, rotationBase *time.Time
	interval                                            int64
	tags                                                *string
}

func (r *keyRow) dest() []any {
	k := &r.k
	return []any{&k.ID, &k.Description, &k.KeySpec, &k.KeyUsage, &k.Origin, &k.ProtectionLevel, &k.Creator, &r.state,
		&k.CreatedAt, &r.deleteAt, &k.PrimaryVersionID, &k.AutomaticRotation, &r.interval, &r.lastRotated, &k.Revision,
		&r.tags, &k.DeletionProtection, &k.DeletionProtectionDescription, &r.materialExpire, &r.rotationBase, &k.Policy}
}

func (r *keyRow) key() (core.Key, error) {
	k := r.k
	k.State, k.RotationInterval = core.KeyState(r.state), time.Duration(r.interval)
	k.CreatedAt, k.DeleteAt, k.LastRotatedAt = k.CreatedAt.UTC(), fromNull(r.deleteAt), fromNull(r.lastRotated)
	k.MaterialExpireAt, k.RotationBase = fromNull(r.materialExpire), fromNull(r.rotationBase)
	if r.tags != nil {
		if err := json.Unmarshal([]byte(*r.tags), &k.Tags); err != nil {
			return core.Key{}, fmt.Errorf("postgres: decode stored tags of %q: %w", k.ID, err)
		}
	}
	return k, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// CreateKey stores k and its versions in one statement, hence one
// transaction.
func (s *Store) CreateKey(ctx context.Context, k core.Key, first core.KeyVersion, more ...core.KeyVersion) error {
	versions := append([]core.KeyVersion{first}, more...)
	for _, v := range versions {
		if err := checkVersion(k, v); err != nil {
			return err
		}
	}
	args := append(keyArgs(k), versionArrays(versions)...)
	return s.write(ctx, "create key", func() error {
		_, err := s.db.Exec(ctx, createKey, args...)
		if constraint(err, codeUniqueViolation) {
			return fmt.Errorf("postgres: key %q: %w", k.ID, core.ErrExists)
		}
		return err
	})
}

// createKey stores a key and its versions in one statement, one round trip
// however many versions there are: they come as one array a column
// (versionArrays) and are inserted in their order, so that they list oldest
// first.
var createKey = `
	WITH k AS (INSERT INTO keys (` + keyColumns + `) VALUES (` + keyValues + `) RETURNING id)
	INSERT INTO key_versions (key_id, ` + versionColumns + `)
	SELECT k.id, ` + versionColumns + ` FROM k,
		unnest(` + versionPlaceholders(22, "[]") + `) WITH ORDINALITY AS v (` + versionColumns + `, n)
	ORDER BY n`

// GetKey returns the key with the given ID.
func (s *Store) GetKey(ctx context.Context, id string) (core.Key, error) {
	var r keyRow
	err := s.read(ctx, "get key", func() error {
		err := s.db.QueryRow(ctx, `SELECT `+keyColumns+` FROM keys WHERE id = $1`, id).Scan(r.dest()...)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: key %q: %w", id, core.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return core.Key{}, err
	}
	return r.key()
}

// UpdateKey replaces the key's metadata if the stored revision is k.Revision-1.
func (s *Store) UpdateKey(ctx context.Context, k core.Key) error {
	return s.cas(ctx, "update key", "key", k.ID, k.Revision-1, `
		WITH changed AS (UPDATE keys SET `+keySet+` WHERE id = $1 AND revision = $22 RETURNING id)
		SELECT EXISTS (SELECT FROM changed), EXISTS (SELECT FROM keys WHERE id = $1)`,
		append(keyArgs(k), k.Revision-1))
}

// AddVersion stores v and the key's new metadata in one statement, under the
// same compare-and-set as UpdateKey: a stale revision inserts no version.
func (s *Store) AddVersion(ctx context.Context, k core.Key, v core.KeyVersion) error {
	if err := checkVersion(k, v); err != nil {
		return err
	}
	err := s.cas(ctx, "add version", "key", k.ID, k.Revision-1, `
		WITH changed AS (UPDATE keys SET `+keySet+` WHERE id = $1 AND revision = $22 RETURNING id),
		added AS (INSERT INTO key_versions (key_id, `+versionColumns+`)
			SELECT id, `+versionValues(23)+` FROM changed RETURNING 1)
		SELECT EXISTS (SELECT FROM added), EXISTS (SELECT FROM keys WHERE id = $1)`,
		append(append(keyArgs(k), k.Revision-1), versionArgs(v)...))
	if constraint(err, codeUniqueViolation) {
		return fmt.Errorf("postgres: version %q of key %q: %w", v.VersionID, k.ID, core.ErrExists)
	}
	return err
}

// cas runs a conditional change of the record of kind what named name,
// expected at revision, whose query answers (changed, record exists). Under
// READ COMMITTED a concurrent writer's commit makes the revision test fail
// rather than be lost: PostgreSQL re-checks the WHERE clause against the
// newest row version before changing it.
func (s *Store) cas(ctx context.Context, op, what, name string, revision int64, query string, args []any) error {
	var changed, exists bool
	err := s.write(ctx, op, func() error {
		return s.db.QueryRow(ctx, query, args...).Scan(&changed, &exists)
	})
	switch {
	case err != nil:
		return err
	case changed:
		return nil
	case !exists:
		return fmt.Errorf("postgres: %s %q: %w", what, name, core.ErrNotFound)
	default:
		return fmt.Errorf("postgres: %s %q is not at revision %d: %w", what, name, revision, core.ErrConflict)
	}
}

// DeleteKey removes the key if the stored revision is still revision; its
// versions, aliases and last use go with it (ON DELETE CASCADE), and its
// grants by the statement's second delete, which runs only when the first
// deleted the key.
// The revision test holds against a concurrent writer as cas's does.
func (s *Store) DeleteKey(ctx context.Context, id string, revision int64) error {
	return s.cas(ctx, "delete key", "key", id, revision, `
		WITH deleted AS (DELETE FROM keys WHERE id = $1 AND revision = $2 RETURNING id),
		grants_deleted AS (DELETE FROM grants WHERE key_id IN (SELECT id FROM deleted))
		SELECT EXISTS (SELECT FROM deleted), EXISTS (SELECT FROM keys WHERE id = $1)`, []any{id, revision})
}

// existing is the condition on a keys row k that it exists at $3: not past
// its deletion date, or no date given.
const existing = `($3::timestamptz IS NULL OR k.delete_at IS NULL OR k.delete_at > $3)`

// countExisting is existing in a count query, whose arguments start at $1.
const countExisting = `($1::timestamptz IS NULL OR k.delete_at IS NULL OR k.delete_at > $1)`

// ListKeys returns one page of the keys that exist at asOf, ordered by
// creation time, then ID.
func (s *Store) ListKeys(ctx context.Context, asOf time.Time, p core.Page) ([]core.Key, int, error) {
	return list(ctx, s, "list keys", p,
		`SELECT count(*) OVER (), `+keyColumns+` FROM keys k WHERE `+existing+` ORDER BY created_at, id LIMIT $1 OFFSET $2`,
		`SELECT count(*) FROM keys k WHERE `+countExisting, []any{nullTime(asOf)},
		func(rows pgx.CollectableRow, total *int) (core.Key, error) {
			var r keyRow
			if err := rows.Scan(append([]any{total}, r.dest()...)...); err != nil {
				return core.Key{}, err
			}
			return r.key()
		})
}

// ListKeysAfter returns the first limit keys that exist at asOf after the
// position after, in ListKeys' order. The row comparison is a range of the
// index keys_by_creation, so the scan starts at the position: no count, and
// no offset to step over.
func (s *Store) ListKeysAfter(ctx context.Context, asOf time.Time, after core.KeyPosition, limit int) ([]core.Key, error) {
	return listAfter(ctx, s, "list keys", limit, `SELECT `+keyColumns+` FROM keys k
			WHERE (k.created_at, k.id) > ($2, $4) AND `+existing+`
			ORDER BY k.created_at, k.id LIMIT $1`, []any{after.CreatedAt, nullTime(asOf), after.ID},
		func(row pgx.CollectableRow) (core.Key, error) {
			var r keyRow
			if err := row.Scan(r.dest()...); err != nil {
				return core.Key{}, err
			}
			return r.key()
		})
}

// GetVersion returns one version of a key.
func (s *Store) GetVersion(ctx context.Context, keyID, versionID string) (core.KeyVersion, error) {
	var r versionRow
	err := s.read(ctx, "get version", func() error {
		err := s.db.QueryRow(ctx, `SELECT `+versionColumns+` FROM key_versions WHERE key_id = $1 AND version_id = $2`,
			keyID, versionID).Scan(r.dest()...)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: version %q of key %q: %w", versionID, keyID, core.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return core.KeyVersion{}, err
	}
	return r.version(keyID), nil
}

// versionColumns are a version's columns, key_id aside, in versionArgs' and
// versionRow.dest's order.
const versionColumns = `version_id, created_at, wrapped, digest, root_key_id, rotation_type, expire_at, material_description`

// versionTypes are the types of versionColumns, in their order.
var versionTypes = []string{"text", "timestamptz", "bytea", "bytea", "text", "text", "timestamptz", "text"}

// versionValues are versionArgs' placeholders for an INSERT, from $first.
func versionValues(first int) string { return versionPlaceholders(first, "") }

// versionPlaceholders are placeholders of versionColumns' types from
// $first, each type followed by suffix ("[]": versionArrays' arrays).
func versionPlaceholders(first int, suffix string) string {
	ps := make([]string, len(versionTypes))
	for i, t := range versionTypes {
		ps[i] = fmt.Sprintf("$%d::%s%s", first+i, t, suffix)
	}
	return strings.Join(ps, ", ")
}

// versionArgs are v's values in versionColumns order. No material is an
// empty bytea (the column is NOT NULL), no digest and no expiry NULL.
func versionArgs(v core.KeyVersion) []any {
	return []any{v.VersionID, v.CreatedAt, notNull(v.Wrapped), v.Digest, v.RootKeyID, string(v.RotationType),
		nullTime(v.ExpireAt), v.MaterialDescription}
}

// versionArrays are versions' values as one array a column, in
// versionColumns order.
func versionArrays(versions []core.KeyVersion) []any {
	columns := make([][]any, len(versionTypes))
	for _, v := range versions {
		for i, a := range versionArgs(v) {
			columns[i] = append(columns[i], a)
		}
	}
	arrays := make([]any, len(columns))
	for i, c := range columns {
		arrays[i] = c
	}
	return arrays
}

// versionRow receives one row of versionColumns.
type versionRow struct {
	v        core.KeyVersion
	expireAt *time.Time
}

func (r *versionRow) dest() []any {
	v := &r.v
	return []any{&v.VersionID, &v.CreatedAt, &v.Wrapped, &v.Digest, &v.RootKeyID, &v.RotationType, &r.expireAt, &v.MaterialDescription}
}

// version is the row's version of key keyID, normalised: UTC times, and no
// material as nil (the column holds an empty bytea, being NOT NULL).
func (r *versionRow) version(keyID string) core.KeyVersion {
	v := r.v
	v.KeyID = keyID
	v.CreatedAt, v.ExpireAt = v.CreatedAt.UTC(), fromNull(r.expireAt)
	if len(v.Wrapped) == 0 {
		v.Wrapped = nil
	}
	return v
}

func notNull(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// ReplaceVersion stores v whole over the stored version with its ID and
// the key's new metadata in one statement, under UpdateKey's
// compare-and-set; the key changes only if the version exists. The version
// lists at the place its CreatedAt gives it, which a new CreatedAt moves.
func (s *Store) ReplaceVersion(ctx context.Context, k core.Key, v core.KeyVersion) error {
	if err := checkVersion(k, v); err != nil {
		return err
	}
	var changed, keyExists, versionExists bool
	args := append(append(keyArgs(k), k.Revision-1), versionArgs(v)...)
	err := s.write(ctx, "replace version", func() error {
		return s.db.QueryRow(ctx, `
			WITH changed AS (UPDATE keys SET `+keySet+` WHERE id = $1 AND revision = $22
				AND EXISTS (SELECT FROM key_versions WHERE key_id = $1 AND version_id = $23) RETURNING id),
			replaced AS (UPDATE key_versions SET created_at = $24, wrapped = $25, digest = $26, root_key_id = $27,
					rotation_type = $28, expire_at = $29, material_description = $30
				WHERE key_id = (SELECT id FROM changed) AND version_id = $23 RETURNING 1)
			SELECT EXISTS (SELECT FROM replaced), EXISTS (SELECT FROM keys WHERE id = $1),
				EXISTS (SELECT FROM key_versions WHERE key_id = $1 AND version_id = $23)`, args...).Scan(&changed, &keyExists, &versionExists)
	})
	switch {
	case err != nil:
		return err
	case changed:
		return nil
	case !keyExists:
		return fmt.Errorf("postgres: key %q: %w", k.ID, core.ErrNotFound)
	case !versionExists:
		return fmt.Errorf("postgres: version %q of key %q: %w", v.VersionID, k.ID, core.ErrNotFound)
	default:
		return fmt.Errorf("postgres: key %q is not at revision %d: %w", k.ID, k.Revision-1, core.ErrConflict)
	}
}

// ListVersions returns one page of a key's versions, oldest first.
func (s *Store) ListVersions(ctx context.Context, keyID string, p core.Page) ([]core.KeyVersion, int, error) {
	return list(ctx, s, "list versions", p,
		`SELECT count(*) OVER (), `+versionColumns+` FROM key_versions WHERE key_id = $3
			ORDER BY created_at, seq LIMIT $1 OFFSET $2`,
		`SELECT count(*) FROM key_versions WHERE key_id = $1`, []any{keyID},
		func(rows pgx.CollectableRow, total *int) (core.KeyVersion, error) {
			var r versionRow
			err := rows.Scan(append([]any{total}, r.dest()...)...)
			return r.version(keyID), err
		})
}

// RewrapVersions replaces the wrapping of the versions in batch that are still
// stored as their Old, in one statement: a root rotation's write.
func (s *Store) RewrapVersions(ctx context.Context, batch []core.Rewrap) (int, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	keys, ids, roots := make([]string, len(batch)), make([]string, len(batch)), make([]string, len(batch))
	olds, nexts := make([][]byte, len(batch)), make([][]byte, len(batch))
	oldDigests, nextDigests := make([][]byte, len(batch)), make([][]byte, len(batch))
	for i, r := range batch {
		keys[i], ids[i], roots[i] = r.Next.KeyID, r.Next.VersionID, r.Next.RootKeyID
		olds[i], nexts[i] = notNull(r.Old.Wrapped), notNull(r.Next.Wrapped)
		oldDigests[i], nextDigests[i] = r.Old.Digest, r.Next.Digest
	}
	var n int64
	err := s.write(ctx, "rewrap versions", func() error {
		tag, err := s.db.Exec(ctx, `
			UPDATE key_versions v SET wrapped = b.next, digest = b.next_digest, root_key_id = b.root
			FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bytea[], $5::bytea[], $6::bytea[], $7::text[])
				AS b(key_id, version_id, old, next, old_digest, next_digest, root)
			WHERE v.key_id = b.key_id AND v.version_id = b.version_id AND v.wrapped = b.old
				AND v.digest IS NOT DISTINCT FROM b.old_digest`,
			keys, ids, olds, nexts, oldDigests, nextDigests, roots)
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

// CreateAlias stores a new alias of an existing key.
func (s *Store) CreateAlias(ctx context.Context, a core.Alias) error {
	return s.write(ctx, "create alias", func() error {
		_, err := s.db.Exec(ctx, `INSERT INTO aliases (name, key_id, created_at, updated_at) VALUES ($1, $2, $3, $4)`,
			a.Name, a.KeyID, a.CreatedAt, a.UpdatedAt)
		switch {
		case constraint(err, codeUniqueViolation):
			return fmt.Errorf("postgres: alias %q: %w", a.Name, core.ErrExists)
		case constraint(err, codeForeignKeyViolation):
			return fmt.Errorf("postgres: key %q: %w", a.KeyID, core.ErrNotFound)
		}
		return err
	})
}

// UpdateAlias points an existing alias at another existing key. The alias keeps
// its creation time.
func (s *Store) UpdateAlias(ctx context.Context, a core.Alias) error {
	return s.write(ctx, "update alias", func() error {
		tag, err := s.db.Exec(ctx, `UPDATE aliases SET key_id = $2, updated_at = $3 WHERE name = $1`, a.Name, a.KeyID, a.UpdatedAt)
		switch {
		case constraint(err, codeForeignKeyViolation):
			return fmt.Errorf("postgres: key %q: %w", a.KeyID, core.ErrNotFound)
		case err == nil && tag.RowsAffected() == 0:
			return fmt.Errorf("postgres: alias %q: %w", a.Name, core.ErrNotFound)
		}
		return err
	})
}

// DeleteAlias removes an alias.
func (s *Store) DeleteAlias(ctx context.Context, name string) error {
	return s.write(ctx, "delete alias", func() error {
		tag, err := s.db.Exec(ctx, `DELETE FROM aliases WHERE name = $1`, name)
		if err == nil && tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: alias %q: %w", name, core.ErrNotFound)
		}
		return err
	})
}

// GetAlias returns an alias by name.
func (s *Store) GetAlias(ctx context.Context, name string) (core.Alias, error) {
	a := core.Alias{Name: name}
	err := s.read(ctx, "get alias", func() error {
		err := s.db.QueryRow(ctx, `SELECT key_id, created_at, updated_at FROM aliases WHERE name = $1`, name).
			Scan(&a.KeyID, &a.CreatedAt, &a.UpdatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: alias %q: %w", name, core.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return core.Alias{}, err
	}
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, nil
}

// ListAliases returns one page of aliases ordered by name: all of them, or those
// of keyID when it is not empty, but for those of keys past their deletion
// date at asOf.
func (s *Store) ListAliases(ctx context.Context, keyID string, asOf time.Time, p core.Page) ([]core.Alias, int, error) {
	const from = ` FROM aliases a JOIN keys k ON k.id = a.key_id WHERE `
	query, count, args := `SELECT count(*) OVER (), a.name, a.key_id, a.created_at, a.updated_at`+from+existing+`
		ORDER BY a.name LIMIT $1 OFFSET $2`, `SELECT count(*)`+from+countExisting, []any{nullTime(asOf)}
	if keyID != "" {
		query, count, args = `SELECT count(*) OVER (), a.name, a.key_id, a.created_at, a.updated_at`+from+existing+`
			AND a.key_id = $4 ORDER BY a.name LIMIT $1 OFFSET $2`, `SELECT count(*)`+from+countExisting+` AND a.key_id = $2`, append(args, keyID)
	}
	return list(ctx, s, "list aliases", p, query, count, args, func(rows pgx.CollectableRow, total *int) (core.Alias, error) {
		var a core.Alias
		err := rows.Scan(total, &a.Name, &a.KeyID, &a.CreatedAt, &a.UpdatedAt)
		a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
		return a, err
	})
}

// ListAliasesAfter returns the first limit aliases after the position after,
// in ListAliases' order and leaving out the same. name > $1 is a range of
// the primary key (of aliases_by_key, with a key), so the scan starts at the
// position: no count, and no offset to step over.
func (s *Store) ListAliasesAfter(ctx context.Context, keyID string, asOf time.Time, after core.AliasPosition, limit int) ([]core.Alias, error) {
	const selected = `SELECT a.name, a.key_id, a.created_at, a.updated_at FROM aliases a JOIN keys k ON k.id = a.key_id WHERE a.name > $2 AND ` + existing
	query, args := selected+` ORDER BY a.name LIMIT $1`, []any{after.Name, nullTime(asOf)}
	if keyID != "" {
		query, args = selected+` AND a.key_id = $4 ORDER BY a.name LIMIT $1`, append(args, keyID)
	}
	return listAfter(ctx, s, "list aliases", limit, query, args, func(row pgx.CollectableRow) (core.Alias, error) {
		var a core.Alias
		err := row.Scan(&a.Name, &a.KeyID, &a.CreatedAt, &a.UpdatedAt)
		a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
		return a, err
	})
}

const partitionColumns = `id, key_id, key_version_id, ciphertext_blob, encryption_context, created_at`

// CreatePartition stores p unless a record for p.ID exists, and returns the
// stored record and whether this call created it. ON CONFLICT DO NOTHING waits
// for a concurrent insert of the same ID to commit, so the following SELECT
// (a new statement, hence a new snapshot) always sees the winner's record.
func (s *Store) CreatePartition(ctx context.Context, p core.Partition) (core.Partition, bool, error) {
	var ec []byte
	if len(p.EncryptionContext) > 0 {
		var err error
		if ec, err = json.Marshal(p.EncryptionContext); err != nil {
			return core.Partition{}, false, fmt.Errorf("postgres: encode encryption context: %w", err)
		}
	}
	var stored core.Partition
	var created bool
	err := s.write(ctx, "create partition", func() error {
		var err error
		stored, err = scanPartition(s.db.QueryRow(ctx, `INSERT INTO partitions (`+partitionColumns+`)
			VALUES ($1, $2, $3, $4, $5::text::json, $6) ON CONFLICT (id) DO NOTHING RETURNING `+partitionColumns,
			p.ID, p.KeyID, p.KeyVersionID, p.CiphertextBlob, textOrNull(ec), p.CreatedAt))
		created = err == nil
		return err
	})
	if created || !errors.Is(err, core.ErrNotFound) {
		return stored, created, err
	}
	stored, err = s.GetPartition(ctx, p.ID)
	return stored, false, err
}

// GetPartition returns a partition record.
func (s *Store) GetPartition(ctx context.Context, id string) (core.Partition, error) {
	var p core.Partition
	err := s.read(ctx, "get partition", func() error {
		var err error
		p, err = scanPartition(s.db.QueryRow(ctx, `SELECT `+partitionColumns+` FROM partitions WHERE id = $1`, id))
		if errors.Is(err, core.ErrNotFound) {
			return fmt.Errorf("postgres: partition %q: %w", id, core.ErrNotFound)
		}
		return err
	})
	return p, err
}

// ListPartitionsAfter returns the first limit partition records whose ID
// comes after after, ordered by ID (the "C" collation: as bytes); all the
// rest when limit is zero or less. id > $2 is a range of the primary key, so
// the scan starts at the position.
func (s *Store) ListPartitionsAfter(ctx context.Context, after string, limit int) ([]core.Partition, error) {
	return listAfter(ctx, s, "list partitions", limit,
		`SELECT `+partitionColumns+` FROM partitions WHERE id > $2 ORDER BY id LIMIT $1`, []any{after},
		func(row pgx.CollectableRow) (core.Partition, error) { return scanPartition(row) })
}

func scanPartition(row pgx.Row) (core.Partition, error) {
	var p core.Partition
	var ec *string
	err := row.Scan(&p.ID, &p.KeyID, &p.KeyVersionID, &p.CiphertextBlob, &ec, &p.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, core.ErrNotFound
	}
	if err != nil {
		return p, err
	}
	if ec != nil {
		if err := json.Unmarshal([]byte(*ec), &p.EncryptionContext); err != nil {
			return p, fmt.Errorf("decode stored encryption context of %q: %w", p.ID, err)
		}
	}
	p.CreatedAt = p.CreatedAt.UTC()
	return p, nil
}

func textOrNull(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

// list runs a page query: $1 and $2 are LIMIT and OFFSET, args follow from $3,
// and each row starts with the total count (count(*) OVER (), computed before
// LIMIT). A page past the end has no row to carry the total, so count (with args
// from $1) supplies it.
func list[T any](ctx context.Context, s *Store, op string, p core.Page, query, count string, args []any,
	scan func(pgx.CollectableRow, *int) (T, error)) ([]T, int, error) {
	var limit *int
	if p.Limit > 0 {
		limit = &p.Limit
	}
	offset := max(p.Offset, 0)
	var items []T
	var total int
	err := s.read(ctx, op, func() error {
		items, total = nil, 0
		rows, err := s.db.Query(ctx, query, append([]any{limit, offset}, args...)...)
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row, &total) })
		if err != nil || len(items) > 0 || offset == 0 {
			return err
		}
		return s.db.QueryRow(ctx, count, args...).Scan(&total)
	})
	if err != nil {
		return nil, 0, err
	}
	return items, total, nil
}

// listAfter runs a listing that resumes after a position: query takes the
// limit as $1 (none when limit is zero or less) and args from $2, the
// deletion cut-off that existing reads being $3. It counts nothing and skips
// nothing: the position is a range of the listing's index.
func listAfter[T any](ctx context.Context, s *Store, op string, limit int, query string, args []any, scan pgx.RowToFunc[T]) ([]T, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	var items []T
	err := s.read(ctx, op, func() error {
		rows, err := s.db.Query(ctx, query, append([]any{lim}, args...)...)
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, scan)
		return err
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

func checkVersion(k core.Key, v core.KeyVersion) error {
	if k.ID == "" || v.VersionID == "" {
		return errors.New("postgres: key and version IDs must not be empty")
	}
	if v.KeyID != k.ID {
		return fmt.Errorf("postgres: version %q belongs to key %q, not %q", v.VersionID, v.KeyID, k.ID)
	}
	return nil
}
