package storetest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kmsless/kmsless/core"
)

// Grants runs the grant conformance suite against a store, as Run runs the
// rest: open must return a new, empty store each time it is called; the
// suite closes it when the subtest ends. Each test names its keys and
// principals after itself, so none meets another's grants.
func Grants(t *testing.T, open func(t *testing.T) Store) {
	runSuite(t, open, []suiteTest{
		{"CreateGrantThenGetReturnsEveryField", testGrantRoundTrip},
		{"CreateGrantWithTakenIDFailsAndWritesNothing", testCreateGrantWithTakenID},
		{"CreateGrantRefusesEmptyIDsAndNUL", testCreateGrantRefusesBadNames},
		{"MissingGrantsAreNotFound", testMissingGrantsAreNotFound},
		{"GrantsForFindsOneGranteesGrantsOnOneKey", testGrantsFor},
		{"ListGrantsPagesByID", testListGrantsPaging},
		{"ListRetirablePagesAcrossKeys", testListRetirablePaging},
		{"DeleteKeyRemovesItsGrants", testDeleteKeyRemovesGrants},
		{"ConcurrentCreateGrantLandsEveryGrant", testConcurrentCreateGrant},
	})
}

// grantID is a grant ID as core makes them, 64 hexadecimal digits, derived
// from seed: IDs sort in no relation to the order grants are made in.
func grantID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:])
}

// newGrant is a grant of the operations core grants most, without a name,
// retiring principal or constraints.
func newGrant(k core.Key, id, grantee string) core.Grant {
	return core.Grant{
		ID: id, KeyID: k.ID, KeyCreated: k.CreatedAt.Unix(),
		Grantee: "acs:ram::1234567890:user/" + grantee, GranteeName: grantee,
		Operations: []string{"Decrypt", "GenerateDataKey"}, Issuer: "storetest", CreatedAt: t0,
	}
}

// retirable makes g retirable by retiring.
func retirable(g core.Grant, retiring string) core.Grant {
	g.Retiring, g.RetiringName = "acs:ram::1234567890:user/"+retiring, retiring
	return g
}

func createGrant(t *testing.T, s Store, g core.Grant) core.Grant {
	t.Helper()
	if err := s.CreateGrant(context.Background(), g); err != nil {
		t.Fatalf("CreateGrant(%s of %s): %v", g.ID, g.KeyID, err)
	}
	return g
}

// normGrant: only the instant matters. Nil and empty stay apart: an empty
// Equals constraint is not none.
func normGrant(g core.Grant) core.Grant {
	g.CreatedAt = g.CreatedAt.UTC()
	return g
}

func wantGrant(t *testing.T, s Store, want core.Grant) {
	t.Helper()
	got, err := s.GetGrant(context.Background(), want.KeyID, want.ID)
	if err != nil {
		t.Fatalf("GetGrant(%s, %s): %v", want.KeyID, want.ID, err)
	}
	if !reflect.DeepEqual(normGrant(got), normGrant(want)) {
		t.Fatalf("GetGrant(%s, %s)\n got %#v\nwant %#v", want.KeyID, want.ID, got, want)
	}
}

// wantGrants checks that a listing is exactly want, in order, field for
// field.
func wantGrants(t *testing.T, what string, got []core.Grant, err error, want ...core.Grant) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s = %q, want %q", what, grantIDs(got), grantIDs(want))
	}
	for i := range got {
		if !reflect.DeepEqual(normGrant(got[i]), normGrant(want[i])) {
			t.Fatalf("%s, item %d\n got %#v\nwant %#v", what, i, got[i], want[i])
		}
	}
}

func grantIDs(gs []core.Grant) []string {
	ids := make([]string, len(gs))
	for i, g := range gs {
		ids[i] = g.KeyID + "/" + g.ID
	}
	return ids
}

// byPosition orders grants as ListRetirable does: key ID, then grant ID,
// each as bytes.
func byPosition(a, b core.Grant) int {
	return cmp.Or(strings.Compare(a.KeyID, b.KeyID), strings.Compare(a.ID, b.ID))
}

