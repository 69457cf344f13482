package storetest

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kmsless/kmsless/core"
)

// Access runs the access record conformance suite against a store, as Run
// runs the rest: open must return a new, empty store each time it is
// called; the suite closes it when the subtest ends.
func Access(t *testing.T, open func(t *testing.T) Store) {
	runSuite(t, open, []suiteTest{
		{"CreateAccessThenGetReturnsTheSameBytes", testAccessRoundTrip},
		{"CreateAccessWithTakenNameFailsAndKeepsTheFirst", testCreateAccessWithTakenName},
		{"KindsAreApart", testAccessKindsAreApart},
		{"MissingAccessRecordsAreNotFound", testMissingAccessIsNotFound},
		{"ReplaceAccessChangesOnlyThatRecord", testReplaceAccess},
		{"DeleteAccessRemovesOnlyThatRecord", testDeleteAccess},
		{"ListAccessWalksOneKindByNameBytes", testListAccess},
		{"AccessDocsShareNoMemoryWithCallers", testAccessIsNotShared},
		{"AccessDocsRoundTripExactly", testAccessDocsRoundTrip},
		{"AccessNamesRoundTrip", testAccessNamesRoundTrip},
		{"ConcurrentCreateAccessCreatesExactlyOne", testConcurrentCreateAccess},
	})
}

// accessKinds are the kinds core keeps.
var accessKinds = []string{core.AccessNetworkRule, core.AccessPolicy, core.AccessPoint, core.AccessClientKey}

func accessDoc(kind, name string) []byte {
	return fmt.Appendf(nil, `{"kind":%q,"name":%q}`, kind, name)
}

func createAccess(t *testing.T, s Store, r core.AccessRecord) {
	t.Helper()
	if err := s.CreateAccess(context.Background(), r); err != nil {
		t.Fatalf("CreateAccess(%s %q): %v", r.Kind, r.Name, err)
	}
}

// wantAccess checks that the record of kind and name holds doc. An empty
// Doc may come back nil or empty alike.
func wantAccess(t *testing.T, s Store, kind, name string, doc []byte) {
	t.Helper()
	got, err := s.GetAccess(context.Background(), kind, name)
	if err != nil {
		t.Fatalf("GetAccess(%s %q): %v", kind, name, err)
	}
	if got.Kind != kind || got.Name != name || !bytes.Equal(got.Doc, doc) {
		t.Fatalf("GetAccess(%s %q)\n got %s %q %q\nwant %s %q %q", kind, name, got.Kind, got.Name, got.Doc, kind, name, doc)
	}
}

// wantAccessList checks that ListAccess(kind) returns want, in that order.
func wantAccessList(t *testing.T, s Store, kind string, want ...core.AccessRecord) {
	t.Helper()
	got, err := s.ListAccess(context.Background(), kind)
	if err != nil {
		t.Fatalf("ListAccess(%s): %v", kind, err)
	}
	equal := slices.EqualFunc(got, want, func(a, b core.AccessRecord) bool {
		return a.Kind == b.Kind && a.Name == b.Name && bytes.Equal(a.Doc, b.Doc)
	})
	if !equal {
		t.Fatalf("ListAccess(%s)\n got %s\nwant %s", kind, accessNames(got), accessNames(want))
	}
}

func accessNames(rs []core.AccessRecord) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s %q %q; ", r.Kind, r.Name, r.Doc)
	}
	return b.String()
}

func testAccessRoundTrip(t *testing.T, s Store) {
	for _, kind := range accessKinds {
		r := core.AccessRecord{Kind: kind, Name: "first", Doc: accessDoc(kind, "first")}
		createAccess(t, s, r)
		wantAccess(t, s, kind, "first", accessDoc(kind, "first"))
	}
}

