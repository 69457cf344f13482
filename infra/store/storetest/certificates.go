package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

// newCertificate is a PENDING certificate with every field set but the
// certificate and its chain, which only an upload gives it.
func newCertificate(id string, created time.Time) core.Certificate {
	return core.Certificate{
		ID: id, KeySpec: "ECC_NIST_P256", Subject: "CN=" + id + ",O=storetest,C=CN",
		SubjectAlternativeNames: []string{id + ".example.com", "www." + id + ".example.com"},
		Exportable:              true, Status: core.CertificatePending, Creator: "alice",
		CreatedAt: created, UpdatedAt: created, Tags: map[string]string{"team": "payments"},
		PrivateKey: fmt.Appendf(nil, "wrapped private key of %s", id), RootKeyID: rootA,
		CSR: fmt.Appendf(nil, "CSR of %s", id), Revision: 1,
	}
}

// uploaded is c as UploadCertificate leaves it: ACTIVE, with a certificate
// and a chain of two, at the next revision.
func uploaded(c core.Certificate, at time.Time) core.Certificate {
	c.Status, c.UpdatedAt, c.Revision = core.CertificateActive, at, c.Revision+1
	c.Certificate = fmt.Appendf(nil, "certificate of %s", c.ID)
	c.Chain = [][]byte{[]byte("intermediate CA\x00\xff"), []byte("root CA")}
	return c
}

// normCertificate: only instants matter, and empty names or tags are none.
// The byte values are compared as they are: a certificate stored without
// one (nil while PENDING) comes back without one.
func normCertificate(c core.Certificate) core.Certificate {
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	if len(c.SubjectAlternativeNames) == 0 {
		c.SubjectAlternativeNames = nil
	}
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	return c
}

func wantCertificate(t *testing.T, s Store, want core.Certificate) {
	t.Helper()
	got, err := s.GetCertificate(context.Background(), want.ID)
	if err != nil {
		t.Fatalf("GetCertificate(%s): %v", want.ID, err)
	}
	if !reflect.DeepEqual(normCertificate(got), normCertificate(want)) {
		t.Fatalf("GetCertificate(%s)\n got %+v\nwant %+v", want.ID, got, want)
	}
}

func createCertificate(t *testing.T, s Store, c core.Certificate) {
	t.Helper()
	if err := s.CreateCertificate(context.Background(), c); err != nil {
		t.Fatalf("CreateCertificate(%s): %v", c.ID, err)
	}
}

