package core_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/memory"
)

func material(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// seed is a seed of key-a, named by alias/a, with material of bytes b.
func seed(b byte) []core.SeedKey {
	return []core.SeedKey{{ID: "key-a", Aliases: []string{"alias/a"}, Versions: []core.SeedVersion{{Material: material(b)}}}}
}

func TestSeedRefusesMalformedKeysBeforeAnyWrite(t *testing.T) {
	many := map[string]string{}
	for i := range core.MaxTags + 1 {
		many[fmt.Sprint("t", i)] = "v"
	}
	good := core.SeedKey{ID: "key-good"}
	cases := map[string][]core.SeedKey{
		"bad key ID":          {good, {ID: "key/with/slash"}},
		"short material":      {good, {ID: "key-b", Versions: []core.SeedVersion{{Material: []byte("short")}}}},
		"unknown state":       {good, {ID: "key-b", State: core.KeyPendingDeletion}},
		"too many tags":       {good, {ID: "key-b", Tags: many}},
		"reserved tag prefix": {good, {ID: "key-b", Tags: map[string]string{"acs:owner": "x"}}},
		"bad interval":        {good, {ID: "key-b", RotationInterval: "1d"}},
		"bad alias":           {good, {ID: "key-b", Aliases: []string{"orders"}}},
		"duplicate key":       {good, good},
		"alias given twice":   {{ID: "key-a", Aliases: []string{"alias/x"}}, {ID: "key-b", Aliases: []string{"alias/x"}}},
		"duplicate version":   {{ID: "key-a", Versions: []core.SeedVersion{{ID: "v", Material: material(1)}, {ID: "v", Material: material(2)}}}},
		"malformed policy":    {good, {ID: "key-b", Policy: `{"Statement":[]}`}},
	}
	for name, keys := range cases {
		t.Run(name, func(t *testing.T) {
			f := newSvcFixture(t)
			if _, err := f.svc.Seed(context.Background(), keys); err == nil {
				t.Fatal("accepted")
			}
			if n := f.store.writes.Load(); n != 0 {
				t.Errorf("%d writes before the refusal", n)
			}
		})
	}
}

func TestSeedComparesMaterialWithoutKeepingIt(t *testing.T) {
	f := newSvcFixture(t)
	ctx := context.Background()
	m := material(9)
	res, err := f.svc.Seed(ctx, []core.SeedKey{{ID: "key-a", Aliases: []string{"alias/a"}, Versions: []core.SeedVersion{{Material: m}}}})
	if err != nil || res.Created != 1 || res.Aliases != 1 {
		t.Fatalf("Seed = %+v, %v", res, err)
	}
	if !bytes.Equal(m, make([]byte, 32)) {
		t.Error("Seed left the material it was given in memory")
	}
	writes := f.store.writes.Load()
	res, err = f.svc.Seed(ctx, []core.SeedKey{{ID: "key-a", Aliases: []string{"alias/a"}, Versions: []core.SeedVersion{{Material: material(9)}}}})
	if err != nil || res.Existing != 1 || res.Created != 0 || res.Aliases != 0 {
		t.Fatalf("second Seed = %+v, %v", res, err)
	}
	_, err = f.svc.Seed(ctx, []core.SeedKey{{ID: "key-a", Versions: []core.SeedVersion{{Material: material(8)}}}})
	var conflict *core.SeedConflict
	if !errors.As(err, &conflict) || !strings.Contains(err.Error(), "other material") {
		t.Fatalf("other material: %v", err)
	}
	if n := f.store.writes.Load(); n != writes {
		t.Errorf("a restart and a conflict wrote %d times", n-writes)
	}
	// Under another root key the stored material cannot be compared at all.
	other := bytes.Repeat([]byte{5}, 32)
	f.restart(other)
	writes = f.store.writes.Load()
	_, err = f.svc.Seed(ctx, []core.SeedKey{{ID: "key-a", Versions: []core.SeedVersion{{Material: material(9)}}}})
	if !errors.As(err, &conflict) || !strings.Contains(err.Error(), "root key") {
		t.Fatalf("another root key: %v", err)
	}
	if n := f.store.writes.Load() - writes; n != 0 {
		t.Errorf("the refused seed wrote %d times", n)
	}
}

// Every step of a root rotation starts with the same seed: stored versions are
// compared under whichever configured root key wrapped them.
func TestSeedAcceptsStoredKeysAtEveryStepOfARootRotation(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	oldRoot, newRoot := randomRoot(t), randomRoot(t)
	seed := func(m []byte) []core.SeedKey {
		return []core.SeedKey{{ID: "key-orders", Versions: []core.SeedVersion{{Material: m}}}}
	}
	if _, err := rootedService(t, store, oldRoot).Seed(ctx, seed(material(7))); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		roots []*core.RootKey
	}{
		{"1: the new key accepted", []*core.RootKey{oldRoot, newRoot}},
		{"2: the new key current", []*core.RootKey{newRoot, oldRoot}},
	}
	for _, step := range steps {
		s := rootedService(t, store, step.roots[0], step.roots[1:]...)
		if res, err := s.Seed(ctx, seed(material(7))); err != nil || res.Existing != 1 {
			t.Fatalf("step %s: Seed = %+v, %v", step.name, res, err)
		}
		_, err := s.Seed(ctx, seed(material(8)))
		var conflict *core.SeedConflict
		if !errors.As(err, &conflict) || !strings.Contains(err.Error(), "other material") {
			t.Fatalf("step %s, other material: %v", step.name, err)
		}
	}
}

