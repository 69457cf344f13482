package core

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

// respellings are other spellings of token that decode to its bytes: a line
// break inside it, which base64 skips, and, when its last character carries
// bits no byte holds, that character with those bits set.
func respellings(token string) []string {
	out := []string{token[:2] + "\n" + token[2:]}
	want, _ := base64.RawURLEncoding.DecodeString(token)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for _, c := range alphabet {
		other := token[:len(token)-1] + string(c)
		if got, err := base64.RawURLEncoding.DecodeString(other); other != token && err == nil && string(got) == string(want) {
			out = append(out, other)
		}
	}
	return out
}

// overlong is a token of the given version whose nanoseconds, 0, and the
// length of each field take a byte more than they need: a varint that reads
// as the same number.
func overlong(version byte, seconds int64, fields ...string) string {
	b := binary.AppendVarint([]byte{version}, seconds)
	b = append(b, 0x80, 0)
	for _, f := range fields {
		b = append(b, byte(len(f))|0x80, 0)
		b = append(b, f...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// A cursor survives its token, whatever its time and text; anything else is
// refused.
func TestTagCursorTokenRoundTrips(t *testing.T) {
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	for _, c := range []tagCursor{
		{KeyPosition{at, "key-0123456789abcdefghijklmn"}, "team"},
		{KeyPosition{at.Add(535897 * time.Microsecond), "key-x"}, `a:b/c\d_e-f.g+h=i@j k`},
		{KeyPosition{at.Add(time.Second - 1), "key-x"}, "标签"},
		{KeyPosition{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "k"}, "t"},
		{KeyPosition{time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC), "k"}, "t"},
		{KeyPosition{time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), "k"}, "t"},
	} {
		got, ok := parseTagCursor(c.token())
		if !ok || got.key.Compare(c.key) != 0 || got.key.CreatedAt.Location() != time.UTC || got.tagKey != c.tagKey {
			t.Errorf("%+v: the token reads as %+v, %v", c, got, ok)
		}
	}
	valid := tagCursor{KeyPosition{at, "key-x"}, "team"}.token()
	// raw builds a token of the given version, seconds and nanoseconds, and
	// fields.
	raw := func(version byte, seconds int64, nanos uint64, fields ...string) string {
		b := binary.AppendVarint([]byte{version}, seconds)
		b = binary.AppendUvarint(b, nanos)
		for _, f := range fields {
			b = binary.AppendUvarint(b, uint64(len(f)))
			b = append(b, f...)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	unreleased := base64.RawURLEncoding.EncodeToString([]byte("\x01\x05key-x\x04team"))
	for name, bad := range map[string]string{
		"empty":                 "",
		"not base64url":         "!!",
		"a version alone":       "Ag",
		"version 1":             unreleased,
		"version 3":             raw(3, at.Unix(), 0, "key-x", "team"),
		"an alias position":     AliasPosition{"alias/x"}.Token(),
		"a byte more":           valid + "AA",
		"a byte less":           valid[:len(valid)-1],
		"too long":              string(make([]byte, maxTokenLen+1)),
		"no tag key":            raw(tagCursorVersion, at.Unix(), 0, "key-x"),
		"an empty tag key":      raw(tagCursorVersion, at.Unix(), 0, "key-x", ""),
		"an empty key ID":       raw(tagCursorVersion, at.Unix(), 0, "", "team"),
		"a key ID with a NUL":   raw(tagCursorVersion, at.Unix(), 0, "key-\x00", "team"),
		"a key ID with a slash": raw(tagCursorVersion, at.Unix(), 0, "alias/x", "team"),
		"a second of nanos":     raw(tagCursorVersion, at.Unix(), uint64(time.Second), "key-x", "team"),
		"before year 1":         raw(tagCursorVersion, -62135596801, 0, "key-x", "team"),
		"after year 9999":       raw(tagCursorVersion, 253402300800, 0, "key-x", "team"),
		"seconds that overflow": raw(tagCursorVersion, 1<<63-1, 0, "key-x", "team"),
		"a length in two bytes": overlong(tagCursorVersion, at.Unix(), "key-x", "team"),
	} {
		if c, ok := parseTagCursor(bad); ok {
			t.Errorf("%s: token %q read as %+v", name, bad, c)
		}
	}
	// Found by FuzzParseTagCursor: "Av20A00BXxI000000000000000000000001"
	// read as the cursor whose token ends in 0, the bits of its last
	// character no byte holds.
	for _, c := range []tagCursor{{KeyPosition{at, "key-x"}, "team"}, {KeyPosition{at, "_"}, "4"}} {
		for _, other := range respellings(c.token()) {
			if got, ok := parseTagCursor(other); ok {
				t.Errorf("%q, another spelling of %q, read as %+v", other, c.token(), got)
			}
		}
	}
}

// A position survives its token; a token of the tag cursor, or one of the
// position with anything added, cut or out of range, is refused.
func TestKeyPositionTokenRoundTrips(t *testing.T) {
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	for _, p := range []KeyPosition{
		{at, "key-0123456789abcdefghijklmn"},
		{at.Add(535897 * time.Microsecond), "key-x"},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "k"},
		{time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC), "k"},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), "k"},
	} {
		got, ok := ParseKeyPosition(p.Token())
		if !ok || got.Compare(p) != 0 || got.CreatedAt.Location() != time.UTC {
			t.Errorf("%+v: the token reads as %+v, %v", p, got, ok)
		}
	}
	valid := KeyPosition{at, "key-x"}.Token()
	raw := func(version byte, seconds int64, nanos uint64, fields ...string) string {
		b := binary.AppendVarint([]byte{version}, seconds)
		b = binary.AppendUvarint(b, nanos)
		for _, f := range fields {
			b = binary.AppendUvarint(b, uint64(len(f)))
			b = append(b, f...)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for name, bad := range map[string]string{
		"empty":                 "",
		"not base64url":         "!!",
		"a version alone":       "Aw",
		"a tag cursor":          tagCursor{KeyPosition{at, "key-x"}, "team"}.token(),
		"an alias position":     AliasPosition{"alias/x"}.Token(),
		"a tag key added":       raw(keyPositionVersion, at.Unix(), 0, "key-x", "team"),
		"a byte more":           valid + "AA",
		"a byte less":           valid[:len(valid)-1],
		"too long":              string(make([]byte, maxTokenLen+1)),
		"an empty key ID":       raw(keyPositionVersion, at.Unix(), 0, ""),
		"a key ID with a slash": raw(keyPositionVersion, at.Unix(), 0, "alias/x"),
		"a second of nanos":     raw(keyPositionVersion, at.Unix(), uint64(time.Second), "key-x"),
		"before year 1":         raw(keyPositionVersion, -62135596801, 0, "key-x"),
		"seconds that overflow": raw(keyPositionVersion, 1<<63-1, 0, "key-x"),
		"a length in two bytes": overlong(keyPositionVersion, at.Unix(), "key-x"),
	} {
		if p, ok := ParseKeyPosition(bad); ok {
			t.Errorf("%s: token %q read as %+v", name, bad, p)
		}
	}
	// Found by FuzzParseKeyPosition: "A700000BX0" read as the position
	// whose token is "A700000BXw".
	for _, p := range []KeyPosition{{at, "key-x"}, {at.Add(time.Millisecond), "key-xy"}, {at, "key-xyz"}} {
		for _, other := range respellings(p.Token()) {
			if got, ok := ParseKeyPosition(other); ok {
				t.Errorf("%q, another spelling of %q, read as %+v", other, p.Token(), got)
			}
		}
	}
}

// An alias's position survives its token, which is its name, and the
// earlier base64 form still reads; a token of another kind, or one of the
// position with anything added or cut, or whose name no alias could have,
// is refused. Every token fits the 320 characters AWS documents for a
// marker.
func TestAliasPositionTokenRoundTrips(t *testing.T) {
	longest := "alias/" + strings.Repeat("x", 249)
	for _, p := range []AliasPosition{
		{"alias/a"},
		{"alias/orders"},
		{"alias/Team_1/app-2"},
		{longest},
	} {
		tok := p.Token()
		if tok != p.Name || len(tok) > 320 {
			t.Errorf("%+v: the token is %q", p, tok)
		}
		if got, ok := ParseAliasPosition(tok); !ok || got != p {
			t.Errorf("%+v: the token reads as %+v, %v", p, got, ok)
		}
		if got, ok := ParseAliasPosition(aliasTokenV4(p.Name)); !ok || got != p {
			t.Errorf("%+v: the earlier form reads as %+v, %v", p, got, ok)
		}
	}
	valid := aliasTokenV4("alias/orders")
	raw := func(version byte, fields ...string) string {
		b := []byte{version}
		for _, f := range fields {
			b = binary.AppendUvarint(b, uint64(len(f)))
			b = append(b, f...)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	bad := map[string]string{
		"empty":                    "",
		"not base64url":            "!!",
		"padded base64":            valid + "==",
		"a version alone":          "BA",
		"a page number":            "2",
		"a key position":           KeyPosition{at, "key-x"}.Token(),
		"a tag cursor":             tagCursor{KeyPosition{at, "key-x"}, "team"}.token(),
		"another version":          raw(keyPositionVersion, "alias/orders"),
		"a field added":            raw(aliasPositionVersion, "alias/orders", "x"),
		"a byte more":              valid + "AA",
		"a byte less":              valid[:len(valid)-1],
		"too long":                 string(make([]byte, maxTokenLen+1)),
		"an empty name":            raw(aliasPositionVersion, ""),
		"a length past the end":    base64.RawURLEncoding.EncodeToString([]byte{aliasPositionVersion, 20, 'a'}),
		"a name with a space":      "alias/a b",
		"a name with a line break": "alias/a\n",
	}
	// Each name no alias could have is refused in either form.
	for name, n := range map[string]string{
		"no alias/ prefix":         "orders",
		"alias/ alone":             "alias/",
		"a name with a colon":      "alias/a:b",
		"a name with a NUL":        "alias/a\x00",
		"a name one byte too long": longest + "x",
		"the reserved prefix":      "alias/acs/x",
	} {
		bad[name] = n
		bad[name+", earlier form"] = raw(aliasPositionVersion, n)
	}
	for name, tok := range bad {
		if p, ok := ParseAliasPosition(tok); ok || p != (AliasPosition{}) {
			t.Errorf("%s: token %q read as %+v, %v", name, tok, p, ok)
		}
	}
	overlongName := append([]byte{aliasPositionVersion, byte(len("alias/orders")) | 0x80, 0}, "alias/orders"...)
	for _, bad := range append(respellings(valid), base64.RawURLEncoding.EncodeToString(overlongName)) {
		if p, ok := ParseAliasPosition(bad); ok {
			t.Errorf("another spelling %q of %q read as %+v", bad, valid, p)
		}
	}
}