// testCertificates walks one certificate through its life: created
// PENDING, uploaded, refused on a taken ID and on stale revisions, deleted,
// and its ID then free again.
func testCertificates(t *testing.T, s Store) {
	ctx := context.Background()
	c := newCertificate("0b6c2ad6-5c51-4b43-8a4f-3c1c2e6d7f10", t0)
	createCertificate(t, s, c)
	wantCertificate(t, s, c)
	if got, _ := s.GetCertificate(ctx, c.ID); got.Certificate != nil || got.Chain != nil {
		t.Fatalf("a PENDING certificate comes back with certificate %x and chain %x, want none", got.Certificate, got.Chain)
	}

	other := newCertificate(c.ID, at(5))
	other.Subject = "CN=other"
	wantErr(t, "CreateCertificate of a taken ID", s.CreateCertificate(ctx, other), core.ErrExists)
	wantCertificate(t, s, c)

	// An update replaces everything but CreatedAt, which stays as stored
	// even when the update carries another.
	next := uploaded(c, at(10))
	next.Tags = map[string]string{"team": "payments", "env": "prod"}
	next.SubjectAlternativeNames = []string{"api.example.com"}
	next.Exportable = false
	next.PrivateKey, next.RootKeyID = []byte("rewrapped private key"), rootB
	changed := next
	changed.CreatedAt = at(99)
	if err := s.UpdateCertificate(ctx, changed); err != nil {
		t.Fatalf("UpdateCertificate: %v", err)
	}
	wantCertificate(t, s, next)

	stale := next
	stale.Status = core.CertificateRevoked // revision 2 again: stale
	wantErr(t, "UpdateCertificate with a stale revision", s.UpdateCertificate(ctx, stale), core.ErrConflict)
	ahead := next
	ahead.Status, ahead.Revision = core.CertificateRevoked, 4
	wantErr(t, "UpdateCertificate skipping a revision", s.UpdateCertificate(ctx, ahead), core.ErrConflict)
	wantCertificate(t, s, next)
	wantErr(t, "DeleteCertificate with a stale revision", s.DeleteCertificate(ctx, c.ID, 1), core.ErrConflict)
	wantCertificate(t, s, next)

	// Cleared fields come back cleared.
	inactive := next
	inactive.Status, inactive.UpdatedAt, inactive.Revision = core.CertificateInactive, at(20), 3
	inactive.Tags, inactive.SubjectAlternativeNames, inactive.Chain = nil, nil, nil
	if err := s.UpdateCertificate(ctx, inactive); err != nil {
		t.Fatalf("UpdateCertificate: %v", err)
	}
	wantCertificate(t, s, inactive)

	if err := s.DeleteCertificate(ctx, c.ID, 3); err != nil {
		t.Fatalf("DeleteCertificate: %v", err)
	}
	_, err := s.GetCertificate(ctx, c.ID)
	wantErr(t, "GetCertificate after DeleteCertificate", err, core.ErrNotFound)
	gone := inactive
	gone.Revision = 4
	wantErr(t, "UpdateCertificate of a deleted certificate", s.UpdateCertificate(ctx, gone), core.ErrNotFound)
	wantErr(t, "DeleteCertificate of a deleted certificate", s.DeleteCertificate(ctx, c.ID, 3), core.ErrNotFound)

	// The ID is free again.
	createCertificate(t, s, other)
	wantCertificate(t, s, other)

	// A certificate never stored is not found either.
	missing := newCertificate("never-stored", t0)
	_, err = s.GetCertificate(ctx, missing.ID)
	wantErr(t, "GetCertificate of a missing certificate", err, core.ErrNotFound)
	missing.Revision = 2
	wantErr(t, "UpdateCertificate of a missing certificate", s.UpdateCertificate(ctx, missing), core.ErrNotFound)
	wantErr(t, "DeleteCertificate of a missing certificate", s.DeleteCertificate(ctx, missing.ID, 1), core.ErrNotFound)
	if list, err := s.ListCertificatesAfter(ctx, "", 0); err != nil || len(list) != 1 || list[0].ID != other.ID {
		t.Fatalf("ListCertificatesAfter = %v, %v; want only %s", certificateIDs(list), err, other.ID)
	}
}

