package core_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

// keyReads is the in-memory store, counting the keys it hands out, by any
// read.
type keyReads struct {
	*countingStore
	n int
}

func (s *keyReads) GetKey(ctx context.Context, id string) (core.Key, error) {
	k, err := s.countingStore.GetKey(ctx, id)
	if err == nil {
		s.n++
	}
	return k, err
}

func (s *keyReads) ListKeys(ctx context.Context, asOf time.Time, p core.Page) ([]core.Key, int, error) {
	keys, total, err := s.countingStore.ListKeys(ctx, asOf, p)
	s.n += len(keys)
	return keys, total, err
}

func (s *keyReads) ListKeysAfter(ctx context.Context, asOf time.Time, after core.KeyPosition, limit int) ([]core.Key, error) {
	keys, err := s.countingStore.ListKeysAfter(ctx, asOf, after, limit)
	s.n += len(keys)
	return keys, err
}

// tagPage is one page of ListTagResources, its rows as "id:key=value".
func (f *svcFixture) tagPage(token string, kv ...string) (rows []string, next string) {
	f.t.Helper()
	p := svcParams(append([]string{"ResourceType", "key", "NextToken", token}, kv...)...)
	r, err := f.svc.Handle(background, &core.Request{ID: "REQ", Action: "ListTagResources", Params: p, Caller: f.admin})
	if err != nil {
		f.t.Fatalf("ListTagResources: %v", err)
	}
	l := r.(core.TagListing)
	for _, row := range l.Items {
		rows = append(rows, row.ResourceID+":"+row.Key+"="+row.Value)
	}
	return rows, l.NextToken
}

// tagWalk follows NextToken from the first page, calling between after each
// page but the last, and returns the pages.
func (f *svcFixture) tagWalk(between func(page int, rows []string), kv ...string) [][]string {
	f.t.Helper()
	var pages [][]string
	token := ""
	for {
		rows, next := f.tagPage(token, kv...)
		pages = append(pages, rows)
		if next == "" {
			return pages
		}
		if len(pages) > 1000 {
			f.t.Fatal("ListTagResources never ends")
		}
		if between != nil {
			between(len(pages), rows)
		}
		token = next
	}
}

// TestListTagResourcesPageReadsAPageOfKeys: with 5,000 keys of one tag each,
// every page of ListTagResources reads about a page of keys from the store
// (the key at its NextToken's place and one row more than a page), not all
// of them; and the walk lists each row once, in the order of ListKeys.
func TestListTagResourcesPageReadsAPageOfKeys(t *testing.T) {
	f := newSvcFixture(t)
	s := &keyReads{countingStore: f.store}
	rk, err := core.NewRootKey(f.root)
	if err != nil {
		t.Fatal(err)
	}
	f.svc, err = core.New(core.Config{Store: s, Partitions: s, Root: rk, Clock: f.clock, Region: "cn-hangzhou", AccountID: "1234567890123456"})
	if err != nil {
		t.Fatal(err)
	}
	const keys = 5000
	for i := range keys {
		f.createKey("Tags", fmt.Sprintf(`[{"TagKey":"n","TagValue":"%d"}]`, i))
		if i%7 == 0 {
			f.clock.Advance(time.Second)
		}
	}
	var want []string
	for _, k := range f.keyOrder() {
		want = append(want, k+":n=")
	}
	s.n = 0
	var got []string
	pages := f.tagWalk(func(page int, rows []string) {
		if s.n > 2*core.TagPageSize {
			t.Fatalf("page %d read %d keys of %d", page, s.n, keys)
		}
		s.n = 0
		got = append(got, rows...)
	})
	got = append(got, pages[len(pages)-1]...)
	if len(pages) != keys/core.TagPageSize {
		t.Fatalf("%d pages of %d rows, want %d", len(pages), keys, keys/core.TagPageSize)
	}
	if len(got) != len(want) {
		t.Fatalf("the walk listed %d rows, want %d", len(got), len(want))
	}
	for i := range got {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("row %d is %s, want key %s", i, got[i], strings.TrimSuffix(want[i], ":n="))
		}
	}
}

// keyOrder lists every key in the order of ListKeys: the store's.
func (f *svcFixture) keyOrder() []string {
	f.t.Helper()
	keys, _, err := f.store.ListKeys(background, time.Time{}, core.Page{})
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	return ids
}

// TestListTagResourcesKeepsItsPlaceWhileKeysComeAndGo: rows come by key in
// the order of ListKeys (creation, then ID), then by tag key, however the
// keys are named; a page may end inside a key's tags and the next go on
// from there; and keys made and deleted between pages, the key at the place
// reached among them, leave every row of the keys that last the walk listed
// once.
func TestListTagResourcesKeepsItsPlaceWhileKeysComeAndGo(t *testing.T) {
	f := newSvcFixture(t)
	// 30 keys of 15 tags, three made each second: pages end inside keys.
	var tags []string
	for j := range 15 {
		tags = append(tags, fmt.Sprintf(`{"TagKey":"t%02d","TagValue":"v"}`, j))
	}
	for i := range 30 {
		f.createKey("Tags", "["+strings.Join(tags, ",")+"]")
		if i%3 == 2 {
			f.clock.Advance(time.Second)
		}
	}
	order := f.keyOrder()
	if slices.IsSorted(order) {
		t.Fatal("the keys were made in ID order: the test shows nothing")
	}
	rowsOf := func(ids ...string) []string {
		var rows []string
		for _, id := range ids {
			for j := range 15 {
				rows = append(rows, fmt.Sprintf("%s:t%02d=v", id, j))
			}
		}
		return rows
	}
	want := rowsOf(order...)
	if got := slices.Concat(f.tagWalk(nil)...); !slices.Equal(got, want) {
		t.Fatalf("every key's rows:\n got %q\nwant %q", got, want)
	}
	var named []string
	for _, id := range slices.Backward(order[:10]) {
		named = append(named, fmt.Sprintf("ResourceId.%d", len(named)/2+1), id)
	}
	if got := slices.Concat(f.tagWalk(nil, named...)...); !slices.Equal(got, want[:150]) {
		t.Fatalf("named keys' rows:\n got %q\nwant %q", got, want[:150])
	}

	// Page 1 ends inside order[13]'s tags (its rows are 195 to 209). Then
	// order[13] and order[20] pass their deletion date, order[2], listed
	// already, too, and a key is made, after every other.
	var made string
	pages := f.tagWalk(func(page int, rows []string) {
		if page != 1 {
			return
		}
		if last := rows[len(rows)-1]; last != order[13]+":t04=v" {
			t.Fatalf("page 1 ends at %s, not inside %s", last, order[13])
		}
		for _, id := range []string{order[2], order[13], order[20]} {
			f.ok("ScheduleKeyDeletion", "KeyId", id, "PendingWindowInDays", "7")
		}
		f.clock.Advance(7 * 24 * time.Hour)
		made = f.createKey("Tags", `[{"TagKey":"t00","TagValue":"new"}]`)
	})
	want = slices.Concat(want[:200], rowsOf(order[14:20]...), rowsOf(order[21:]...), []string{made + ":t00=new"})
	if got := slices.Concat(pages...); !slices.Equal(got, want) {
		t.Fatalf("rows while keys come and go:\n got %q\nwant %q", got, want)
	}
}
