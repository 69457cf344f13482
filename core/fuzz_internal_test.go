package core

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// maxRefusal bounds the message of a refusal, whatever the input: a message
// quotes at most a bounded prefix of what the caller sent (a tag key of
// MaxTagLen characters, each escaped, is the longest quote).
const maxRefusal = 2048

// refusedAs fails t unless err is a *Error with code whose message names
// param and stays within maxRefusal.
func refusedAs(t *testing.T, err error, code, param string) {
	t.Helper()
	var ke *Error
	if !errors.As(err, &ke) || ke.Code != code || !strings.Contains(ke.Message, param) {
		t.Fatalf("refused with %v, want %s naming %s", err, code, param)
	}
	if len(ke.Message) > maxRefusal {
		t.Fatalf("a refusal of %d bytes: %.200s…", len(ke.Message), ke.Message)
	}
}

// fuzzPositions are the positions the token fuzzers start from: a key made
// now, the first and last instants a store keeps, the longest key ID.
func fuzzPositions() []KeyPosition {
	at := time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)
	return []KeyPosition{
		{at, "key-0123456789abcdefghijklmn"},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "k"},
		{time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC), "key-x"},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), strings.Repeat("k", 128)},
	}
}

// position is the key position of seconds, nanoseconds and id, and whether a
// key could hold it: a time in years 1 to 9999 and a key ID.
func position(seconds int64, nanos uint32, id string) (KeyPosition, bool) {
	p := KeyPosition{CreatedAt: time.Unix(seconds, int64(nanos%uint32(time.Second))).UTC(), ID: id}
	y := p.CreatedAt.Year()
	return p, y >= 1 && y <= 9999 && p.CreatedAt.Unix() == seconds && validKeyID(id)
}

// FuzzParseKeyPosition: every position a key can hold makes a token that
// reads back as that position; a token that reads at all is the one Token
// makes of what it read, so no other spelling of a position is taken.
func FuzzParseKeyPosition(f *testing.F) {
	for _, p := range fuzzPositions() {
		f.Add(p.Token(), p.CreatedAt.Unix(), uint32(p.CreatedAt.Nanosecond()), p.ID)
		f.Add(tagCursor{p, "team"}.token(), p.CreatedAt.Unix(), uint32(p.CreatedAt.Nanosecond()), p.ID)
	}
	f.Add("", int64(-62135596801), uint32(0), "")
	f.Add("Aw", int64(253402300800), uint32(0), "alias/x")
	f.Fuzz(func(t *testing.T, token string, seconds int64, nanos uint32, id string) {
		if p, ok := ParseKeyPosition(token); ok {
			if again := p.Token(); again != token {
				t.Fatalf("token %q reads as %+v, whose token is %q", token, p, again)
			}
			if _, ok := position(p.CreatedAt.Unix(), uint32(p.CreatedAt.Nanosecond()), p.ID); !ok || len(token) > maxTokenLen {
				t.Fatalf("token %q reads as %+v, which no key holds", token, p)
			}
		}
		p, ok := position(seconds, nanos, id)
		if !ok {
			return
		}
		token = p.Token()
		got, ok := ParseKeyPosition(token)
		if !ok || got.Compare(p) != 0 || got.CreatedAt.Location() != time.UTC {
			t.Fatalf("%+v: its token %q reads as %+v, %v", p, token, got, ok)
		}
	})
}

// FuzzParseTagCursor is FuzzParseKeyPosition for ListTagResources'
// NextToken, whose position is followed by a tag key of up to MaxTagLen
// characters.
func FuzzParseTagCursor(f *testing.F) {
	for _, p := range fuzzPositions() {
		for _, tag := range []string{"team", strings.Repeat("标", MaxTagLen), `a:b/c\d_e-f.g+h=i@j k`} {
			f.Add(tagCursor{p, tag}.token(), p.CreatedAt.Unix(), uint32(p.CreatedAt.Nanosecond()), p.ID, tag)
		}
		f.Add(p.Token(), p.CreatedAt.Unix(), uint32(p.CreatedAt.Nanosecond()), p.ID, "")
	}
	f.Fuzz(func(t *testing.T, token string, seconds int64, nanos uint32, id, tag string) {
		if c, ok := parseTagCursor(token); ok {
			if again := c.token(); again != token {
				t.Fatalf("token %q reads as %+v, whose token is %q", token, c, again)
			}
			if _, ok := position(c.key.CreatedAt.Unix(), uint32(c.key.CreatedAt.Nanosecond()), c.key.ID); !ok || c.tagKey == "" || len(token) > maxTokenLen {
				t.Fatalf("token %q reads as %+v, which no row has", token, c)
			}
		}
		p, ok := position(seconds, nanos, id)
		if !ok || tag == "" || utf8.RuneCountInString(tag) > MaxTagLen {
			return
		}
		c := tagCursor{p, tag}
		token = c.token()
		got, ok := parseTagCursor(token)
		if !ok || got.key.Compare(p) != 0 || got.tagKey != tag {
			t.Fatalf("%+v: its token %q reads as %+v, %v", c, token, got, ok)
		}
	})
}

