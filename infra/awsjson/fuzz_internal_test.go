package awsjson

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseTagMarker: a ListResourceTags marker reads only as the tag key
// whose marker it is, within the bound, and the marker of every tag key AWS
// allows reads back as that key.
func FuzzParseTagMarker(f *testing.F) {
	for _, k := range []string{"team", "k00", strings.Repeat("\U0010FFFF", maxTagKey), "a:b/c d", "标签"} {
		f.Add(tagMarker(k), k)
	}
	f.Add("", "")
	f.Add("AQ", "x")
	f.Add("2", strings.Repeat("é", maxTagKey+1))
	f.Fuzz(func(t *testing.T, marker, key string) {
		if last, ok := parseTagMarker(marker); ok {
			if again := tagMarker(last); again != marker {
				t.Fatalf("marker %q reads as %q, whose marker is %q", marker, last, again)
			}
			if len(marker) > maxTagMarker || tagKey("Marker", last) != nil {
				t.Fatalf("marker %q reads as %q, which is no tag key", marker, last)
			}
		}
		if !utf8.ValidString(key) || tagKey("TagKey", key) != nil {
			return
		}
		m := tagMarker(key)
		if got, ok := parseTagMarker(m); !ok || got != key || len(m) > maxTagMarker {
			t.Fatalf("%q: its marker %q (%d characters) reads as %q, %v", key, m, len(m), got, ok)
		}
	})
}
