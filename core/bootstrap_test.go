package core_test

import (
	"context"
	"errors"
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

// TestEnsureAliasReplacesAKeyPastDeletion: a start-up after the alias's key
// passed its deletion date finds no alias, purges the old key and makes a
// new one, rather than adopting a key every request would refuse.
func TestEnsureAliasReplacesAKeyPastDeletion(t *testing.T) {
	ctx := context.Background()
	clock := &stepClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	svc, store := memService(t, core.Config{Clock: clock})
	old, _, err := svc.EnsureAlias(ctx, "alias/partitions", "partitions")
	if err != nil {
		t.Fatal(err)
	}
	admin := &core.Principal{Name: "admin", AccessKeyID: "LTAIadmin", Secret: core.NewSecret("s"), Policy: core.FullAccess()}
	if _, err := svc.Handle(ctx, &core.Request{Action: "ScheduleKeyDeletion", Params: core.Params{"KeyId": old, "PendingWindowInDays": "7"}, Caller: admin}); err != nil {
		t.Fatal(err)
	}
	if again, created, err := svc.EnsureAlias(ctx, "alias/partitions", "partitions"); err != nil || created || again != old {
		t.Fatalf("within the waiting period: %s created=%v %v; want the scheduled %s", again, created, err, old)
	}
	clock.Advance(7 * 24 * time.Hour)
	fresh, created, err := svc.EnsureAlias(ctx, "alias/partitions", "partitions")
	if err != nil || !created || fresh == old {
		t.Fatalf("past the deletion date: %s created=%v %v; want a new key", fresh, created, err)
	}
	if _, err := store.GetKey(ctx, old); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("the key past its deletion date is still stored: %v", err)
	}
	if _, err := svc.Handle(ctx, &core.Request{Action: "GenerateDataKeyWithoutPlaintext", Params: core.Params{"KeyId": "alias/partitions"}, Caller: admin}); err != nil {
		t.Fatalf("a data key under the new alias/partitions: %v", err)
	}
}
