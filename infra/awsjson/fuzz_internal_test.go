package awsjson

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseTagMarker: a ListResourceTags marker reads only as the place
// whose marker it is, within the bound, and the marker of every tag key AWS
// allows is at most the 320 characters AWS documents and resumes a listing
// right after that key, beside one that shares its first bytes.
func FuzzParseTagMarker(f *testing.F) {
	for _, k := range []string{"team", "k00", strings.Repeat("\U0010FFFF", maxTagKey), "a:b/c d", "标签", strings.Repeat("é", 120), strings.Repeat("x", 239)} {
		f.Add(tagMarker(k), k)
	}
	f.Add("", "")
	f.Add("AQ", "x")
	f.Add("2", strings.Repeat("é", maxTagKey+1))
	f.Fuzz(func(t *testing.T, marker, key string) {
		if p, ok := parseTagMarker(marker); ok {
			if again := p.marker(); again != marker {
				t.Fatalf("marker %q reads as %+v, whose marker is %q", marker, p, again)
			}
			if len(marker) > maxTagMarker || tagKey("Marker", p.key) != nil {
				t.Fatalf("marker %q reads as %+v, which holds no tag key", marker, p)
			}
		}
		if !utf8.ValidString(key) || tagKey("TagKey", key) != nil {
			return
		}
		m := tagMarker(key)
		p, ok := parseTagMarker(m)
		if !ok || len(m) > maxMarker || p.sum == nil && p.key != key {
			t.Fatalf("%q: its marker %q (%d characters) reads as %+v, %v", key, m, len(m), p, ok)
		}
		// Beside the key, the same key with a byte more, which shares its
		// first bytes and sorts after it.
		names := []string{key, key + "~"}
		if key > "!" {
			names = append([]string{"!"}, names...)
		}
		if at := slices.Index(names, key); p.from(names) != at+1 {
			t.Fatalf("%q: the page after it starts at %d of %q", key, p.from(names), names)
		}
	})
}
