package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/kmsless/kmsless/core"
)

var _ core.KeyUsageStore = (*Store)(nil)

// RecordKeyUsage keeps u as keyID's last use unless the use kept is later,
// in one statement. The foreign key to keys refuses a use of a missing key.
func (s *Store) RecordKeyUsage(ctx context.Context, keyID string, u core.KeyUsage) error {
	return s.write(ctx, "record key usage", func() error {
		_, err := s.db.Exec(ctx, `
			INSERT INTO key_usage (key_id, action, at, request_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT (key_id) DO UPDATE SET action = excluded.action, at = excluded.at, request_id = excluded.request_id
			WHERE key_usage.at <= excluded.at`, keyID, u.Action, u.At, u.RequestID)
		if constraint(err, codeForeignKeyViolation) {
			return fmt.Errorf("postgres: key %q: %w", keyID, core.ErrNotFound)
		}
		return err
	})
}

// KeyUsage returns keyID's last recorded use, if any, and since when the
// database keeps uses: the time its schema gained them. Both come from one
// query, so since is read on every call rather than kept from Open: it
// costs no round trip.
func (s *Store) KeyUsage(ctx context.Context, keyID string) (core.KeyUsage, time.Time, error) {
	var (
		since             time.Time
		action, requestID *string
		at                *time.Time
	)
	err := s.read(ctx, "read key usage", func() error {
		return s.db.QueryRow(ctx, `
			SELECT s.since, u.action, u.at, u.request_id
			FROM key_usage_since s LEFT JOIN key_usage u ON u.key_id = $1`, keyID).Scan(&since, &action, &at, &requestID)
	})
	if err != nil {
		return core.KeyUsage{}, time.Time{}, err
	}
	var u core.KeyUsage
	if at != nil {
		u = core.KeyUsage{Action: *action, At: at.UTC(), RequestID: *requestID}
	}
	return u, since.UTC(), nil
}
