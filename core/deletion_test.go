package core_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/store/memory"
)

// pastDeletion schedules the deletion of key id and moves the clock past its
// date.
func (f *svcFixture) pastDeletion(id string) {
	f.t.Helper()
	f.ok("ScheduleKeyDeletion", "KeyId", id, "PendingWindowInDays", "7")
	f.clock.Advance(7 * 24 * time.Hour)
}

// TestKeyPastDeletionLeavesListingsWithItsAliases holds the listings to what
// every other action sees: a key past its deletion date and its aliases are
// gone from the items, TotalCount and paging, before anything purges them,
// and listing them writes nothing.
func TestKeyPastDeletionLeavesListingsWithItsAliases(t *testing.T) {
	f := newSvcFixture(t)
	first, doomed := f.createKey(), f.createKey()
	f.clock.Advance(time.Second)
	last := f.createKey()
	f.ok("CreateAlias", "AliasName", "alias/first", "KeyId", first)
	f.ok("CreateAlias", "AliasName", "alias/doomed", "KeyId", doomed)
	f.ok("CreateAlias", "AliasName", "alias/doomed-too", "KeyId", doomed)
	f.ok("CreateAlias", "AliasName", "alias/last", "KeyId", last)
	f.pastDeletion(doomed)

	writes := f.store.writes.Load()
	var keys []string
	for page := 1; page <= 3; page++ {
		r := f.ok("ListKeys", "PageNumber", strconv.Itoa(page), "PageSize", "1").(*alibaba.ListKeysResponse)
		if r.TotalCount != 2 {
			t.Fatalf("ListKeys page %d: TotalCount %d, want 2", page, r.TotalCount)
		}
		for _, k := range r.Keys.Key {
			keys = append(keys, k.KeyId)
		}
	}
	if len(keys) != 2 || keys[0] != first || keys[1] != last {
		t.Fatalf("ListKeys in pages of 1 = %q, want [%s %s]", keys, first, last)
	}
	var aliases []string
	for page := 1; page <= 3; page++ {
		r := f.ok("ListAliases", "PageNumber", strconv.Itoa(page), "PageSize", "1").(*alibaba.ListAliasesResponse)
		if r.TotalCount != 2 {
			t.Fatalf("ListAliases page %d: TotalCount %d, want 2", page, r.TotalCount)
		}
		for _, a := range r.Aliases.Alias {
			aliases = append(aliases, a.AliasName)
		}
	}
	if len(aliases) != 2 || aliases[0] != "alias/first" || aliases[1] != "alias/last" {
		t.Fatalf("ListAliases in pages of 1 = %q, want [alias/first alias/last]", aliases)
	}
	_, err := f.call("ListAliasesByKeyId", "KeyId", doomed)
	mustCode(t, err, core.CodeKeyNotFound)
	if n := f.store.writes.Load() - writes; n != 0 {
		t.Fatalf("listing made %d store writes", n)
	}
}

// TestAliasOfKeyPastDeletionIsGoneAndFreeToTake: an alias goes with its key
// once the key's deletion date has passed, as AWS and Alibaba delete both.
// Through every action it does not exist, and taking its name destroys the
// old key in the store, with its other aliases.
func TestAliasOfKeyPastDeletionIsGoneAndFreeToTake(t *testing.T) {
	f := newSvcFixture(t)
	doomed, other := f.createKey(), f.createKey()
	f.ok("CreateAlias", "AliasName", "alias/app", "KeyId", doomed)
	f.ok("CreateAlias", "AliasName", "alias/app-old", "KeyId", doomed)
	f.ok("CreateAlias", "AliasName", "alias/spare", "KeyId", doomed)
	f.pastDeletion(doomed)

	_, err := f.call("GenerateDataKeyWithoutPlaintext", "KeyId", "alias/app")
	mustCode(t, err, core.CodeAliasNotFound)
	_, err = f.call("DescribeKey", "KeyId", "acs:kms:cn-hangzhou:1234567890123456:alias/app")
	mustCode(t, err, core.CodeAliasNotFound)
	_, err = f.call("UpdateAlias", "AliasName", "alias/app-old", "KeyId", other)
	mustCode(t, err, core.CodeAliasNotFound)
	if _, err := f.store.GetKey(background, doomed); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("UpdateAlias met the key past its deletion date and left it stored: %v", err)
	}
	// The request that destroyed it reported it, once.
	if d := f.destructions(); len(d) != 1 || d[0].Kind != core.DestroyedKey || d[0].ID != doomed {
		t.Fatalf("reported destroyed %+v; want key %s alone", d, doomed)
	}
	_, err = f.call("DeleteAlias", "AliasName", "alias/app-old")
	mustCode(t, err, core.CodeAliasNotFound)

	// The name is free to take.
	f.ok("CreateAlias", "AliasName", "alias/app", "KeyId", other)
	if got := f.describe("alias/app").KeyId; got != other {
		t.Fatalf("alias/app names %s, want %s", got, other)
	}
	if _, err := f.store.GetAlias(background, "alias/spare"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("the purged key's other alias is still stored: %v", err)
	}
	if n := len(f.destructions()); n != 1 {
		t.Fatalf("%d destructions reported; want the one", n)
	}
}

