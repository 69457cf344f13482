package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

// lateAlias answers the first GetAlias with ErrNotFound, as a store does to an
// instance that looked just before another instance's alias create landed.
type lateAlias struct {
	core.KeyStore
	missed bool
}

func (s *lateAlias) GetAlias(ctx context.Context, name string) (core.Alias, error) {
	if !s.missed {
		s.missed = true
		return core.Alias{}, core.ErrNotFound
	}
	return s.KeyStore.GetAlias(ctx, name)
}

func TestEnsureAliasLoserAdoptsTheWinnersKeyAndLeavesNoOrphan(t *testing.T) {
	ctx := context.Background()
	winner, store := memService(t, core.Config{})
	keyID, created, err := winner.EnsureAlias(ctx, "alias/partitions", "partitions")
	if err != nil || !created {
		t.Fatalf("first start-up: %s created=%v %v", keyID, created, err)
	}
	loser, err := core.New(core.Config{Store: &lateAlias{KeyStore: store}, Root: randomRoot(t)})
	if err != nil {
		t.Fatal(err)
	}
	got, created, err := loser.EnsureAlias(ctx, "alias/partitions", "partitions")
	if err != nil || created || got != keyID {
		t.Fatalf("the losing start-up answered %s created=%v %v; want the winner's %s", got, created, err, keyID)
	}
	if _, total, err := store.ListKeys(ctx, time.Time{}, core.Page{}); err != nil || total != 1 {
		t.Fatalf("%d keys after the race (%v); the loser's key must be gone", total, err)
	}
	if _, _, err := winner.EnsureAlias(ctx, "alias/acs/reserved", ""); core.AsError(err) == nil || core.AsError(err).Code != core.CodeInvalidParameter {
		t.Fatalf("a reserved alias name: %v", err)
	}
}