func certificateIDs(cs []core.Certificate) []string {
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

// testListCertificatesAfter: the listing is in byte order of the IDs, which
// is neither creation order nor a locale's, resumes after any position,
// stored or not, and stops at the limit.
func testListCertificatesAfter(t *testing.T, s Store) {
	ctx := context.Background()
	if list, err := s.ListCertificatesAfter(ctx, "", 10); err != nil || len(list) != 0 {
		t.Fatalf("ListCertificatesAfter of an empty store = %v, %v; want none", certificateIDs(list), err)
	}
	// Created out of order; "B" sorts before "a" as bytes, "a-1" before "a1".
	for i, id := range []string{"b", "a1", "B", "c", "a", "a-1"} {
		c := newCertificate(id, at(i))
		if id == "c" {
			c = uploaded(c, at(10))
		}
		createCertificate(t, s, c)
	}
	all := []string{"B", "a", "a-1", "a1", "b", "c"}
	for _, tc := range []struct {
		after string
		limit int
		want  []string
	}{
		{"", 0, all},
		{"", -1, all},
		{"", 2, all[:2]},
		{"", len(all), all},
		{"", len(all) + 1, all},
		{"a", 2, []string{"a-1", "a1"}},
		{"a", 0, all[2:]},
		{"a0", -5, []string{"a1", "b", "c"}}, // a position no certificate has
		{"A", 1, []string{"B"}},
		{"B", 1, []string{"a"}},
		{"b", 3, []string{"c"}},
		{"c", 0, nil},
		{"d", 1, nil},
	} {
		list, err := s.ListCertificatesAfter(ctx, tc.after, tc.limit)
		if err != nil || !slices.Equal(certificateIDs(list), tc.want) {
			t.Fatalf("ListCertificatesAfter(%q, %d) = %q, %v; want %q", tc.after, tc.limit, certificateIDs(list), err, tc.want)
		}
	}

	// Walked a page at a time, every certificate comes once, whole.
	var walked []core.Certificate
	for after := ""; ; {
		page, err := s.ListCertificatesAfter(ctx, after, 4)
		if err != nil {
			t.Fatalf("ListCertificatesAfter(%q, 4): %v", after, err)
		}
		walked = append(walked, page...)
		if len(page) < 4 {
			break
		}
		after = page[len(page)-1].ID
	}
	if !slices.Equal(certificateIDs(walked), all) {
		t.Fatalf("walking ListCertificatesAfter gave %q, want %q", certificateIDs(walked), all)
	}
	for _, c := range walked {
		want, err := s.GetCertificate(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normCertificate(c), normCertificate(want)) {
			t.Fatalf("ListCertificatesAfter item\n got %+v\nwant %+v", c, want)
		}
	}
}

// mutate changes every list, map and byte value of c in place.
func mutate(c core.Certificate) {
	c.SubjectAlternativeNames[0] = "evil.example.com"
	c.Tags["team"] = "mallory"
	c.Tags["added"] = "x"
	for _, b := range [][]byte{c.PrivateKey, c.CSR, c.Certificate, c.Chain[0], c.Chain[1]} {
		b[0] ^= 0xff
	}
	c.Chain[1] = []byte("another root")
}

// What a caller does to the values it handed to the store or was handed by
// it changes nothing stored.
func testCertificatesAreNotShared(t *testing.T, s Store) {
	ctx := context.Background()
	c := uploaded(newCertificate("shared", t0), at(1))
	want := uploaded(newCertificate("shared", t0), at(1))
	createCertificate(t, s, c)
	mutate(c)
	wantCertificate(t, s, want)

	got, err := s.GetCertificate(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	mutate(got)
	wantCertificate(t, s, want)

	listed, err := s.ListCertificatesAfter(ctx, "", 0)
	if err != nil || len(listed) != 1 {
		t.Fatalf("ListCertificatesAfter = %v, %v; want the one", certificateIDs(listed), err)
	}
	mutate(listed[0])
	wantCertificate(t, s, want)

	next := want
	next.Revision, next.UpdatedAt = 3, at(2)
	update := uploaded(newCertificate("shared", t0), at(2))
	update.Revision = 3
	if err := s.UpdateCertificate(ctx, update); err != nil {
		t.Fatalf("UpdateCertificate: %v", err)
	}
	mutate(update)
	wantCertificate(t, s, next)
}

// Concurrent read-modify-write cycles each land exactly once.
func testConcurrentUpdateCertificate(t *testing.T, s Store) {
	ctx := context.Background()
	c := newCertificate("counter", t0)
	createCertificate(t, s, c)
	const writers, rounds = 8, 4
	eachLands(t, "UpdateCertificate", writers, rounds, func(w, r int) error {
		cur, err := s.GetCertificate(ctx, c.ID)
		if err != nil {
			return err
		}
		cur.Tags[fmt.Sprintf("w%d-r%d", w, r)] = "1"
		cur.Revision++
		return s.UpdateCertificate(ctx, cur)
	})
	got, err := s.GetCertificate(ctx, c.ID)
	if err != nil {
		t.Fatalf("GetCertificate: %v", err)
	}
	if got.Revision != 1+writers*rounds || len(got.Tags) != 1+writers*rounds {
		t.Fatalf("after %d updates: revision %d with %d tags, want %d and %d", writers*rounds, got.Revision, len(got.Tags), 1+writers*rounds, 1+writers*rounds)
	}
}
