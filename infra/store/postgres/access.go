package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/kmsless/kmsless/core"
)

var _ core.AccessStore = (*Store)(nil)

// CreateAccess stores a new access record; core.ErrExists if its kind has
// one of that name. ON CONFLICT DO NOTHING tells a taken name by the rows
// it inserted, with no error for the server to log.
func (s *Store) CreateAccess(ctx context.Context, r core.AccessRecord) error {
	if r.Kind == "" || r.Name == "" {
		return fmt.Errorf("postgres: access record %q of kind %q: kind and name must not be empty", r.Name, r.Kind)
	}
	// text cannot hold NUL: refused here in the words the other stores use,
	// not by the server as an encoding error.
	if !noNUL(r.Kind, r.Name) {
		return fmt.Errorf("postgres: access record %q of kind %q: the kind or name holds a NUL byte", r.Name, r.Kind)
	}
	return s.write(ctx, "create access record", func() error {
		tag, err := s.db.Exec(ctx, `INSERT INTO access_records (kind, name, doc) VALUES ($1, $2, $3)
			ON CONFLICT (kind, name) DO NOTHING`, r.Kind, r.Name, notNull(r.Doc))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: %s %q: %w", r.Kind, r.Name, core.ErrExists)
		}
		return nil
	})
}

// GetAccess returns an access record.
func (s *Store) GetAccess(ctx context.Context, kind, name string) (core.AccessRecord, error) {
	var doc []byte
	err := s.read(ctx, "get access record", func() error {
		err := pgx.ErrNoRows
		if noNUL(kind, name) {
			err = s.db.QueryRow(ctx, `SELECT doc FROM access_records WHERE kind = $1 AND name = $2`, kind, name).Scan(&doc)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: %s %q: %w", kind, name, core.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return core.AccessRecord{}, err
	}
	return core.AccessRecord{Kind: kind, Name: name, Doc: doc}, nil
}

// ReplaceAccess replaces the Doc of an access record.
func (s *Store) ReplaceAccess(ctx context.Context, r core.AccessRecord) error {
	return s.changeAccess(ctx, "replace access record", r.Kind, r.Name,
		`UPDATE access_records SET doc = $3 WHERE kind = $1 AND name = $2`, notNull(r.Doc))
}

// DeleteAccess removes an access record.
func (s *Store) DeleteAccess(ctx context.Context, kind, name string) error {
	return s.changeAccess(ctx, "delete access record", kind, name,
		`DELETE FROM access_records WHERE kind = $1 AND name = $2`)
}

// changeAccess runs one statement on the record of kind and name, $1 and
// $2 of query; core.ErrNotFound if it touched no row.
func (s *Store) changeAccess(ctx context.Context, op, kind, name, query string, more ...any) error {
	return s.write(ctx, op, func() error {
		var changed int64
		if noNUL(kind, name) {
			tag, err := s.db.Exec(ctx, query, append([]any{kind, name}, more...)...)
			if err != nil {
				return err
			}
			changed = tag.RowsAffected()
		}
		if changed == 0 {
			return fmt.Errorf("postgres: %s %q: %w", kind, name, core.ErrNotFound)
		}
		return nil
	})
}

// ListAccess returns every record of a kind, by name (the "C" collation:
// as bytes): a range of the primary key.
func (s *Store) ListAccess(ctx context.Context, kind string) ([]core.AccessRecord, error) {
	if !noNUL(kind) {
		return nil, nil
	}
	return listAfter(ctx, s, "list access records", 0,
		`SELECT kind, name, doc FROM access_records WHERE kind = $2 ORDER BY name LIMIT $1`, []any{kind},
		func(row pgx.CollectableRow) (core.AccessRecord, error) {
			var r core.AccessRecord
			err := row.Scan(&r.Kind, &r.Name, &r.Doc)
			return r, err
		})
}
