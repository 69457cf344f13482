package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestNoncesAreSharedByStoresOnOneDatabase(t *testing.T) {
	ctx := context.Background()
	schema := newSchema("n")
	a, err := Open(ctx, testURL, WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, testURL, WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if fresh, err := a.Nonces().Use(ctx, "LTAIa:n1", time.Hour, 0); !fresh || err != nil {
		t.Fatalf("first use: %v, %v", fresh, err)
	}
	if fresh, err := b.Nonces().Use(ctx, "LTAIa:n1", time.Hour, 0); fresh || err != nil {
		t.Fatalf("use on the other store: %v, %v; want a replay", fresh, err)
	}
	if fresh, err := b.Nonces().Use(ctx, "LTAIb:n1", time.Hour, 0); !fresh || err != nil {
		t.Fatalf("another principal's nonce: %v, %v", fresh, err)
	}
	// An expired row is taken over, not refused.
	if _, err := a.pool.Exec(ctx, `UPDATE nonces SET expires = now() - interval '1 second' WHERE id = 'LTAIa:n1'`); err != nil {
		t.Fatal(err)
	}
	if fresh, err := b.Nonces().Use(ctx, "LTAIa:n1", time.Hour, 0); !fresh || err != nil {
		t.Fatalf("use after expiry: %v, %v; want fresh", fresh, err)
	}
	var left time.Duration
	if err := a.pool.QueryRow(ctx, `SELECT extract(epoch FROM expires - now())::float8 * 1e9 FROM nonces WHERE id = 'LTAIa:n1'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left < 59*time.Minute || left > time.Hour {
		t.Errorf("renewed nonce expires in %s, want about an hour", left)
	}
}

func TestNoncePruningKeepsTheTableNearItsLiveSize(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	const expired = 3 * pruneBatch
	if _, err := s.pool.Exec(ctx, `INSERT INTO nonces SELECT 'LTAIold:' || i, now() - interval '1 minute' FROM generate_series(1, $1) i`, expired); err != nil {
		t.Fatal(err)
	}
	n := s.Nonces()
	for i := range 4 * pruneEvery {
		if _, err := n.Use(ctx, fmt.Sprint("LTAInew:", i), time.Hour, 0); err != nil {
			t.Fatal(err)
		}
	}
	var rows, live int
	if err := s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE expires > now()) FROM nonces`).Scan(&rows, &live); err != nil {
		t.Fatal(err)
	}
	if live != 4*pruneEvery || rows-live > expired-3*pruneBatch {
		t.Errorf("%d rows, %d live after %d uses; want the %d expired ones pruned", rows, live, 4*pruneEvery, expired)
	}
}

// BenchmarkNonceUse is the cost a request pays for its nonce on a shared
// PostgreSQL store, with a backlog of expired rows for the pruning to delete
// at its full rate.
func BenchmarkNonceUse(b *testing.B) {
	s := openTemp(b)
	defer s.Close()
	n := s.Nonces()
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `INSERT INTO nonces SELECT 'LTAIold:' || i, now() - interval '1 minute' FROM generate_series(1, 200000) i`); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		if fresh, err := n.Use(ctx, fmt.Sprint("LTAIbench:", i), time.Hour, 0); !fresh || err != nil {
			b.Fatal(fresh, err)
		}
	}
}