func testCreateAccessWithTakenName(t *testing.T, s Store) {
	ctx := context.Background()
	createAccess(t, s, core.AccessRecord{Kind: core.AccessPolicy, Name: "p", Doc: []byte("first")})
	err := s.CreateAccess(ctx, core.AccessRecord{Kind: core.AccessPolicy, Name: "p", Doc: []byte("second")})
	wantErr(t, "CreateAccess of a taken name", err, core.ErrExists)
	wantAccess(t, s, core.AccessPolicy, "p", []byte("first"))
	wantAccessList(t, s, core.AccessPolicy, core.AccessRecord{Kind: core.AccessPolicy, Name: "p", Doc: []byte("first")})
}

// One name in every kind is a record in each; changing one leaves the
// others.
func testAccessKindsAreApart(t *testing.T, s Store) {
	ctx := context.Background()
	for _, kind := range accessKinds {
		createAccess(t, s, core.AccessRecord{Kind: kind, Name: "shared", Doc: accessDoc(kind, "shared")})
	}
	for _, kind := range accessKinds {
		wantAccess(t, s, kind, "shared", accessDoc(kind, "shared"))
		wantAccessList(t, s, kind, core.AccessRecord{Kind: kind, Name: "shared", Doc: accessDoc(kind, "shared")})
	}
	if err := s.ReplaceAccess(ctx, core.AccessRecord{Kind: core.AccessPolicy, Name: "shared", Doc: []byte("changed")}); err != nil {
		t.Fatalf("ReplaceAccess: %v", err)
	}
	if err := s.DeleteAccess(ctx, core.AccessNetworkRule, "shared"); err != nil {
		t.Fatalf("DeleteAccess: %v", err)
	}
	_, err := s.GetAccess(ctx, core.AccessNetworkRule, "shared")
	wantErr(t, "GetAccess after DeleteAccess", err, core.ErrNotFound)
	wantAccess(t, s, core.AccessPolicy, "shared", []byte("changed"))
	wantAccess(t, s, core.AccessPoint, "shared", accessDoc(core.AccessPoint, "shared"))
	wantAccess(t, s, core.AccessClientKey, "shared", accessDoc(core.AccessClientKey, "shared"))
}

func testMissingAccessIsNotFound(t *testing.T, s Store) {
	ctx := context.Background()
	// A record of another kind, and one of another name, are not the one
	// asked for.
	createAccess(t, s, core.AccessRecord{Kind: core.AccessPolicy, Name: "there", Doc: []byte("doc")})
	createAccess(t, s, core.AccessRecord{Kind: core.AccessPoint, Name: "missing-not", Doc: []byte("doc")})
	for _, name := range []string{"missing", "there", "there ", "THERE", "missing-"} {
		kind := core.AccessPoint
		_, err := s.GetAccess(ctx, kind, name)
		wantErr(t, fmt.Sprintf("GetAccess(%s %q)", kind, name), err, core.ErrNotFound)
		err = s.ReplaceAccess(ctx, core.AccessRecord{Kind: kind, Name: name, Doc: []byte("new")})
		wantErr(t, fmt.Sprintf("ReplaceAccess(%s %q)", kind, name), err, core.ErrNotFound)
		err = s.DeleteAccess(ctx, kind, name)
		wantErr(t, fmt.Sprintf("DeleteAccess(%s %q)", kind, name), err, core.ErrNotFound)
	}
	// A replace of a missing record creates none.
	wantAccessList(t, s, core.AccessPoint, core.AccessRecord{Kind: core.AccessPoint, Name: "missing-not", Doc: []byte("doc")})
	wantAccess(t, s, core.AccessPolicy, "there", []byte("doc"))

	// Nor is a record once deleted, and its name is free again.
	if err := s.DeleteAccess(ctx, core.AccessPolicy, "there"); err != nil {
		t.Fatalf("DeleteAccess: %v", err)
	}
	_, err := s.GetAccess(ctx, core.AccessPolicy, "there")
	wantErr(t, "GetAccess after DeleteAccess", err, core.ErrNotFound)
	err = s.DeleteAccess(ctx, core.AccessPolicy, "there")
	wantErr(t, "DeleteAccess twice", err, core.ErrNotFound)
	err = s.ReplaceAccess(ctx, core.AccessRecord{Kind: core.AccessPolicy, Name: "there", Doc: []byte("new")})
	wantErr(t, "ReplaceAccess after DeleteAccess", err, core.ErrNotFound)
	createAccess(t, s, core.AccessRecord{Kind: core.AccessPolicy, Name: "there", Doc: []byte("again")})
	wantAccess(t, s, core.AccessPolicy, "there", []byte("again"))
}