// TestCreateAliasPurgesAKeyPastDeletion: taking the name purges the key that
// held it; a name held by a live key stays taken.
func TestCreateAliasPurgesAKeyPastDeletion(t *testing.T) {
	f := newSvcFixture(t)
	doomed, live := f.createKey(), f.createKey()
	f.ok("CreateAlias", "AliasName", "alias/app", "KeyId", doomed)
	f.ok("CreateAlias", "AliasName", "alias/live", "KeyId", live)
	f.pastDeletion(doomed)
	f.ok("CreateAlias", "AliasName", "alias/app", "KeyId", live)
	if _, err := f.store.GetKey(background, doomed); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("the key past its deletion date is still stored: %v", err)
	}
	_, err := f.call("CreateAlias", "AliasName", "alias/live", "KeyId", f.createKey())
	mustCode(t, err, core.CodeAliasAlreadyExists)
}

// TestConcurrentCreateAliasTakesANameFromAKeyPastDeletionOnce races callers
// for the name of a key past its deletion date: the racers' purges find the
// key gone, one alias create wins, and every other caller is told the name
// is taken.
func TestConcurrentCreateAliasTakesANameFromAKeyPastDeletionOnce(t *testing.T) {
	f := newSvcFixture(t)
	doomed := f.createKey()
	f.ok("CreateAlias", "AliasName", "alias/app", "KeyId", doomed)
	const n = 8
	keys := make([]string, n)
	for i := range keys {
		keys[i] = f.createKey()
	}
	f.pastDeletion(doomed)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = f.call("CreateAlias", "AliasName", "alias/app", "KeyId", keys[i]) })
	}
	wg.Wait()
	won := ""
	for i, err := range errs {
		switch ke := core.AsError(err); {
		case err == nil:
			if won != "" {
				t.Fatalf("both %s and %s took alias/app", won, keys[i])
			}
			won = keys[i]
		case ke == nil || ke.Code != core.CodeAliasAlreadyExists:
			t.Fatalf("a racer got %v, want AliasAlreadyExists", err)
		}
	}
	if got := f.describe("alias/app").KeyId; won == "" || got != won {
		t.Fatalf("alias/app names %s; the winner was %q", got, won)
	}
}

// cancelFirst runs cancel once, just before the first key delete goes to the
// store: another instance's change landing between a purge's read and its
// delete.
type cancelFirst struct {
	*memory.Store
	once   sync.Once
	cancel func()
}

func (s *cancelFirst) DeleteKey(ctx context.Context, id string, revision int64) error {
	s.once.Do(s.cancel)
	return s.Store.DeleteKey(ctx, id, revision)
}

// TestPurgeSparesAKeyChangedMeanwhile: an instance whose clock has passed a
// key's deletion date does not destroy the key when an instance whose clock
// has not cancels the deletion in between; the purge holds to the revision
// it read, and the request goes on with the key as it now is.
func TestPurgeSparesAKeyChangedMeanwhile(t *testing.T) {
	for action, kv := range map[string][]string{
		"UpdateKeyDescription": {"KeyId", "", "Description", "kept"},
		"CreateAlias":          {"AliasName", "alias/app", "KeyId", ""},
	} {
		t.Run(action, func(t *testing.T) {
			behind := newSvcFixture(t)
			id, spare := behind.createKey(), behind.createKey()
			behind.ok("CreateAlias", "AliasName", "alias/app", "KeyId", id)
			behind.ok("ScheduleKeyDeletion", "KeyId", id, "PendingWindowInDays", "7")

			ahead := &stepClock{now: behind.clock.Now().Add(8 * 24 * time.Hour)}
			store := &cancelFirst{Store: behind.store.Store, cancel: func() { behind.ok("CancelKeyDeletion", "KeyId", id) }}
			svc, err := core.New(core.Config{Store: store, Root: mustRoot(t, behind.root), Clock: ahead, Region: "cn-hangzhou", AccountID: "1234567890123456"})
			if err != nil {
				t.Fatal(err)
			}
			params := svcParams(kv...)
			if params["KeyId"] = id; action == "CreateAlias" {
				params["KeyId"] = spare
			}
			_, err = svc.Handle(background, &core.Request{Action: action, Params: params, Caller: behind.admin})
			if action == "CreateAlias" {
				mustCode(t, err, core.CodeAliasAlreadyExists)
			} else if err != nil {
				t.Fatalf("%s: %v", action, err)
			}
			if m := behind.describe("alias/app"); m.KeyId != id || m.KeyState != "Enabled" {
				t.Fatalf("alias/app names %s (%s), want the restored %s", m.KeyId, m.KeyState, id)
			}
		})
	}
}