// A key past its deletion date is gone to every caller, so a seed naming it
// finds the store without it: start-up purges the old key and seeds it
// afresh, with its aliases, rather than report it existing and leave the
// declared key missing until some later start-up. It must be seeded with
// the material it held, which then opens what it sealed before: other
// material under the same version IDs would meet caches that keep a
// version's material for good, so it is a conflict, as for a live key.
func TestSeedMakesAgainAKeyPastItsDeletionDate(t *testing.T) {
	f := newSvcFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Seed(ctx, seed(9)); err != nil {
		t.Fatal(err)
	}
	blob := f.encryptUnder("alias/a")
	f.pastDeletion("key-a")

	writes := f.store.writes.Load()
	var conflict *core.SeedConflict
	if _, err := f.svc.Seed(ctx, seed(8)); !errors.As(err, &conflict) {
		t.Fatalf("Seed of other material over a key past its deletion date: %v, want a conflict", err)
	}
	if n := f.store.writes.Load() - writes; n != 0 {
		t.Errorf("the refused seed wrote %d times", n)
	}

	res, err := f.svc.Seed(ctx, seed(9))
	if err != nil || res.Created != 1 || res.Existing != 0 || res.Aliases != 1 {
		t.Fatalf("Seed over a key past its deletion date = %+v, %v; want it created with its alias", res, err)
	}
	if d := f.destructions(); len(d) != 1 || d[0].Kind != core.DestroyedKey || d[0].ID != "key-a" {
		t.Fatalf("reported destroyed %+v; want the old key-a", d)
	}
	if m := f.describe("alias/a"); m.KeyId != "key-a" || m.KeyState != "Enabled" || m.DeleteDate != "" {
		t.Fatalf("the seeded key: %+v", m)
	}
	f.ok("Decrypt", "CiphertextBlob", blob)
	if res, err := f.svc.Seed(ctx, seed(9)); err != nil || res.Existing != 1 || res.Created != 0 || res.Aliases != 0 {
		t.Fatalf("Seed again = %+v, %v; want the key existing", res, err)
	}
}

// TestAKeySeededAgainIsAnotherKeyToEveryInstance: once a key past its
// deletion date is purged, the store forgets it, and a seed may make a key
// of the same ID again with other material under the same version IDs. An
// instance that served the first must serve the second: seal under its
// material, open what another instance sealed under it, and open nothing
// the first sealed.
func TestAKeySeededAgainIsAnotherKeyToEveryInstance(t *testing.T) {
	f := newSvcFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Seed(ctx, seed(9)); err != nil {
		t.Fatal(err)
	}
	first := f.encryptUnder("alias/a") // this instance now holds the first material
	a := f.svc
	f.pastDeletion("key-a")
	if _, err := f.call("EnableKey", "KeyId", "key-a"); err == nil {
		t.Fatal("EnableKey of a key past its deletion date succeeded")
	}
	f.restart(f.root)
	if res, err := f.svc.Seed(ctx, seed(8)); err != nil || res.Created != 1 {
		t.Fatalf("Seed of other material over a purged key = %+v, %v; want it created", res, err)
	}
	b := f.svc
	sealedByB := f.encryptUnder("alias/a")

	f.svc = a
	if _, err := f.call("Decrypt", "CiphertextBlob", sealedByB); err != nil {
		t.Errorf("the instance that served the first key cannot open what the second sealed: %v", err)
	}
	sealedByA := f.encryptUnder("alias/a")
	if _, err := f.call("Decrypt", "CiphertextBlob", first); err == nil {
		t.Error("a blob of the purged key's material still opens")
	}
	f.svc = b
	if _, err := f.call("Decrypt", "CiphertextBlob", sealedByA); err != nil {
		t.Errorf("the instance that served the first key sealed under its material: %v", err)
	}
}
