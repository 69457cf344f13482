package postgres

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kmsless/kmsless/core"
)

// Pruning: every pruneEvery recorded nonces, one of them also deletes up to
// pruneBatch expired rows, so deletions outpace insertions and the table stays
// near its live size without a scan per request.
const (
	pruneEvery = 64
	pruneBatch = 256
)

// Nonces is a core.NonceStore in the database, shared by every instance that
// uses it. Its rows are bounded by the principals' rate limits times the
// validity window, on disk, so it does not hold principals to core's memory
// quota.
type Nonces struct {
	s    *Store
	uses atomic.Uint64
}

var _ core.NonceStore = (*Nonces)(nil)

// Nonces returns the store's nonce memory.
func (s *Store) Nonces() *Nonces { return &Nonces{s: s} }

// useNonce inserts the nonce, or takes over its row if that has expired; no row
// comes back when a live one holds the id. Expiry is on the database's clock,
// which every instance shares.
const useNonce = `INSERT INTO nonces (id, expires) VALUES ($1, now() + $2 * interval '1 millisecond')
ON CONFLICT (id) DO UPDATE SET expires = excluded.expires WHERE nonces.expires <= now()
RETURNING true`

const pruneNonces = `DELETE FROM nonces WHERE id IN (
	SELECT id FROM nonces WHERE expires < now() ORDER BY expires LIMIT $1 FOR UPDATE SKIP LOCKED)`

// Use implements core.NonceStore; quota is not applied (see Nonces).
func (n *Nonces) Use(ctx context.Context, nonce string, ttl time.Duration, _ int) (bool, error) {
	fresh := false
	// A write: retried only when nothing reached the server, so a nonce
	// recorded by a lost answer is never refused as its own replay.
	err := n.s.write(ctx, "use nonce", func() error {
		// Losing the last few commits to a crash of the database server
		// is the price of not waiting for its WAL flush, as with the bolt
		// journal's missing fsync.
		var b pgx.Batch
		b.Queue(`BEGIN`)
		b.Queue(`SET LOCAL synchronous_commit = off`)
		b.Queue(useNonce, nonce, max(ttl.Milliseconds(), 1)).QueryRow(func(row pgx.Row) error {
			err := row.Scan(&fresh)
			if errors.Is(err, pgx.ErrNoRows) {
				fresh, err = false, nil
			}
			return err
		})
		b.Queue(`COMMIT`)
		return n.s.db.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return false, err
	}
	if n.uses.Add(1)%pruneEvery == 0 {
		// Best effort: what this misses, the next prune deletes.
		var b pgx.Batch
		b.Queue(`BEGIN`)
		b.Queue(`SET LOCAL synchronous_commit = off`)
		b.Queue(pruneNonces, pruneBatch)
		b.Queue(`COMMIT`)
		_ = n.s.db.SendBatch(ctx, &b).Close()
	}
	return fresh, nil
}
