package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/kmsless/kmsless/core"
)

var _ core.CertificateStore = (*Store)(nil)

const certificateColumns = `id, key_spec, subject, subject_alternative_names, exportable, status, creator,
	created_at, updated_at, tags, private_key, root_key_id, csr, certificate, chain, revision`

// certificateArgs are the values of certificateColumns, in order. No subject
// alternative names, tags, certificate or chain are stored as NULL; the
// NOT NULL private key and CSR as empty when missing.
func certificateArgs(c core.Certificate) ([]any, error) {
	sans, err := jsonOrNull(c.SubjectAlternativeNames)
	if err != nil {
		return nil, fmt.Errorf("postgres: encode subject alternative names of certificate %q: %w", c.ID, err)
	}
	tags, err := jsonOrNull(c.Tags)
	if err != nil {
		return nil, fmt.Errorf("postgres: encode tags of certificate %q: %w", c.ID, err)
	}
	var cert []byte
	if len(c.Certificate) > 0 {
		cert = c.Certificate
	}
	var chain [][]byte
	if len(c.Chain) > 0 {
		chain = c.Chain
	}
	return []any{c.ID, c.KeySpec, c.Subject, sans, c.Exportable, c.Status, c.Creator,
		c.CreatedAt, c.UpdatedAt, tags, notNull(c.PrivateKey), c.RootKeyID, notNull(c.CSR), cert, chain, c.Revision}, nil
}

// certificateRow receives one row of certificateColumns.
type certificateRow struct {
	c          core.Certificate
	sans, tags *string
}

func (r *certificateRow) dest() []any {
	c := &r.c
	return []any{&c.ID, &c.KeySpec, &c.Subject, &r.sans, &c.Exportable, &c.Status, &c.Creator,
		&c.CreatedAt, &c.UpdatedAt, &r.tags, &c.PrivateKey, &c.RootKeyID, &c.CSR, &c.Certificate, &c.Chain, &c.Revision}
}

// certificate normalises the row as the other stores hand certificates
// back: UTC times, and none of a list, map or value as nil.
func (r *certificateRow) certificate() (core.Certificate, error) {
	c := r.c
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	if r.sans != nil {
		if err := json.Unmarshal([]byte(*r.sans), &c.SubjectAlternativeNames); err != nil {
			return core.Certificate{}, fmt.Errorf("postgres: decode stored subject alternative names of certificate %q: %w", c.ID, err)
		}
	}
	if r.tags != nil {
		if err := json.Unmarshal([]byte(*r.tags), &c.Tags); err != nil {
			return core.Certificate{}, fmt.Errorf("postgres: decode stored tags of certificate %q: %w", c.ID, err)
		}
	}
	for _, b := range []*[]byte{&c.PrivateKey, &c.CSR, &c.Certificate} {
		if len(*b) == 0 {
			*b = nil
		}
	}
	if len(c.Chain) == 0 {
		c.Chain = nil
	}
	return c, nil
}

// CreateCertificate stores a new certificate; core.ErrExists if its ID is
// taken.
func (s *Store) CreateCertificate(ctx context.Context, c core.Certificate) error {
	if c.ID == "" {
		return errors.New("postgres: certificate ID must not be empty")
	}
	args, err := certificateArgs(c)
	if err != nil {
		return err
	}
	return s.write(ctx, "create certificate", func() error {
		_, err := s.db.Exec(ctx, `INSERT INTO certificates (`+certificateColumns+`)
			VALUES ($1, $2, $3, $4::text::json, $5, $6, $7, $8, $9, $10::text::json, $11, $12, $13, $14, $15, $16)`, args...)
		if constraint(err, codeUniqueViolation) {
			return fmt.Errorf("postgres: certificate %q: %w", c.ID, core.ErrExists)
		}
		return err
	})
}

// GetCertificate returns a certificate.
func (s *Store) GetCertificate(ctx context.Context, id string) (core.Certificate, error) {
	var r certificateRow
	err := s.read(ctx, "get certificate", func() error {
		err := s.db.QueryRow(ctx, `SELECT `+certificateColumns+` FROM certificates WHERE id = $1`, id).Scan(r.dest()...)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: certificate %q: %w", id, core.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return core.Certificate{}, err
	}
	return r.certificate()
}

// UpdateCertificate replaces everything but the certificate's ID and
// creation time if the stored revision is c.Revision-1. The revision test
// holds against a concurrent writer as cas's does.
func (s *Store) UpdateCertificate(ctx context.Context, c core.Certificate) error {
	args, err := certificateArgs(c)
	if err != nil {
		return err
	}
	// Every argument but created_at ($8 of certificateArgs): the stored
	// creation time stays.
	args = append(append(args[:7:7], args[8:]...), c.Revision-1)
	return s.cas(ctx, "update certificate", "certificate", c.ID, c.Revision-1, `
		WITH changed AS (UPDATE certificates SET key_spec = $2, subject = $3, subject_alternative_names = $4::text::json,
			exportable = $5, status = $6, creator = $7, updated_at = $8, tags = $9::text::json, private_key = $10,
			root_key_id = $11, csr = $12, certificate = $13, chain = $14, revision = $15
			WHERE id = $1 AND revision = $16 RETURNING 1)
		SELECT EXISTS (SELECT FROM changed), EXISTS (SELECT FROM certificates WHERE id = $1)`, args)
}

// DeleteCertificate removes a certificate if the stored revision is still
// revision.
func (s *Store) DeleteCertificate(ctx context.Context, id string, revision int64) error {
	return s.cas(ctx, "delete certificate", "certificate", id, revision, `
		WITH deleted AS (DELETE FROM certificates WHERE id = $1 AND revision = $2 RETURNING 1)
		SELECT EXISTS (SELECT FROM deleted), EXISTS (SELECT FROM certificates WHERE id = $1)`, []any{id, revision})
}

// ListCertificatesAfter returns the first limit certificates whose ID comes
// after after, ordered by ID (the "C" collation: as bytes); all the rest
// when limit is zero or less. id > $2 is a range of the primary key, so the
// scan starts at the position: no count, and no offset to step over.
func (s *Store) ListCertificatesAfter(ctx context.Context, after string, limit int) ([]core.Certificate, error) {
	return listAfter(ctx, s, "list certificates", limit,
		`SELECT `+certificateColumns+` FROM certificates WHERE id > $2 ORDER BY id LIMIT $1`, []any{after},
		func(row pgx.CollectableRow) (core.Certificate, error) {
			var r certificateRow
			if err := row.Scan(r.dest()...); err != nil {
				return core.Certificate{}, err
			}
			return r.certificate()
		})
}