func testGrantRoundTrip(t *testing.T, s Store) {
	k, _ := create(t, s, "key-grant-roundtrip", t0)
	bare := createGrant(t, s, newGrant(k, grantID("bare"), "roundtrip-grantee"))
	full := newGrant(k, grantID("full"), "roundtrip-grantee")
	full = retirable(full, "roundtrip-retiring")
	full.Name = "nightly-batch"
	full.Operations = []string{"CreateGrant", "Decrypt", "Encrypt", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "RetireGrant"}
	full.Constraints = core.GrantConstraints{
		Equals: core.EncryptionContext{"Department": "10", "project": "é \"quoted\" \\ ü"},
		Subset: core.EncryptionContext{"tenant": "t-1"},
	}
	full.CreatedAt = at(5)
	createGrant(t, s, full)
	// An empty constraint admits only an empty context where none admits
	// any: it must come back empty, not none.
	empty := newGrant(k, grantID("empty"), "roundtrip-grantee")
	empty.Operations = []string{}
	empty.Constraints = core.GrantConstraints{Equals: core.EncryptionContext{}}
	createGrant(t, s, empty)

	for _, want := range []core.Grant{bare, full, empty} {
		wantGrant(t, s, want)
	}
	got, err := s.GetGrant(context.Background(), k.ID, bare.ID)
	if err != nil || got.Constraints.Equals != nil || got.Constraints.Subset != nil || got.Retiring != "" || got.RetiringName != "" {
		t.Fatalf("GetGrant of a grant without constraints or retiring principal = %#v, %v", got, err)
	}
	if got, err := s.GetGrant(context.Background(), k.ID, empty.ID); err != nil || got.Constraints.Equals == nil || got.Constraints.Subset != nil || got.Operations == nil {
		t.Fatalf("GetGrant of a grant with an empty constraint = %#v, %v; want Equals and Operations empty, Subset nil", got, err)
	}
	// A grant read back shares nothing with what its caller holds.
	got.Operations[0] = "changed"
	full.Constraints.Equals["Department"] = "changed"
	got, _ = s.GetGrant(context.Background(), k.ID, full.ID)
	if got.Constraints.Equals["Department"] != "10" {
		t.Fatalf("the store kept the caller's map: Department is %q", got.Constraints.Equals["Department"])
	}
	wantGrant(t, s, bare)
}

func testCreateGrantWithTakenID(t *testing.T, s Store) {
	ctx := context.Background()
	k, _ := create(t, s, "key-grant-taken", t0)
	other, _ := create(t, s, "key-grant-taken-other", t0)
	g := createGrant(t, s, retirable(newGrant(k, grantID("taken"), "taken-grantee"), "taken-retiring"))
	again := retirable(newGrant(k, g.ID, "taken-intruder"), "taken-intruder-retiring")
	wantErr(t, "CreateGrant of a taken ID", s.CreateGrant(ctx, again), core.ErrExists)
	wantGrant(t, s, g)
	// The failed create left nothing in the indexes either.
	gs, err := s.GrantsFor(ctx, k.ID, "taken-intruder")
	wantGrants(t, "GrantsFor the refused grant's grantee", gs, err)
	rs, err := s.ListRetirable(ctx, "taken-intruder-retiring", core.GrantPosition{}, 0)
	wantGrants(t, "ListRetirable of the refused grant's retiring principal", rs, err)

	// An ID is unique within its key only.
	createGrant(t, s, newGrant(other, g.ID, "taken-grantee"))
	gs, err = s.GrantsFor(ctx, k.ID, "taken-grantee")
	wantGrants(t, "GrantsFor after a grant of the same ID on another key", gs, err, g)
}

