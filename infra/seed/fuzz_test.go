package seed

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzParseNeverQuotesMaterial: a seed document, with key material written
// where the placeholder SECRET stands, is read or refused with an error, and
// the error never quotes the material as a value, not even the first
// characters a YAML error shows of a value it cannot place. Where the
// material stands as a tag, a key or an anchor, YAML names it, as it must.
func FuzzParseNeverQuotesMaterial(f *testing.F) {
	f.Add("keys:\n  - keyId: k\n    material: SECRET\n", "c2VjcmV0LWtleS1tYXRlcmlhbA==")
	f.Add("keys:\n  - keyId: k\n    versions:\n      - versionId: v1\n        material: SECRET\n", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Add("keys:\n  - keyId: k\n    material: SECRET\n    material: SECRET\n", "c2VjcmV0LWtleS1tYXRlcmlhbA==")
	f.Add("keys:\n  - keyId: k\n    versions: SECRET\n", "c2VjcmV0LWtleS1tYXRlcmlhbA==")
	f.Add("keys:\n  - SECRET\n", "c2VjcmV0LWtleS1tYXRlcmlhbA==")
	f.Add("keys:\n  - keyId: k\n    material: SECRET\n    enableAutomaticRotation: SECRET\n", "bm90LWJhc2U2NA")
	f.Fuzz(func(t *testing.T, doc, material string) {
		if len(material) < 8 || !strings.Contains(doc, "SECRET") || strings.ContainsAny(material, " \t\r\n:#'\"{}[],&*!|>%@`-?") || strings.Contains(doc, material[:5]) {
			return // the material must be a plain scalar the rest of the document does not spell
		}
		keys, err := Parse([]byte(strings.ReplaceAll(doc, "SECRET", material)))
		if err == nil {
			clearAll(keys)
			return
		}
		msg := tagOrKey.ReplaceAllString(err.Error(), "")
		for i := 0; i+5 <= len(material); i++ {
			if w := material[i : i+5]; strings.Contains(msg, w) && !strings.Contains(doc, w) {
				t.Fatalf("material %q: the error %q quotes %q of it", material, err, w)
			}
		}
	})
}

// tagOrKey matches the tags, keys and anchors YAML names in its errors:
// where the material stands as one of those, it is not a value.
var tagOrKey = regexp.MustCompile("(?s)![^`]*? into |!\\S*|field .* not found|mapping key .* already defined|anchor '.*'")
