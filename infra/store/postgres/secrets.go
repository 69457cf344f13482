package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/records"
)

var _ core.SecretStore = (*Store)(nil)

// secretColumns are a secret's columns but its versions, which listings do
// not read.
const secretColumns = `name, description, key_id, creator, created_at, updated_at, delete_at, tags, stages, revision, policy`

// secretArgs are the values of secretColumns, in order, then the versions.
// Zero times and no tags or stages are stored as NULL, no versions as [].
func secretArgs(s core.GenericSecret) ([]any, error) {
	tags, err := jsonOrNull(s.Tags)
	if err != nil {
		return nil, fmt.Errorf("postgres: encode tags of secret %q: %w", s.Name, err)
	}
	stages, err := jsonOrNull(s.Stages)
	if err != nil {
		return nil, fmt.Errorf("postgres: encode stages of secret %q: %w", s.Name, err)
	}
	return []any{s.Name, s.Description, s.KeyID, s.Creator, s.CreatedAt, s.UpdatedAt, nullTime(s.DeleteAt),
		tags, stages, s.Revision, s.Policy, records.EncodeVersions(s.Versions)}, nil
}

// jsonOrNull is v as JSON text, or NULL when v is empty.
func jsonOrNull[T map[string]string | []string](v T) (*string, error) {
	if len(v) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return textOrNull(b), nil
}

// secretRow receives one row of secretColumns, and the versions if asked.
type secretRow struct {
	s            core.GenericSecret
	deleteAt     *time.Time
	tags, stages *string
	versions     []byte
	withVersions bool
}

func (r *secretRow) dest() []any {
	s := &r.s
	d := []any{&s.Name, &s.Description, &s.KeyID, &s.Creator, &s.CreatedAt, &s.UpdatedAt, &r.deleteAt, &r.tags, &r.stages, &s.Revision, &s.Policy}
	if r.withVersions {
		d = append(d, &r.versions)
	}
	return d
}

func (r *secretRow) secret() (core.GenericSecret, error) {
	s := r.s
	s.CreatedAt, s.UpdatedAt, s.DeleteAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC(), fromNull(r.deleteAt)
	for _, m := range []struct {
		what string
		text *string
		into *map[string]string
	}{{"tags", r.tags, &s.Tags}, {"stages", r.stages, &s.Stages}} {
		if m.text != nil {
			if err := json.Unmarshal([]byte(*m.text), m.into); err != nil {
				return core.GenericSecret{}, fmt.Errorf("postgres: decode stored %s of secret %q: %w", m.what, s.Name, err)
			}
		}
	}
	if r.withVersions {
		var err error
		if s.Versions, err = records.DecodeVersions(r.versions); err != nil {
			return core.GenericSecret{}, fmt.Errorf("postgres: decode stored versions of secret %q: %w", s.Name, err)
		}
	}
	return s, nil
}

// CreateSecret stores a new secret; core.ErrExists if the name is taken.
func (s *Store) CreateSecret(ctx context.Context, sec core.GenericSecret) error {
	args, err := secretArgs(sec)
	if err != nil {
		return err
	}
	return s.write(ctx, "create secret", func() error {
		_, err := s.db.Exec(ctx, `INSERT INTO secrets (`+secretColumns+`, versions)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::json, $9::text::json, $10, $11, $12)`, args...)
		if constraint(err, codeUniqueViolation) {
			return fmt.Errorf("postgres: secret %q: %w", sec.Name, core.ErrExists)
		}
		return err
	})
}

// GetSecret returns a secret with its versions.
func (s *Store) GetSecret(ctx context.Context, name string) (core.GenericSecret, error) {
	r := secretRow{withVersions: true}
	err := s.read(ctx, "get secret", func() error {
		err := s.db.QueryRow(ctx, `SELECT `+secretColumns+`, versions FROM secrets WHERE name = $1`, name).Scan(r.dest()...)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: secret %q: %w", name, core.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return core.GenericSecret{}, err
	}
	return r.secret()
}

// UpdateSecret replaces everything but the secret's name and creation time if
// the stored revision is sec.Revision-1. The revision test holds against a
// concurrent writer as cas's does.
func (s *Store) UpdateSecret(ctx context.Context, sec core.GenericSecret) error {
	args, err := secretArgs(sec)
	if err != nil {
		return err
	}
	// Every argument but created_at ($5 of secretArgs): the stored creation
	// time stays.
	args = append(append(args[:4:4], args[5:]...), sec.Revision-1)
	return s.cas(ctx, "update secret", "secret", sec.Name, sec.Revision-1, `
		WITH changed AS (UPDATE secrets SET description = $2, key_id = $3, creator = $4, updated_at = $5,
			delete_at = $6, tags = $7::text::json, stages = $8::text::json, revision = $9, policy = $10,
			versions = $11 WHERE name = $1 AND revision = $12 RETURNING 1)
		SELECT EXISTS (SELECT FROM changed), EXISTS (SELECT FROM secrets WHERE name = $1)`, args)
}

// DeleteSecret removes a secret if the stored revision is still revision.
func (s *Store) DeleteSecret(ctx context.Context, name string, revision int64) error {
	return s.cas(ctx, "delete secret", "secret", name, revision, `
		WITH deleted AS (DELETE FROM secrets WHERE name = $1 AND revision = $2 RETURNING 1)
		SELECT EXISTS (SELECT FROM deleted), EXISTS (SELECT FROM secrets WHERE name = $1)`, []any{name, revision})
}

// ListSecretsAfter returns up to limit secrets after the name after, by name
// (as bytes), without their versions.
func (s *Store) ListSecretsAfter(ctx context.Context, after string, limit int) ([]core.GenericSecret, error) {
	return listAfter(ctx, s, "list secrets", limit,
		`SELECT `+secretColumns+` FROM secrets WHERE name > $2 ORDER BY name LIMIT $1`, []any{after},
		func(row pgx.CollectableRow) (core.GenericSecret, error) {
			var r secretRow
			if err := row.Scan(r.dest()...); err != nil {
				return core.GenericSecret{}, err
			}
			return r.secret()
		})
}

// ListSecrets returns one page of the secrets that exist at asOf, ordered by
// name (the "C" collation: as bytes), without their versions.
func (s *Store) ListSecrets(ctx context.Context, asOf time.Time, p core.Page) ([]core.GenericSecret, int, error) {
	return list(ctx, s, "list secrets", p,
		`SELECT count(*) OVER (), `+secretColumns+` FROM secrets
			WHERE ($3::timestamptz IS NULL OR delete_at IS NULL OR delete_at > $3) ORDER BY name LIMIT $1 OFFSET $2`,
		`SELECT count(*) FROM secrets WHERE ($1::timestamptz IS NULL OR delete_at IS NULL OR delete_at > $1)`,
		[]any{nullTime(asOf)},
		func(rows pgx.CollectableRow, total *int) (core.GenericSecret, error) {
			var r secretRow
			if err := rows.Scan(append([]any{total}, r.dest()...)...); err != nil {
				return core.GenericSecret{}, err
			}
			return r.secret()
		})
}
