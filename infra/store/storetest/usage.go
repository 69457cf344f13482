package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

// usedAt is the i-th millisecond after t0's: core records uses to the
// millisecond.
func usedAt(i int) time.Time {
	return t0.Truncate(time.Millisecond).Add(time.Duration(i) * time.Millisecond)
}

func normUsage(u core.KeyUsage) core.KeyUsage {
	u.At = u.At.UTC()
	return u
}

// wantUsage checks keyID's last use, and returns since when the store keeps
// uses, which must be set and not in the future.
func wantUsage(t *testing.T, s Store, keyID string, want core.KeyUsage) time.Time {
	t.Helper()
	got, since, err := s.KeyUsage(context.Background(), keyID)
	if err != nil {
		t.Fatalf("KeyUsage(%s): %v", keyID, err)
	}
	if !reflect.DeepEqual(normUsage(got), normUsage(want)) {
		t.Fatalf("KeyUsage(%s)\n got %+v\nwant %+v", keyID, got, want)
	}
	if since.IsZero() || since.After(time.Now()) {
		t.Fatalf("KeyUsage(%s): uses kept since %v, want a time not after now", keyID, since)
	}
	return since
}

func recordUsage(t *testing.T, s Store, keyID string, u core.KeyUsage) {
	t.Helper()
	if err := s.RecordKeyUsage(context.Background(), keyID, u); err != nil {
		t.Fatalf("RecordKeyUsage(%s, %+v): %v", keyID, u, err)
	}
}

// A key's last use is the one with the latest time, whatever the order
// uses are recorded in; an equal time replaces. A use is kept for its key
// only, and a missing key's use is refused and leaves nothing behind.
func testKeyUsageKeepsTheLatestUse(t *testing.T, s Store) {
	ctx := context.Background()
	a, _ := create(t, s, "key-a", t0)
	b, _ := create(t, s, "key-b", t0)
	since := wantUsage(t, s, a.ID, core.KeyUsage{})

	first := core.KeyUsage{Action: "Encrypt", At: usedAt(10), RequestID: "req-1"}
	recordUsage(t, s, a.ID, first)
	wantUsage(t, s, a.ID, first)
	wantUsage(t, s, b.ID, core.KeyUsage{})

	recordUsage(t, s, a.ID, core.KeyUsage{Action: "Decrypt", At: usedAt(9), RequestID: "req-earlier"})
	wantUsage(t, s, a.ID, first)
	same := core.KeyUsage{Action: "GenerateDataKey", At: usedAt(10), RequestID: "req-same"}
	recordUsage(t, s, a.ID, same)
	wantUsage(t, s, a.ID, same)
	later := core.KeyUsage{Action: "AsymmetricSign", At: usedAt(11), RequestID: "req-later"}
	recordUsage(t, s, a.ID, later)
	wantUsage(t, s, a.ID, later)

	err := s.RecordKeyUsage(ctx, "key-missing", core.KeyUsage{Action: "Encrypt", At: usedAt(12), RequestID: "req-missing"})
	wantErr(t, "RecordKeyUsage of a missing key", err, core.ErrNotFound)
	wantUsage(t, s, "key-missing", core.KeyUsage{})

	if again := wantUsage(t, s, b.ID, core.KeyUsage{}); !again.Equal(since) {
		t.Fatalf("uses kept since %v, then since %v", since, again)
	}
}

// DeleteKey removes the key's last use: a key re-created under its ID
// starts with none, and until then a use of it is refused.
func testDeleteKeyRemovesItsUse(t *testing.T, s Store) {
	ctx := context.Background()
	k, _ := create(t, s, "key-a", t0)
	recordUsage(t, s, k.ID, core.KeyUsage{Action: "Encrypt", At: usedAt(1), RequestID: "req-1"})
	if err := s.DeleteKey(ctx, k.ID, k.Revision); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	wantUsage(t, s, k.ID, core.KeyUsage{})
	err := s.RecordKeyUsage(ctx, k.ID, core.KeyUsage{Action: "Encrypt", At: usedAt(2), RequestID: "req-2"})
	wantErr(t, "RecordKeyUsage after DeleteKey", err, core.ErrNotFound)
	wantUsage(t, s, k.ID, core.KeyUsage{})

	create(t, s, k.ID, at(10))
	wantUsage(t, s, k.ID, core.KeyUsage{})
	use := core.KeyUsage{Action: "Decrypt", At: usedAt(3), RequestID: "req-3"}
	recordUsage(t, s, k.ID, use)
	wantUsage(t, s, k.ID, use)
}

// Uses recorded at once, each at its own time and in no order, leave the
// latest.
func testConcurrentRecordKeyUsage(t *testing.T, s Store) {
	ctx := context.Background()
	k, _ := create(t, s, "key-a", t0)
	const writers, rounds = 8, 4
	// Writer w's round r is use (rounds-r)*writers+w: each writer goes back
	// in time, so that the latest use is recorded first of its writer's.
	eachLands(t, "RecordKeyUsage", writers, rounds, func(w, r int) error {
		i := (rounds-r)*writers + w
		return s.RecordKeyUsage(ctx, k.ID, core.KeyUsage{Action: "Encrypt", At: usedAt(i), RequestID: fmt.Sprintf("req-%d", i)})
	})
	i := rounds*writers + writers - 1
	wantUsage(t, s, k.ID, core.KeyUsage{Action: "Encrypt", At: usedAt(i), RequestID: fmt.Sprintf("req-%d", i)})
}