// The stores find grants by names joined in their indexes: none of them
// may be empty (the IDs) or hold a NUL byte, and a read naming one finds
// nothing rather than failing.
func testCreateGrantRefusesBadNames(t *testing.T, s Store) {
	ctx := context.Background()
	k, _ := create(t, s, "key-grant-names", t0)
	good := retirable(newGrant(k, grantID("names"), "names-grantee"), "names-retiring")
	for what, bad := range map[string]func(*core.Grant){
		"an empty grant ID":        func(g *core.Grant) { g.ID = "" },
		"an empty key ID":          func(g *core.Grant) { g.KeyID = "" },
		"a NUL in the grant ID":    func(g *core.Grant) { g.ID += "\x00x" },
		"a NUL in the key ID":      func(g *core.Grant) { g.KeyID += "\x00x" },
		"a NUL in the grantee":     func(g *core.Grant) { g.GranteeName = "names\x00grantee" },
		"a NUL in the retiring":    func(g *core.Grant) { g.RetiringName = "names\x00retiring" },
		"a grantee of a NUL alone": func(g *core.Grant) { g.GranteeName = "\x00" },
	} {
		g := good
		bad(&g)
		err := s.CreateGrant(ctx, g)
		if err == nil || errors.Is(err, core.ErrExists) || errors.Is(err, core.ErrNotFound) {
			t.Fatalf("CreateGrant with %s: %v; want a refusal", what, err)
		}
	}
	for _, grantee := range []string{"names-grantee", "names", "\x00", ""} {
		gs, err := s.GrantsFor(ctx, k.ID, grantee)
		wantGrants(t, "GrantsFor after refused creates", gs, err)
	}
	gs, err := s.ListGrants(ctx, k.ID, "", 0)
	wantGrants(t, "ListGrants after refused creates", gs, err)

	createGrant(t, s, good)
	_, err = s.GetGrant(ctx, k.ID, good.ID+"\x00")
	wantErr(t, "GetGrant of an ID with a NUL", err, core.ErrNotFound)
	_, err = s.GetGrant(ctx, k.ID+"\x00", good.ID)
	wantErr(t, "GetGrant of a key ID with a NUL", err, core.ErrNotFound)
	wantErr(t, "DeleteGrant of an ID with a NUL", s.DeleteGrant(ctx, k.ID, good.ID+"\x00"), core.ErrNotFound)
	gs, err = s.GrantsFor(ctx, k.ID, "names-grantee\x00")
	wantGrants(t, "GrantsFor a grantee with a NUL", gs, err)
	gs, err = s.GrantsFor(ctx, k.ID+"\x00", "names-grantee")
	wantGrants(t, "GrantsFor a key ID with a NUL", gs, err)
	gs, err = s.ListRetirable(ctx, "names-retiring\x00", core.GrantPosition{}, 0)
	wantGrants(t, "ListRetirable of a name with a NUL", gs, err)
	wantGrant(t, s, good)
}

func testMissingGrantsAreNotFound(t *testing.T, s Store) {
	ctx := context.Background()
	k, _ := create(t, s, "key-grant-missing", t0)
	g := createGrant(t, s, newGrant(k, grantID("missing"), "missing-grantee"))
	for _, c := range []struct{ what, keyID, grantID string }{
		{"a missing grant", k.ID, grantID("no such grant")},
		{"a grant of a missing key", "key-grant-missing-none", g.ID},
		{"a grant of a key whose ID extends the key's", k.ID + "0", g.ID},
	} {
		_, err := s.GetGrant(ctx, c.keyID, c.grantID)
		wantErr(t, "GetGrant of "+c.what, err, core.ErrNotFound)
		wantErr(t, "DeleteGrant of "+c.what, s.DeleteGrant(ctx, c.keyID, c.grantID), core.ErrNotFound)
	}
	wantGrant(t, s, g)
	if err := s.DeleteGrant(ctx, k.ID, g.ID); err != nil {
		t.Fatalf("DeleteGrant: %v", err)
	}
	_, err := s.GetGrant(ctx, k.ID, g.ID)
	wantErr(t, "GetGrant after DeleteGrant", err, core.ErrNotFound)
	wantErr(t, "DeleteGrant twice", s.DeleteGrant(ctx, k.ID, g.ID), core.ErrNotFound)
	// The ID is free again.
	createGrant(t, s, g)
	wantGrant(t, s, g)
}