// FuzzParseAliasPosition: every alias name is its own marker, within the 320
// characters AWS documents for one, and reads back as itself in that form and
// in the earlier one; a marker that reads at all is one of those two forms of
// an alias name, so the stores are only ever asked for aliases after a name
// an alias could have.
func FuzzParseAliasPosition(f *testing.F) {
	for _, name := range []string{"alias/a", "alias/Team_1/app-2", "alias/" + strings.Repeat("x", 249)} {
		f.Add(name)
		f.Add(aliasTokenV4(name))
	}
	f.Add("alias/acs/x")
	f.Add("alias/a b")
	f.Fuzz(func(t *testing.T, token string) {
		if p, ok := ParseAliasPosition(token); ok {
			if token != p.Token() && token != aliasTokenV4(p.Name) {
				t.Fatalf("marker %q reads as %+v, whose markers are %q and %q", token, p, p.Token(), aliasTokenV4(p.Name))
			}
			if err := validAliasName("AliasName", p.Name); err != nil {
				t.Fatalf("marker %q reads as %+v, which no alias has: %v", token, p, err)
			}
		}
		if validAliasName("AliasName", token) != nil {
			return
		}
		p := AliasPosition{Name: token}
		if len(p.Token()) > 320 {
			t.Fatalf("%+v: a marker of %d characters", p, len(p.Token()))
		}
		for _, marker := range []string{p.Token(), aliasTokenV4(p.Name)} {
			if got, ok := ParseAliasPosition(marker); !ok || got != p {
				t.Fatalf("%+v: its marker %q reads as %+v, %v", p, marker, got, ok)
			}
		}
	})
}

// FuzzKeyFilter: ListKeys' Filters is refused as InvalidParameter naming
// Filters, in a message of bounded length, or read as at most
// maxFilters Keys of those listed, each with its allowed values, which a
// JSON list written back from it reads as again.
func FuzzKeyFilter(f *testing.F) {
	for _, s := range []string{
		``, `[]`,
		`[{"Key":"KeyState","Values":["Enabled","Disabled"]}]`,
		`[{"Key":"KeyState","Values":["Enabled"]},{"Key":"KeyState","Values":["PendingDeletion"]},{"Key":"TagKey","Values":["team"]}]`,
		`[{"Key":"CreatorType","Values":["User"]},{"Key":"keyId","Values":["key-x",""]},{"Key":"AliasName","Values":[]}]`,
		`[{"Key":"KeyState","Values":["enabled"]}]`,
		`[{"Key":"KeyState","Values":["Enabled"],"Extra":1}]`,
		`[{"Key":"KeyState","Key":"KeySpec","Values":[]}]`,
		`[{"key":"KeyState","Values":["Enabled"]}]`,
		`[{"Key":"keyId","Values":["key-` + strings.Repeat("x", 4096) + `"]}]`,
		`[{"Key":"KeyState","Values":null}]`,
		`[{"Key":"KeyState","Values":["Enabled"]}] []`,
		// Quoted, each of these was once echoed whole, escaped fourfold.
		`[{"Key":"` + strings.Repeat(`\u0001`, 1000) + `","Values":[]}]`,
		`[{"Key":"KeyState","Values":["` + strings.Repeat(`\u0001`, 1000) + `"]}]`,
		`[{"` + strings.Repeat(`\u0001`, 1000) + `":[]}]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if Params(map[string]string{"Filters": text}).check() != nil {
			return // no request carries it this far
		}
		c := &call{p: Params{"Filters": text}, req: &Request{}}
		filter, err := c.filter("Filters", keyFilters, "")
		if err != nil {
			refusedAs(t, err, CodeInvalidParameter, "Filters")
			return
		}
		if len(filter) > maxFilters {
			t.Fatalf("%d Keys", len(filter))
		}
		type pair struct {
			Key    string
			Values []string
		}
		again := []pair{}
		for _, key := range slices.Sorted(maps.Keys(filter)) {
			allowed, ok := keyFilters[key]
			values := filter[key]
			if !ok || len(values) == 0 {
				t.Fatalf("Key %q with values %q", key, values)
			}
			for _, v := range values {
				if allowed != nil && !slices.Contains(allowed, v) {
					t.Fatalf("%q is no %s", v, key)
				}
			}
			for chunk := range slices.Chunk(values, maxFilterValues) {
				again = append(again, pair{key, chunk})
			}
		}
		if len(again) > maxFilters {
			return // values merged from many pairs need more pairs than one Filters holds
		}
		j, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		c.p["Filters"] = string(j)
		back, err := c.filter("Filters", keyFilters, "")
		if err != nil || !maps.EqualFunc(filter, back, slices.Equal) {
			t.Fatalf("%s reads as %v, %v; it was written from %v", j, back, err, filter)
		}
	})
}
