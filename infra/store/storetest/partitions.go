package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/kmsless/kmsless/core"
)

func partitionIDs(ps []core.Partition) []string {
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

// testListPartitionsAfter: the listing is in byte order of the IDs, which is
// neither creation order nor a locale's, hands back every field as stored,
// resumes after any position, stored or not, stops at the limit, and shares
// no memory with the store.
func testListPartitionsAfter(t *testing.T, s Store) {
	ctx := context.Background()
	if list, err := s.ListPartitionsAfter(ctx, "", 0); err != nil || len(list) != 0 {
		t.Fatalf("ListPartitionsAfter of an empty store = %q, %v; want none", partitionIDs(list), err)
	}
	if list, err := s.ListPartitionsAfter(ctx, "", 10); err != nil || len(list) != 0 {
		t.Fatalf("ListPartitionsAfter(\"\", 10) of an empty store = %q, %v; want none", partitionIDs(list), err)
	}

	// Created out of order; as bytes "P-z" sorts before "p-a", "p-a/1"
	// between "p-a" and "p-b", and "p-é" after "p-f".
	stored := map[string]core.Partition{}
	for i, id := range []string{"p-b", "p-é", "p-a", "p-c", "P-z", "p-a/1", "p-f"} {
		p := core.Partition{ID: id, KeyID: fmt.Sprintf("key-%d", i%3), KeyVersionID: fmt.Sprintf("key-%d-v%d", i%3, i),
			CiphertextBlob: fmt.Appendf(nil, "data key of %s\x00\xff", id), CreatedAt: at(i),
			EncryptionContext: map[string]string{"partition": id, "writer": fmt.Sprint(i)}}
		if id == "p-c" {
			p.EncryptionContext = nil // a record without a context
		}
		if _, created, err := s.CreatePartition(ctx, p); err != nil || !created {
			t.Fatalf("CreatePartition(%s) = %v, %v; want created", id, created, err)
		}
		stored[id] = p
	}
	all := []string{"P-z", "p-a", "p-a/1", "p-b", "p-c", "p-f", "p-é"}

	list, err := s.ListPartitionsAfter(ctx, "", 0)
	if err != nil || !slices.Equal(partitionIDs(list), all) {
		t.Fatalf("ListPartitionsAfter(\"\", 0) = %q, %v; want %q", partitionIDs(list), err, all)
	}
	for _, got := range list {
		if want := stored[got.ID]; !reflect.DeepEqual(normPartition(got), normPartition(want)) {
			t.Fatalf("ListPartitionsAfter item %s\n got %+v\nwant %+v", got.ID, got, want)
		}
	}

	for _, tc := range []struct {
		after string
		limit int
		want  []string
	}{
		{"", -1, all},
		{"", 2, all[:2]},
		{"", len(all), all},
		{"", len(all) + 1, all},
		{all[1], 0, all[2:]},
		{all[1], 2, all[2:4]},
		{"p-a0", 0, []string{"p-b", "p-c", "p-f", "p-é"}}, // a position no record has
		{"P", 1, []string{"P-z"}},
		{"p-e", 1, []string{"p-f"}},
		{"p-f", 0, []string{"p-é"}},
		{all[len(all)-1], 0, nil},
		{all[len(all)-1], 5, nil},
		{"q", 1, nil},
	} {
		list, err := s.ListPartitionsAfter(ctx, tc.after, tc.limit)
		if err != nil || !slices.Equal(partitionIDs(list), tc.want) {
			t.Fatalf("ListPartitionsAfter(%q, %d) = %q, %v; want %q", tc.after, tc.limit, partitionIDs(list), err, tc.want)
		}
	}

	// Walked a page at a time, every record comes once.
	var walked []string
	for after := ""; ; {
		page, err := s.ListPartitionsAfter(ctx, after, 3)
		if err != nil {
			t.Fatalf("ListPartitionsAfter(%q, 3): %v", after, err)
		}
		walked = append(walked, partitionIDs(page)...)
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].ID
	}
	if !slices.Equal(walked, all) {
		t.Fatalf("walking ListPartitionsAfter gave %q, want %q", walked, all)
	}

	// Scribbling on what a listing returned changes nothing stored.
	for _, p := range list {
		clear(p.CiphertextBlob)
		if p.EncryptionContext != nil {
			p.EncryptionContext["partition"] = "scribbled"
		}
	}
	again, err := s.ListPartitionsAfter(ctx, "", 0)
	if err != nil || len(again) != len(all) {
		t.Fatalf("ListPartitionsAfter again = %q, %v; want %q", partitionIDs(again), err, all)
	}
	for _, got := range again {
		if want := stored[got.ID]; !reflect.DeepEqual(normPartition(got), normPartition(want)) {
			t.Fatalf("a caller's change to a listed partition reached the store:\n got %+v\nwant %+v", got, want)
		}
	}
}
