package core_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
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