func testGrantsFor(t *testing.T, s Store) {
	ctx := context.Background()
	// key-grants-for-1 is a prefix of key-grants-for-10, and alice of
	// alice2: an index that did not end names would mix them up.
	k1, _ := create(t, s, "key-grants-for-1", t0)
	k10, _ := create(t, s, "key-grants-for-10", t0)
	var want []core.Grant
	for i := range 5 {
		want = append(want, createGrant(t, s, newGrant(k1, grantID(fmt.Sprint("for-alice-", i)), "grants-for-alice")))
	}
	createGrant(t, s, newGrant(k1, grantID("for-bob"), "grants-for-bob"))
	createGrant(t, s, newGrant(k1, grantID("for-alice2"), "grants-for-alice2"))
	createGrant(t, s, newGrant(k10, grantID("for-alice-on-10"), "grants-for-alice"))
	// A retiring principal is not a grantee.
	createGrant(t, s, retirable(newGrant(k1, grantID("for-retired-by-alice"), "grants-for-bob"), "grants-for-alice"))
	slices.SortFunc(want, byPosition)

	gs, err := s.GrantsFor(ctx, k1.ID, "grants-for-alice")
	wantGrants(t, "GrantsFor(key 1, alice)", gs, err, want...)
	for _, c := range []struct{ keyID, grantee string }{
		{k1.ID, "grants-for-carol"}, {k1.ID, "grants-for-alic"}, {"key-grants-for", "grants-for-alice"}, {k1.ID, ""},
	} {
		gs, err := s.GrantsFor(ctx, c.keyID, c.grantee)
		wantGrants(t, fmt.Sprintf("GrantsFor(%s, %s)", c.keyID, c.grantee), gs, err)
	}
	if err := s.DeleteGrant(ctx, k1.ID, want[2].ID); err != nil {
		t.Fatalf("DeleteGrant: %v", err)
	}
	gs, err = s.GrantsFor(ctx, k1.ID, "grants-for-alice")
	wantGrants(t, "GrantsFor after DeleteGrant", gs, err, slices.Delete(slices.Clone(want), 2, 3)...)
}

func testListGrantsPaging(t *testing.T, s Store) {
	ctx := context.Background()
	k, _ := create(t, s, "key-list-grants", t0)
	other, _ := create(t, s, "key-list-grants-other", t0)
	var want []core.Grant
	for i := range 7 {
		g := newGrant(k, grantID(fmt.Sprint("list-", i)), fmt.Sprint("list-grantee-", i%3))
		if i%2 == 0 {
			g = retirable(g, "list-retiring")
		}
		want = append(want, createGrant(t, s, g))
	}
	// IDs order as bytes: upper case before lower.
	want = append(want, createGrant(t, s, newGrant(k, "B"+grantID("upper")[1:], "list-grantee-0")))
	want = append(want, createGrant(t, s, newGrant(k, "a"+grantID("lower")[1:], "list-grantee-0")))
	for i := range 2 {
		createGrant(t, s, newGrant(other, grantID(fmt.Sprint("list-other-", i)), "list-grantee-0"))
	}
	slices.SortFunc(want, byPosition)

	all, err := s.ListGrants(ctx, k.ID, "", 0)
	wantGrants(t, "ListGrants without a limit", all, err, want...)
	for _, limit := range []int{1, 3, 4, len(want), len(want) + 1} {
		var got []core.Grant
		after := ""
		for page := 0; ; page++ {
			if page > len(want) {
				t.Fatalf("ListGrants with limit %d does not end", limit)
			}
			gs, err := s.ListGrants(ctx, k.ID, after, limit)
			if err != nil {
				t.Fatalf("ListGrants(after %q, limit %d): %v", after, limit, err)
			}
			if len(gs) > limit {
				t.Fatalf("ListGrants with limit %d gave %d", limit, len(gs))
			}
			if len(gs) == 0 {
				break
			}
			got = append(got, gs...)
			after = gs[len(gs)-1].ID
		}
		wantGrants(t, fmt.Sprintf("ListGrants in pages of %d", limit), got, nil, want...)
	}
	// after need not be a grant's ID: the listing goes on from where it
	// would sort.
	mid := want[3].ID[:10]
	gs, err := s.ListGrants(ctx, k.ID, mid, 2)
	wantGrants(t, "ListGrants after a prefix of an ID", gs, err, want[3:5]...)
	gs, err = s.ListGrants(ctx, k.ID, want[len(want)-1].ID, 5)
	wantGrants(t, "ListGrants after the last", gs, err)
	gs, err = s.ListGrants(ctx, "key-list-grants-none", "", 0)
	wantGrants(t, "ListGrants of a key without grants", gs, err)
}