func testReplaceAccess(t *testing.T, s Store) {
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c"} {
		createAccess(t, s, core.AccessRecord{Kind: core.AccessNetworkRule, Name: name, Doc: accessDoc(core.AccessNetworkRule, name)})
		createAccess(t, s, core.AccessRecord{Kind: core.AccessPolicy, Name: name, Doc: accessDoc(core.AccessPolicy, name)})
	}
	// A longer Doc, then a shorter one: nothing of the one before stays.
	for _, doc := range []string{`{"kind":"networkrule","name":"b","SourcePrivateIp":["10.0.0.0/8","192.168.0.0/16"]}`, `{}`} {
		if err := s.ReplaceAccess(ctx, core.AccessRecord{Kind: core.AccessNetworkRule, Name: "b", Doc: []byte(doc)}); err != nil {
			t.Fatalf("ReplaceAccess: %v", err)
		}
		wantAccess(t, s, core.AccessNetworkRule, "b", []byte(doc))
	}
	wantAccessList(t, s, core.AccessNetworkRule,
		core.AccessRecord{Kind: core.AccessNetworkRule, Name: "a", Doc: accessDoc(core.AccessNetworkRule, "a")},
		core.AccessRecord{Kind: core.AccessNetworkRule, Name: "b", Doc: []byte(`{}`)},
		core.AccessRecord{Kind: core.AccessNetworkRule, Name: "c", Doc: accessDoc(core.AccessNetworkRule, "c")})
	for _, name := range []string{"a", "b", "c"} {
		wantAccess(t, s, core.AccessPolicy, name, accessDoc(core.AccessPolicy, name))
	}
}

func testDeleteAccess(t *testing.T, s Store) {
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c"} {
		createAccess(t, s, core.AccessRecord{Kind: core.AccessClientKey, Name: name, Doc: accessDoc(core.AccessClientKey, name)})
		createAccess(t, s, core.AccessRecord{Kind: core.AccessPoint, Name: name, Doc: accessDoc(core.AccessPoint, name)})
	}
	if err := s.DeleteAccess(ctx, core.AccessClientKey, "b"); err != nil {
		t.Fatalf("DeleteAccess: %v", err)
	}
	_, err := s.GetAccess(ctx, core.AccessClientKey, "b")
	wantErr(t, "GetAccess after DeleteAccess", err, core.ErrNotFound)
	wantAccessList(t, s, core.AccessClientKey,
		core.AccessRecord{Kind: core.AccessClientKey, Name: "a", Doc: accessDoc(core.AccessClientKey, "a")},
		core.AccessRecord{Kind: core.AccessClientKey, Name: "c", Doc: accessDoc(core.AccessClientKey, "c")})
	wantAccessList(t, s, core.AccessPoint,
		core.AccessRecord{Kind: core.AccessPoint, Name: "a", Doc: accessDoc(core.AccessPoint, "a")},
		core.AccessRecord{Kind: core.AccessPoint, Name: "b", Doc: accessDoc(core.AccessPoint, "b")},
		core.AccessRecord{Kind: core.AccessPoint, Name: "c", Doc: accessDoc(core.AccessPoint, "c")})

	// Deleting every record of a kind leaves an empty listing.
	for _, name := range []string{"a", "c"} {
		if err := s.DeleteAccess(ctx, core.AccessClientKey, name); err != nil {
			t.Fatalf("DeleteAccess(%q): %v", name, err)
		}
	}
	wantAccessList(t, s, core.AccessClientKey)
}

