package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

func newSecret(name string, created time.Time, versions ...string) core.GenericSecret {
	s := core.GenericSecret{
		Name: name, Description: "about " + name, KeyID: "key-1", Creator: "alice",
		CreatedAt: created, UpdatedAt: created, Stages: map[string]string{}, Revision: 1,
	}
	for i, id := range versions {
		s.Versions = append(s.Versions, core.SecretVersion{
			ID: id, CreatedAt: created.Add(time.Duration(i) * time.Second), DataType: "text",
			Sealed: fmt.Appendf(nil, "sealed %s of %s", id, name),
		})
	}
	if len(versions) > 0 {
		s.Stages["ACSCurrent"] = versions[len(versions)-1]
	}
	return s
}

// normSecret: only instants matter, and an empty map or list is none.
func normSecret(s core.GenericSecret) core.GenericSecret {
	s.CreatedAt, s.UpdatedAt, s.DeleteAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC(), s.DeleteAt.UTC()
	if len(s.Tags) == 0 {
		s.Tags = nil
	}
	if len(s.Stages) == 0 {
		s.Stages = nil
	}
	if len(s.Versions) == 0 {
		s.Versions = nil
	}
	vs := slices.Clone(s.Versions)
	for i := range vs {
		vs[i].CreatedAt = vs[i].CreatedAt.UTC()
	}
	s.Versions = vs
	return s
}

func wantSecret(t *testing.T, s Store, want core.GenericSecret) {
	t.Helper()
	got, err := s.GetSecret(context.Background(), want.Name)
	if err != nil {
		t.Fatalf("GetSecret(%s): %v", want.Name, err)
	}
	if !reflect.DeepEqual(normSecret(got), normSecret(want)) {
		t.Fatalf("GetSecret(%s)\n got %+v\nwant %+v", want.Name, got, want)
	}
}

func testSecretLifecycle(t *testing.T, s Store) {
	ctx := context.Background()
	sec := newSecret("db/password", t0, "v1")
	sec.Tags = map[string]string{"team": "payments"}
	if err := s.CreateSecret(ctx, sec); err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	wantSecret(t, s, sec)

	other := newSecret(sec.Name, at(5), "w1")
	wantErr(t, "CreateSecret of a taken name", s.CreateSecret(ctx, other), core.ErrExists)
	wantSecret(t, s, sec)

	// An update replaces everything but CreatedAt, versions included.
	next := sec
	next.Description, next.UpdatedAt, next.Revision = "rotated", at(10), 2
	next.Versions = append(slices.Clone(sec.Versions), core.SecretVersion{ID: "v2", CreatedAt: at(10), DataType: "binary", Sealed: []byte{0, 1, 2}})
	next.Stages = map[string]string{"ACSCurrent": "v2", "ACSPrevious": "v1"}
	next.DeleteAt = at(3600)
	next.Policy = `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":["*"]},"Action":["kms:GetSecretValue"],"Resource":["*"]}]}`
	changed := next
	changed.CreatedAt = at(99)
	if err := s.UpdateSecret(ctx, changed); err != nil {
		t.Fatalf("UpdateSecret: %v", err)
	}
	wantSecret(t, s, next)

	stale := next
	stale.Description, stale.Revision = "stale", 2
	wantErr(t, "UpdateSecret with a stale revision", s.UpdateSecret(ctx, stale), core.ErrConflict)
	wantSecret(t, s, next)
	wantErr(t, "DeleteSecret with a stale revision", s.DeleteSecret(ctx, sec.Name, 1), core.ErrConflict)
	wantSecret(t, s, next)

	if err := s.DeleteSecret(ctx, sec.Name, 2); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	_, err := s.GetSecret(ctx, sec.Name)
	wantErr(t, "GetSecret after DeleteSecret", err, core.ErrNotFound)
	gone := next
	gone.Revision = 3
	wantErr(t, "UpdateSecret of a deleted secret", s.UpdateSecret(ctx, gone), core.ErrNotFound)
	wantErr(t, "DeleteSecret of a deleted secret", s.DeleteSecret(ctx, sec.Name, 2), core.ErrNotFound)

	// The name is free again.
	if err := s.CreateSecret(ctx, other); err != nil {
		t.Fatalf("CreateSecret after DeleteSecret: %v", err)
	}
	wantSecret(t, s, other)
}

