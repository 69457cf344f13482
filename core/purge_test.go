package core_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

// TestPurgeDestroysWhatNoRequestMet: a key and a secret past their deletion
// dates that no request names again are destroyed by Purge, the key with its
// versions, aliases and grants; one still in its waiting period, and one
// never scheduled, stay as they were; a second Purge finds nothing.
func TestPurgeDestroysWhatNoRequestMet(t *testing.T) {
	f := newSvcFixture(t)
	ctx := t.Context()
	doomed, waiting, live := f.createKey(), f.createKey(), f.createKey()
	f.ok("CreateKeyVersion", "KeyId", doomed)
	f.ok("CreateAlias", "AliasName", "alias/doomed", "KeyId", doomed)
	grant := f.grant(doomed, "app", []string{"Decrypt"}).GrantId
	f.newSecret("gone", live)
	f.newSecret("kept", live)
	f.ok("DeleteSecret", "SecretName", "gone", "RecoveryWindowInDays", "7")
	f.ok("ScheduleKeyDeletion", "KeyId", doomed, "PendingWindowInDays", "7")
	f.clock.Advance(24 * time.Hour)
	f.ok("ScheduleKeyDeletion", "KeyId", waiting, "PendingWindowInDays", "7")
	f.ok("DeleteSecret", "SecretName", "kept", "RecoveryWindowInDays", "7")
	f.clock.Advance(6*24*time.Hour + time.Second)

	got, err := f.svc.Purge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Keys, []string{doomed}) || !slices.Equal(got.Secrets, []string{"gone"}) {
		t.Fatalf("Purge destroyed keys %q and secrets %q; want [%s] and [gone]", got.Keys, got.Secrets, doomed)
	}
	// Each destruction is reported, with the date it was due.
	due := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	want := []core.Destruction{{Kind: core.DestroyedKey, ID: doomed, DeleteAt: due}, {Kind: core.DestroyedSecret, ID: "gone", DeleteAt: due}}
	if d := f.destructions(); !slices.EqualFunc(d, want, func(a, b core.Destruction) bool {
		return a.Kind == b.Kind && a.ID == b.ID && a.DeleteAt.Equal(b.DeleteAt)
	}) {
		t.Fatalf("reported destroyed %+v; want %+v", d, want)
	}
	for what, err := range map[string]error{
		"key":    errOf(f.store.GetKey(ctx, doomed)),
		"alias":  errOf(f.store.GetAlias(ctx, "alias/doomed")),
		"grant":  errOf(f.store.GetGrant(ctx, doomed, grant)),
		"secret": errOf(f.store.GetSecret(ctx, "gone")),
	} {
		if !errors.Is(err, core.ErrNotFound) {
			t.Errorf("the destroyed key's %s: read from the store, err = %v; want ErrNotFound", what, err)
		}
	}
	if vs, _, err := f.store.ListVersions(ctx, doomed, core.Page{}); err != nil || len(vs) != 0 {
		t.Errorf("the destroyed key's versions: %d left (%v); want none", len(vs), err)
	}
	k, err := f.store.GetKey(ctx, waiting)
	if err != nil || k.DeleteAt.IsZero() {
		t.Fatalf("the key still waiting: %+v, %v; want it stored, scheduled for deletion", k, err)
	}
	f.ok("CancelKeyDeletion", "KeyId", waiting)
	f.ok("RestoreSecret", "SecretName", "kept")
	f.ok("DescribeKey", "KeyId", live)
	if again, err := f.svc.Purge(ctx); err != nil || len(again.Keys)+len(again.Secrets) != 0 || len(f.destructions()) != 2 {
		t.Fatalf("a second Purge: %+v, %v, %d reported; want nothing destroyed", again, err, len(f.destructions()))
	}
}