func testListRetirablePaging(t *testing.T, s Store) {
	ctx := context.Background()
	// "key-retire-B" sorts before "key-retire-a" as bytes.
	a, _ := create(t, s, "key-retire-a", t0)
	b, _ := create(t, s, "key-retire-B", t0)
	var want []core.Grant
	for i := range 5 {
		for _, k := range []core.Key{a, b} {
			g := newGrant(k, grantID(fmt.Sprint("retire-", k.ID, i)), "retire-grantee")
			want = append(want, createGrant(t, s, retirable(g, "retire-carol")))
		}
	}
	// Grants carol may not retire: another's, one with no retiring
	// principal, and one carol only holds.
	createGrant(t, s, retirable(newGrant(a, grantID("retire-dave"), "retire-grantee"), "retire-dave"))
	createGrant(t, s, retirable(newGrant(a, grantID("retire-carol2"), "retire-grantee"), "retire-carol2"))
	createGrant(t, s, newGrant(b, grantID("retire-none"), "retire-grantee"))
	createGrant(t, s, newGrant(b, grantID("retire-held"), "retire-carol"))
	slices.SortFunc(want, byPosition)

	all, err := s.ListRetirable(ctx, "retire-carol", core.GrantPosition{}, 0)
	wantGrants(t, "ListRetirable without a limit", all, err, want...)
	for _, limit := range []int{1, 2, 3, len(want)} {
		var got []core.Grant
		var after core.GrantPosition
		for page := 0; ; page++ {
			if page > len(want) {
				t.Fatalf("ListRetirable with limit %d does not end", limit)
			}
			gs, err := s.ListRetirable(ctx, "retire-carol", after, limit)
			if err != nil {
				t.Fatalf("ListRetirable(after %+v, limit %d): %v", after, limit, err)
			}
			if len(gs) > limit {
				t.Fatalf("ListRetirable with limit %d gave %d", limit, len(gs))
			}
			if len(gs) == 0 {
				break
			}
			got = append(got, gs...)
			last := gs[len(gs)-1]
			after = core.GrantPosition{KeyID: last.KeyID, GrantID: last.ID}
		}
		wantGrants(t, fmt.Sprintf("ListRetirable in pages of %d", limit), got, nil, want...)
	}
	// A position with a key ID alone comes before that key's grants.
	gs, err := s.ListRetirable(ctx, "retire-carol", core.GrantPosition{KeyID: a.ID}, 0)
	wantGrants(t, "ListRetirable after a key ID alone", gs, err, want[5:]...)
	gs, err = s.ListRetirable(ctx, "", core.GrantPosition{}, 0)
	wantGrants(t, "ListRetirable of no principal", gs, err)

	// A deleted grant is no longer listed.
	for _, g := range []core.Grant{want[0], want[7]} {
		if err := s.DeleteGrant(ctx, g.KeyID, g.ID); err != nil {
			t.Fatalf("DeleteGrant: %v", err)
		}
	}
	gs, err = s.ListRetirable(ctx, "retire-carol", core.GrantPosition{}, 0)
	rest := slices.Concat(want[1:7], want[8:])
	wantGrants(t, "ListRetirable after DeleteGrant", gs, err, rest...)
}