func testListSecretsPagesByName(t *testing.T, s Store) {
	ctx := context.Background()
	// Created out of order; "B" sorts before "a" as bytes.
	names := []string{"b/2", "a", "B", "b/10", "c"}
	for i, n := range names {
		sec := newSecret(n, at(i), "v1")
		if n == "c" {
			sec.DeleteAt = at(100)
		}
		if err := s.CreateSecret(ctx, sec); err != nil {
			t.Fatalf("CreateSecret(%s): %v", n, err)
		}
	}
	all := []string{"B", "a", "b/10", "b/2", "c"}
	got := pages(t, "ListSecrets", len(all), 2, func(p core.Page) ([]core.GenericSecret, int, error) {
		return s.ListSecrets(ctx, time.Time{}, p)
	})
	var gotNames []string
	for _, sec := range got {
		gotNames = append(gotNames, sec.Name)
		if len(sec.Versions) != 0 {
			t.Fatalf("ListSecrets gave %s with %d versions, want none", sec.Name, len(sec.Versions))
		}
		want := newSecret(sec.Name, sec.CreatedAt, "v1")
		want.Versions, want.DeleteAt = nil, sec.DeleteAt
		if !reflect.DeepEqual(normSecret(sec), normSecret(want)) {
			t.Fatalf("ListSecrets item\n got %+v\nwant %+v", sec, want)
		}
	}
	if !slices.Equal(gotNames, all) {
		t.Fatalf("ListSecrets = %q, want %q", gotNames, all)
	}
	// A secret past its deletion date is left out, at its date too.
	for _, asOf := range []time.Time{at(100), at(101)} {
		items, total, err := s.ListSecrets(ctx, asOf, core.Page{})
		if err != nil || total != 4 || len(items) != 4 || items[3].Name != "b/2" {
			t.Fatalf("ListSecrets as of %v = %d items (total %d), %v; want the 4 but c", asOf, len(items), total, err)
		}
	}
	if _, total, err := s.ListSecrets(ctx, at(99), core.Page{}); err != nil || total != 5 {
		t.Fatalf("ListSecrets before c's date: total %d, %v; want 5", total, err)
	}
	if items, total, err := s.ListSecrets(ctx, time.Time{}, core.Page{Offset: 5, Limit: 2}); err != nil || total != 5 || len(items) != 0 {
		t.Fatalf("ListSecrets past the end = %d items (total %d), %v", len(items), total, err)
	}
}

// testListSecretsAfter: the listing is in byte order of the names, resumes
// after any position, stored or not, stops at the limit, and keeps secrets
// past their deletion dates (Purge walks it to find them), each without
// its versions.
func testListSecretsAfter(t *testing.T, s Store) {
	ctx := context.Background()
	if list, err := s.ListSecretsAfter(ctx, "", 10); err != nil || len(list) != 0 {
		t.Fatalf("ListSecretsAfter of an empty store = %q, %v; want none", secretNames(list), err)
	}
	// Created out of order; "B" sorts before "a" as bytes, "b/10" before "b/2".
	stored := map[string]core.GenericSecret{}
	for i, n := range []string{"b/2", "a", "B", "b/10", "c"} {
		sec := newSecret(n, at(i), "v1", "v2")
		if n == "c" {
			sec.DeleteAt = at(100)
		}
		if err := s.CreateSecret(ctx, sec); err != nil {
			t.Fatalf("CreateSecret(%s): %v", n, err)
		}
		sec.Versions = nil
		stored[n] = sec
	}
	all := []string{"B", "a", "b/10", "b/2", "c"}
	for _, tc := range []struct {
		after string
		limit int
		want  []string
	}{
		{"", 0, all},
		{"", -1, all},
		{"", 2, all[:2]},
		{"", len(all) + 1, all},
		{"a", 2, []string{"b/10", "b/2"}},
		{"a0", 0, all[2:]}, // a position no secret has
		{"A", 1, []string{"B"}},
		{"b/2", 3, []string{"c"}},
		{"c", 0, nil},
	} {
		list, err := s.ListSecretsAfter(ctx, tc.after, tc.limit)
		if err != nil || !slices.Equal(secretNames(list), tc.want) {
			t.Fatalf("ListSecretsAfter(%q, %d) = %q, %v; want %q", tc.after, tc.limit, secretNames(list), err, tc.want)
		}
		for _, sec := range list {
			if !reflect.DeepEqual(normSecret(sec), normSecret(stored[sec.Name])) {
				t.Fatalf("ListSecretsAfter item\n got %+v\nwant %+v", sec, stored[sec.Name])
			}
		}
	}
}