// ListAccess orders names as bytes, not as a locale would: upper case
// before lower, '-' before '.' before digits before '_', and any multibyte
// character after every ASCII one.
func testListAccess(t *testing.T, s Store) {
	ordered := []string{"B", "a", "a-b", "a.b", "a0", "a_b", "ab", "b", "z", "zz", "é", "名"}
	// Made in an order of their own, one kind apart from the others.
	for i := range ordered {
		name := ordered[(i*5)%len(ordered)]
		createAccess(t, s, core.AccessRecord{Kind: core.AccessPolicy, Name: name, Doc: accessDoc(core.AccessPolicy, name)})
	}
	for _, name := range []string{"m", "a"} {
		createAccess(t, s, core.AccessRecord{Kind: core.AccessNetworkRule, Name: name, Doc: accessDoc(core.AccessNetworkRule, name)})
	}
	var want []core.AccessRecord
	for _, name := range ordered {
		want = append(want, core.AccessRecord{Kind: core.AccessPolicy, Name: name, Doc: accessDoc(core.AccessPolicy, name)})
	}
	wantAccessList(t, s, core.AccessPolicy, want...)
	wantAccessList(t, s, core.AccessNetworkRule,
		core.AccessRecord{Kind: core.AccessNetworkRule, Name: "a", Doc: accessDoc(core.AccessNetworkRule, "a")},
		core.AccessRecord{Kind: core.AccessNetworkRule, Name: "m", Doc: accessDoc(core.AccessNetworkRule, "m")})
	// Kinds with no records list none.
	wantAccessList(t, s, core.AccessPoint)
	wantAccessList(t, s, core.AccessClientKey)
}

// What a caller does to the Docs it handed to the store or was handed by
// it changes nothing stored.
func testAccessIsNotShared(t *testing.T, s Store) {
	ctx := context.Background()
	want := []byte(`{"Name":"shared","Policy":"allow"}`)
	r := core.AccessRecord{Kind: core.AccessPolicy, Name: "shared", Doc: bytes.Clone(want)}
	createAccess(t, s, r)
	r.Doc[0] ^= 0xff
	wantAccess(t, s, core.AccessPolicy, "shared", want)

	got, err := s.GetAccess(ctx, core.AccessPolicy, "shared")
	if err != nil {
		t.Fatal(err)
	}
	got.Doc[0] ^= 0xff
	wantAccess(t, s, core.AccessPolicy, "shared", want)

	listed, err := s.ListAccess(ctx, core.AccessPolicy)
	if err != nil || len(listed) != 1 {
		t.Fatalf("ListAccess = %s, %v; want the one", accessNames(listed), err)
	}
	listed[0].Doc[0] ^= 0xff
	wantAccess(t, s, core.AccessPolicy, "shared", want)

	next := []byte(`{"Name":"shared","Policy":"deny"}`)
	r.Doc = bytes.Clone(next)
	if err := s.ReplaceAccess(ctx, r); err != nil {
		t.Fatalf("ReplaceAccess: %v", err)
	}
	r.Doc[0] ^= 0xff
	wantAccess(t, s, core.AccessPolicy, "shared", next)
}