// TestPurgeReadsSecretsAPageAtATime: Purge finds every secret past its
// date among more than two pages of the store's listing, and never
// holds more than a page of them: a daily purge of a store with many
// secrets must not need memory for all of them.
func TestPurgeReadsSecretsAPageAtATime(t *testing.T) {
	f := newSvcFixture(t)
	ctx := t.Context()
	now := f.clock.Now()
	var due []string
	f.storeSecrets(1201, func(i int, sec *core.GenericSecret) {
		if i%3 == 0 {
			sec.DeleteAt = now.Add(-time.Minute)
			due = append(due, sec.Name)
		}
	})
	got, err := f.svc.Purge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Secrets, due) {
		t.Fatalf("Purge destroyed %d secrets (%q…); want the %d past their date", len(got.Secrets), got.Secrets[:min(3, len(got.Secrets))], len(due))
	}
	if most := f.store.mostSecrets.Load(); most > 500 {
		t.Fatalf("one listing gave Purge %d secrets; want at most a page (500)", most)
	}
	if left, total, err := f.store.ListSecrets(ctx, time.Time{}, core.Page{}); err != nil || total != 1201-len(due) || slices.ContainsFunc(left, func(s core.GenericSecret) bool { return s.PastDeletion(now) }) {
		t.Fatalf("after Purge the store holds %d secrets (%v); want the %d not due", total, err, 1201-len(due))
	}
}

// errOf is the error of a two-valued store read.
func errOf[T any](_ T, err error) error { return err }

// TestRootRotationLeavesKeysPastDeletion: a root rotation re-wraps the
// material of live keys and of keys still in their waiting period, but not
// that of a key past its deletion date, which stays under the old root key
// and opens under none once that key is dropped.
func TestRootRotationLeavesKeysPastDeletion(t *testing.T) {
	f := newSvcFixture(t)
	ctx := t.Context()
	doomed, waiting := f.createKey(), f.createKey()
	f.ok("ScheduleKeyDeletion", "KeyId", doomed, "PendingWindowInDays", "7")
	f.clock.Advance(24 * time.Hour)
	f.ok("ScheduleKeyDeletion", "KeyId", waiting, "PendingWindowInDays", "7")
	f.clock.Advance(6*24*time.Hour + time.Second)

	oldRoot, newRoot := mustRoot(t, f.root), randomRoot(t)
	rotating, err := core.New(core.Config{Store: f.store, Root: newRoot, PreviousRoots: []*core.RootKey{oldRoot}, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := rotating.RewrapRoot(ctx, core.RewrapOptions{}); err != nil || p.Rewrapped != 1 || p.Keys != 1 {
		t.Fatalf("RewrapRoot = %+v, %v; want the waiting key's one version re-wrapped, of one key", p, err)
	}
	for id, want := range map[string]string{doomed: oldRoot.ID(), waiting: newRoot.ID()} {
		vs, _, err := f.store.ListVersions(ctx, id, core.Page{})
		if err != nil || len(vs) != 1 || vs[0].RootKeyID != want {
			t.Errorf("key %s after the rotation: %+v, %v; want its version under root key %s", id, vs, err, want)
		}
	}
}

// TestRacingPurgesReportEachDestructionOnce: two purges over one store each
// name only what they destroyed themselves, so every key past its date is
// named, and reported destroyed, exactly once.
func TestRacingPurgesReportEachDestructionOnce(t *testing.T) {
	f := newSvcFixture(t)
	var ids []string
	for range 20 {
		id := f.createKey()
		f.ok("ScheduleKeyDeletion", "KeyId", id, "PendingWindowInDays", "7")
		ids = append(ids, id)
	}
	f.clock.Advance(8 * 24 * time.Hour)
	results := make(chan core.Purged, 2)
	for range 2 {
		go func() {
			p, err := f.svc.Purge(t.Context())
			if err != nil {
				t.Error(err)
			}
			results <- p
		}()
	}
	named := append((<-results).Keys, (<-results).Keys...)
	slices.Sort(named)
	slices.Sort(ids)
	if !slices.Equal(named, ids) || len(f.destructions()) != len(ids) {
		t.Fatalf("the purges named %d keys (%d reported destroyed); want each of the %d once", len(named), len(f.destructions()), len(ids))
	}
}