func secretNames(list []core.GenericSecret) []string {
	var names []string
	for _, sec := range list {
		names = append(names, sec.Name)
	}
	return names
}

// Values up to the service's bound, of every byte, come back exactly.
func testSecretValuesRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	sec := newSecret("big", t0)
	for i := range 10 {
		b := make([]byte, 40<<10)
		for j := range b {
			b[j] = byte(i + j)
		}
		sec.Versions = append(sec.Versions, core.SecretVersion{ID: fmt.Sprint("v", i), CreatedAt: at(i), DataType: "binary", Sealed: b})
	}
	sec.Stages = map[string]string{"ACSCurrent": "v9", "ACSPrevious": "v8", "custom": "v0"}
	if err := s.CreateSecret(ctx, sec); err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	got, err := s.GetSecret(ctx, sec.Name)
	if err != nil {
		t.Fatalf("GetSecret: %v", err)
	}
	for i, v := range got.Versions {
		if !bytes.Equal(v.Sealed, sec.Versions[i].Sealed) {
			t.Fatalf("version %s: sealed value changed in the store", v.ID)
		}
	}
	wantSecret(t, s, sec)
}

// Concurrent read-modify-write cycles each land exactly once.
func testConcurrentUpdateSecret(t *testing.T, s Store) {
	ctx := context.Background()
	sec := newSecret("counter", t0, "v0")
	if err := s.CreateSecret(ctx, sec); err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	const writers, rounds = 8, 4
	eachLands(t, "UpdateSecret", writers, rounds, func(w, r int) error {
		cur, err := s.GetSecret(ctx, sec.Name)
		if err != nil {
			return err
		}
		id := fmt.Sprintf("w%d-r%d", w, r)
		cur.Versions = append(cur.Versions, core.SecretVersion{ID: id, CreatedAt: t0, DataType: "text", Sealed: []byte(id)})
		cur.Revision++
		return s.UpdateSecret(ctx, cur)
	})
	got, err := s.GetSecret(ctx, sec.Name)
	if err != nil {
		t.Fatalf("GetSecret: %v", err)
	}
	if got.Revision != 1+writers*rounds || len(got.Versions) != 1+writers*rounds {
		t.Fatalf("after %d updates: revision %d with %d versions, want %d and %d", writers*rounds, got.Revision, len(got.Versions), 1+writers*rounds, 1+writers*rounds)
	}
}

// eachLands runs writers goroutines that each make rounds read-modify-write
// cycles with update, which reads, changes and writes back; an update that
// finds a newer revision (core.ErrConflict) is tried again from a fresh
// read, and any other error fails the test as op's.
func eachLands(t *testing.T, op string, writers, rounds int, update func(w, r int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				err := update(w, r)
				for errors.Is(err, core.ErrConflict) {
					err = update(w, r)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("%s: %v", op, err)
	}
}
