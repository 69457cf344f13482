package core_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/bolt"
	"github.com/kmsless/kmsless/infra/store/memory"
	"github.com/kmsless/kmsless/infra/store/postgres"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

// writers is how many requests change one key at once: as many as the
// instances of a busy deployment might send together.
const writers = 32

// TestConcurrentChangesToOneKeyAllSucceed sends writers changes to one key
// at once, half tagging it (each with a tag key of its own, so each change
// must survive) and half rewriting its description, on each store. Every
// request succeeds: contention alone is no reason to refuse one.
func TestConcurrentChangesToOneKeyAllSucceed(t *testing.T) {
	stores := map[string]func(t *testing.T) core.KeyStore{
		"memory": func(*testing.T) core.KeyStore { return memory.New() },
		"bolt": func(t *testing.T) core.KeyStore {
			s, err := bolt.Open(filepath.Join(t.TempDir(), "kms.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		"postgres": func(t *testing.T) core.KeyStore {
			// A connection for each writer, as each instance of a
			// deployment holds its own.
			url := storetest.PostgresDatabase(t, "kms_contention_") + fmt.Sprintf("&pool_max_conns=%d", writers)
			s, err := postgres.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			svc := rootedService(t, open(t), randomRoot(t))
			out, err := do(t, svc, "CreateKey", nil)
			if err != nil {
				t.Fatal(err)
			}
			id := out.(core.Key).ID
			var wg sync.WaitGroup
			errs := make([]error, writers)
			for i := range writers {
				wg.Go(func() {
					p := core.Params{"KeyId": id}
					action := "TagResource"
					if i%2 == 0 {
						p["Tags"] = fmt.Sprintf(`[{"TagKey":"k%d","TagValue":"v%d"}]`, i, i)
					} else {
						action = "UpdateKeyDescription"
						p["Description"] = fmt.Sprintf("d%d", i)
					}
					_, errs[i] = svc.Handle(context.Background(), &core.Request{ID: "r", Action: action, Params: p, Caller: operator})
				})
			}
			wg.Wait()
			failed := 0
			for i, err := range errs {
				if err != nil {
					failed++
					t.Errorf("writer %d: %v", i, err)
				}
			}
			if failed > 0 {
				t.Fatalf("%d of %d concurrent changes failed", failed, writers)
			}
			out, err = do(t, svc, "DescribeKey", core.Params{"KeyId": id})
			if err != nil {
				t.Fatal(err)
			}
			k := out.(core.Key)
			for i := 0; i < writers; i += 2 {
				if k.Tags[fmt.Sprintf("k%d", i)] != fmt.Sprintf("v%d", i) {
					t.Errorf("tag k%d lost: tags are %v", i, k.Tags)
				}
			}
		})
	}
}

// rivalStore is a memory store where another writer changes the key just
// before each of the service's key updates, which then meets a newer revision.
type rivalStore struct {
	*memory.Store
	rivals atomic.Int64
	// rival runs after each rival change.
	rival func()
}

func (s *rivalStore) UpdateKey(ctx context.Context, k core.Key) error {
	cur, err := s.Store.GetKey(ctx, k.ID)
	if err != nil {
		return err
	}
	cur.Revision++
	if err := s.Store.UpdateKey(ctx, cur); err != nil {
		return err
	}
	s.rivals.Add(1)
	s.rival()
	return s.Store.UpdateKey(ctx, k)
}

// TestAChangeThatKeepsLosingStopsWhenItsCallerGivesUp holds the retries of a
// change to a key to their bound, and to the caller's context: one whose
// caller has gone makes no further attempt, and both answer, as before, that
// the key is being changed by another request.
func TestAChangeThatKeepsLosingStopsWhenItsCallerGivesUp(t *testing.T) {
	store := &rivalStore{Store: memory.New(), rival: func() {}}
	svc := rootedService(t, store, randomRoot(t))
	out, err := do(t, svc, "CreateKey", nil)
	if err != nil {
		t.Fatal(err)
	}
	id := out.(core.Key).ID
	describe := func(ctx context.Context) error {
		_, err := svc.Handle(ctx, &core.Request{ID: "r", Action: "UpdateKeyDescription", Params: core.Params{"KeyId": id, "Description": "d"}, Caller: operator})
		return err
	}

	err = describe(context.Background())
	if e := mustCode(t, err, core.CodeStateModifiedFailed); e.Message != fmt.Sprintf("The key %q is being changed by another request; retry.", id) {
		t.Fatalf("message %q", e.Message)
	}
	if n := store.rivals.Load(); n < 2 {
		t.Fatalf("the change gave up after %d attempt(s)", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store.rivals.Store(0)
	store.rival = cancel
	mustCode(t, describe(ctx), core.CodeStateModifiedFailed)
	if n := store.rivals.Load(); n != 1 {
		t.Fatalf("the change made %d attempts after its caller gave up after the first", n)
	}
}

// purgeLoser is a memory store in which the purge of a key past its deletion
// date always meets a newer revision, as when another instance keeps changing
// the key; it counts the reads of keys.
type purgeLoser struct {
	*memory.Store
	reads atomic.Int64
}

func (s *purgeLoser) GetKey(ctx context.Context, id string) (core.Key, error) {
	s.reads.Add(1)
	return s.Store.GetKey(ctx, id)
}

func (s *purgeLoser) DeleteKey(context.Context, string, int64) error { return core.ErrConflict }

// A change that keeps losing the purge of its key makes one pace of attempts,
// not one inside another: the loop of the change and the loop of the read
// behind it do not multiply.
func TestRetriesOfAChangeDoNotMultiply(t *testing.T) {
	store := &purgeLoser{Store: memory.New()}
	s := rootedService(t, store, randomRoot(t))
	out, err := do(t, s, "CreateKey", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Cached as it was, the key reaches the change's own loop.
	if _, err := do(t, s, "DescribeKey", core.Params{"KeyId": out.(core.Key).ID}); err != nil {
		t.Fatal(err)
	}
	k, err := store.Store.GetKey(context.Background(), out.(core.Key).ID)
	if err != nil {
		t.Fatal(err)
	}
	k.State, k.DeleteAt = core.KeyPendingDeletion, time.Now().Add(-time.Hour)
	k.Revision++
	if err := store.Store.UpdateKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	store.reads.Store(0)
	_, err = do(t, s, "UpdateKeyDescription", core.Params{"KeyId": k.ID, "Description": "x"})
	mustCode(t, err, core.CodeStateModifiedFailed)
	if n := store.reads.Load(); n > 2*20 {
		t.Errorf("one change read its key %d times", n)
	}
}
