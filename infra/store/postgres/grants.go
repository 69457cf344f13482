package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/records"
)

var _ core.GrantStore = (*Store)(nil)

// CreateGrant stores a new grant; core.ErrExists if its key has a grant of
// that ID.
func (s *Store) CreateGrant(ctx context.Context, g core.Grant) error {
	if g.KeyID == "" || g.ID == "" {
		return errors.New("postgres: key and grant IDs must not be empty")
	}
	// text cannot hold NUL: refused here in the words the other stores use,
	// not by the server as an encoding error.
	if !noNUL(g.KeyID, g.ID, g.GranteeName, g.RetiringName) {
		return fmt.Errorf("postgres: grant %q of key %q: a key ID, grant ID or principal name holds a NUL byte", g.ID, g.KeyID)
	}
	record, err := records.Encode(g)
	if err != nil {
		return fmt.Errorf("postgres: encode grant %q of key %q: %w", g.ID, g.KeyID, err)
	}
	var retiring *string
	if g.RetiringName != "" {
		retiring = &g.RetiringName
	}
	return s.write(ctx, "create grant", func() error {
		_, err := s.db.Exec(ctx, `INSERT INTO grants (key_id, grant_id, grantee_name, retiring_name, record)
			VALUES ($1, $2, $3, $4, $5::text::json)`, g.KeyID, g.ID, g.GranteeName, retiring, string(record))
		if constraint(err, codeUniqueViolation) {
			return fmt.Errorf("postgres: grant %q of key %q: %w", g.ID, g.KeyID, core.ErrExists)
		}
		return err
	})
}

// GetGrant returns a grant of a key.
func (s *Store) GetGrant(ctx context.Context, keyID, grantID string) (core.Grant, error) {
	var record string
	err := s.read(ctx, "get grant", func() error {
		err := pgx.ErrNoRows
		if noNUL(keyID, grantID) {
			err = s.db.QueryRow(ctx, `SELECT record FROM grants WHERE key_id = $1 AND grant_id = $2`, keyID, grantID).Scan(&record)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: grant %q of key %q: %w", grantID, keyID, core.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return core.Grant{}, err
	}
	return decodeGrant(record)
}

// DeleteGrant removes a grant of a key.
func (s *Store) DeleteGrant(ctx context.Context, keyID, grantID string) error {
	return s.write(ctx, "delete grant", func() error {
		var deleted int64
		if noNUL(keyID, grantID) {
			tag, err := s.db.Exec(ctx, `DELETE FROM grants WHERE key_id = $1 AND grant_id = $2`, keyID, grantID)
			if err != nil {
				return err
			}
			deleted = tag.RowsAffected()
		}
		if deleted == 0 {
			return fmt.Errorf("postgres: grant %q of key %q: %w", grantID, keyID, core.ErrNotFound)
		}
		return nil
	})
}

// GrantsFor returns the grants of a key held by grantee, by grant ID: a
// range of grants_by_grantee.
func (s *Store) GrantsFor(ctx context.Context, keyID, grantee string) ([]core.Grant, error) {
	if !noNUL(keyID, grantee) {
		return nil, nil
	}
	return listAfter(ctx, s, "list grants", 0,
		`SELECT record FROM grants WHERE grantee_name = $2 AND key_id = $3 ORDER BY grant_id LIMIT $1`,
		[]any{grantee, keyID}, scanGrant)
}

// ListGrants returns the first limit grants of a key after the grant ID
// after, by grant ID: a range of the primary key, so the scan starts at
// after.
func (s *Store) ListGrants(ctx context.Context, keyID, after string, limit int) ([]core.Grant, error) {
	if !noNUL(keyID, after) {
		return nil, nil
	}
	return listAfter(ctx, s, "list grants", limit,
		`SELECT record FROM grants WHERE key_id = $2 AND grant_id > $3 ORDER BY grant_id LIMIT $1`,
		[]any{keyID, after}, scanGrant)
}

// ListRetirable returns the first limit grants that retiring may retire
// after the position after, by key ID and then grant ID: the row comparison
// is a range of grants_by_retiring, so the scan starts at the position.
func (s *Store) ListRetirable(ctx context.Context, retiring string, after core.GrantPosition, limit int) ([]core.Grant, error) {
	if retiring == "" || !noNUL(retiring, after.KeyID, after.GrantID) {
		return nil, nil
	}
	return listAfter(ctx, s, "list retirable grants", limit,
		`SELECT record FROM grants WHERE retiring_name = $2 AND (key_id, grant_id) > ($3, $4)
			ORDER BY key_id, grant_id LIMIT $1`,
		[]any{retiring, after.KeyID, after.GrantID}, scanGrant)
}

func scanGrant(row pgx.CollectableRow) (core.Grant, error) {
	var record string
	if err := row.Scan(&record); err != nil {
		return core.Grant{}, err
	}
	return decodeGrant(record)
}

func decodeGrant(record string) (core.Grant, error) {
	g, err := records.Decode[core.Grant]([]byte(record))
	if err != nil {
		return core.Grant{}, fmt.Errorf("postgres: decode stored grant: %w", err)
	}
	return g, nil
}

// noNUL reports whether none of names holds a NUL byte, which no stored name
// holds.
func noNUL(names ...string) bool {
	for _, n := range names {
		if strings.IndexByte(n, 0) >= 0 {
			return false
		}
	}
	return true
}