func testDeleteKeyRemovesGrants(t *testing.T, s Store) {
	ctx := context.Background()
	k, _ := create(t, s, "key-delete-grants", t0)
	kept, _ := create(t, s, "key-delete-grants-kept", t0)
	var gone []core.Grant
	for i := range 3 {
		g := newGrant(k, grantID(fmt.Sprint("delete-", i)), "delete-grantee")
		if i > 0 {
			g = retirable(g, "delete-retiring")
		}
		gone = append(gone, createGrant(t, s, g))
	}
	// Another key's grant for another principal, and one for the same
	// principals: DeleteKey takes neither.
	other := createGrant(t, s, retirable(newGrant(kept, grantID("delete-kept"), "delete-other"), "delete-other-retiring"))
	shared := createGrant(t, s, retirable(newGrant(kept, grantID("delete-shared"), "delete-grantee"), "delete-retiring"))

	if err := s.DeleteKey(ctx, k.ID, k.Revision); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	for _, g := range gone {
		_, err := s.GetGrant(ctx, k.ID, g.ID)
		wantErr(t, "GetGrant after DeleteKey", err, core.ErrNotFound)
	}
	gs, err := s.GrantsFor(ctx, k.ID, "delete-grantee")
	wantGrants(t, "GrantsFor after DeleteKey", gs, err)
	gs, err = s.ListGrants(ctx, k.ID, "", 0)
	wantGrants(t, "ListGrants after DeleteKey", gs, err)
	gs, err = s.ListRetirable(ctx, "delete-retiring", core.GrantPosition{}, 0)
	wantGrants(t, "ListRetirable after DeleteKey", gs, err, shared)
	wantGrant(t, s, other)
	gs, err = s.GrantsFor(ctx, kept.ID, "delete-grantee")
	wantGrants(t, "GrantsFor on the key kept", gs, err, shared)

	if err := s.DeleteKey(ctx, kept.ID, kept.Revision); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	for _, grantee := range []string{"delete-grantee", "delete-other"} {
		for _, id := range []string{k.ID, kept.ID} {
			gs, err := s.GrantsFor(ctx, id, grantee)
			wantGrants(t, "GrantsFor after both keys went", gs, err)
		}
	}
	for _, retiring := range []string{"delete-retiring", "delete-other-retiring"} {
		gs, err := s.ListRetirable(ctx, retiring, core.GrantPosition{}, 0)
		wantGrants(t, "ListRetirable after both keys went", gs, err)
	}

	// A key made again under the ID starts without grants, and its grant
	// IDs are free.
	again, _ := create(t, s, k.ID, at(10))
	gs, err = s.ListGrants(ctx, again.ID, "", 0)
	wantGrants(t, "ListGrants of the key made again", gs, err)
	createGrant(t, s, newGrant(again, gone[0].ID, "delete-grantee"))
}

func testConcurrentCreateGrant(t *testing.T, s Store) {
	ctx := context.Background()
	k, _ := create(t, s, "key-concurrent-grants", t0)
	const n = 20
	want := make([]core.Grant, n)
	for i := range want {
		g := newGrant(k, grantID(fmt.Sprint("concurrent-", i)), fmt.Sprint("concurrent-grantee-", i%2))
		want[i] = retirable(g, "concurrent-retiring")
	}
	var wg sync.WaitGroup
	for _, g := range want {
		wg.Go(func() {
			if err := s.CreateGrant(ctx, g); err != nil {
				t.Errorf("CreateGrant(%s): %v", g.ID, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	slices.SortFunc(want, byPosition)
	gs, err := s.ListGrants(ctx, k.ID, "", 0)
	wantGrants(t, "ListGrants after concurrent creates", gs, err, want...)
	gs, err = s.ListRetirable(ctx, "concurrent-retiring", core.GrantPosition{}, 0)
	wantGrants(t, "ListRetirable after concurrent creates", gs, err, want...)
	var evens []core.Grant
	for _, g := range want {
		if g.GranteeName == "concurrent-grantee-0" {
			evens = append(evens, g)
		}
	}
	gs, err = s.GrantsFor(ctx, k.ID, "concurrent-grantee-0")
	wantGrants(t, "GrantsFor after concurrent creates", gs, err, evens...)
}