// A Doc is bytes, kept as they are: empty, NUL and not UTF-8 alike.
func testAccessDocsRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	every := make([]byte, 512)
	for i := range every {
		every[i] = byte(i)
	}
	docs := map[string][]byte{
		"nil":          nil,
		"empty":        {},
		"nul":          {0},
		"nuls":         {0, 0, 'x', 0},
		"every-byte":   every,
		"not-utf8":     {0xff, 0xfe, 0xc3, 0x28, '"', '\\'},
		"json-escapes": []byte(`{"a":"\u0000\"\\"}`),
		"large":        bytes.Repeat([]byte("0123456789abcdef\x00"), 8<<10),
	}
	for name, doc := range docs {
		createAccess(t, s, core.AccessRecord{Kind: core.AccessClientKey, Name: name, Doc: doc})
	}
	for name, doc := range docs {
		wantAccess(t, s, core.AccessClientKey, name, doc)
	}
	var want []core.AccessRecord
	for _, name := range slices.Sorted(maps.Keys(docs)) {
		want = append(want, core.AccessRecord{Kind: core.AccessClientKey, Name: name, Doc: docs[name]})
	}
	wantAccessList(t, s, core.AccessClientKey, want...)

	// A replace to an empty Doc and back.
	for _, doc := range [][]byte{nil, every, {}, {0}} {
		if err := s.ReplaceAccess(ctx, core.AccessRecord{Kind: core.AccessClientKey, Name: "every-byte", Doc: doc}); err != nil {
			t.Fatalf("ReplaceAccess(%q): %v", doc, err)
		}
		wantAccess(t, s, core.AccessClientKey, "every-byte", doc)
	}
	// A record with an empty Doc is there: not found only once deleted.
	for _, name := range []string{"nil", "empty"} {
		err := s.CreateAccess(ctx, core.AccessRecord{Kind: core.AccessClientKey, Name: name, Doc: []byte("x")})
		wantErr(t, fmt.Sprintf("CreateAccess over %q", name), err, core.ErrExists)
		wantAccess(t, s, core.AccessClientKey, name, nil)
		if err := s.DeleteAccess(ctx, core.AccessClientKey, name); err != nil {
			t.Fatalf("DeleteAccess(%q): %v", name, err)
		}
		_, err = s.GetAccess(ctx, core.AccessClientKey, name)
		wantErr(t, fmt.Sprintf("GetAccess(%q) after DeleteAccess", name), err, core.ErrNotFound)
	}
}

// Names are kept as they are, up to 255 bytes, whatever characters they
// hold.
func testAccessNamesRoundTrip(t *testing.T, s Store) {
	names := []string{
		"x",
		"ключ-доступа",
		"应用接入点",
		"emoji-🔑-☃",
		"Mixed Case With Spaces",
		`quote"back\slash'tick` + "`",
		strings.Repeat("n", 255),
		strings.Repeat("名", 85), // 255 bytes
		strings.Repeat("é", 127) + "x",
		strings.Repeat("🔑", 63) + "xyz",
	}
	for _, name := range names {
		if len(name) > 255 {
			t.Fatalf("test name of %d bytes, want at most 255", len(name))
		}
		createAccess(t, s, core.AccessRecord{Kind: core.AccessPoint, Name: name, Doc: accessDoc(core.AccessPoint, name)})
	}
	var want []core.AccessRecord
	for _, name := range names {
		wantAccess(t, s, core.AccessPoint, name, accessDoc(core.AccessPoint, name))
		want = append(want, core.AccessRecord{Kind: core.AccessPoint, Name: name, Doc: accessDoc(core.AccessPoint, name)})
	}
	slices.SortFunc(want, func(a, b core.AccessRecord) int { return strings.Compare(a.Name, b.Name) })
	wantAccessList(t, s, core.AccessPoint, want...)
	for _, name := range names {
		if err := s.DeleteAccess(context.Background(), core.AccessPoint, name); err != nil {
			t.Fatalf("DeleteAccess(%q): %v", name, err)
		}
	}
	wantAccessList(t, s, core.AccessPoint)
}

// Of concurrent creates of one name, exactly one lands, and the record is
// its.
func testConcurrentCreateAccess(t *testing.T, s Store) {
	ctx := context.Background()
	const n = 32
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := core.AccessRecord{Kind: core.AccessNetworkRule, Name: "race", Doc: fmt.Appendf(nil, "writer %d", i)}
			<-start
			errs[i] = s.CreateAccess(ctx, r)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("CreateAccess #%d and #%d both created the record", winner, i)
		case err == nil:
			winner = i
		default:
			wantErr(t, fmt.Sprintf("CreateAccess #%d", i), err, core.ErrExists)
		}
	}
	if winner < 0 {
		t.Fatal("no concurrent CreateAccess created the record")
	}
	wantAccess(t, s, core.AccessNetworkRule, "race", fmt.Appendf(nil, "writer %d", winner))
}
