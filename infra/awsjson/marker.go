package awsjson

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"unicode/utf8"
)

// A ListResourceTags marker leads with a byte naming its form, so that a
// later form can be told apart: tagWhole holds the last tag key listed,
// tagCut the first bytes of a key too long for that, and a digest of the
// whole key.
const (
	tagWhole = 1
	tagCut   = 2
)

// AWS documents markers of 1 to 320 characters. The base64url of tagWhole
// and a key of up to maxWholeKey bytes fits; a longer key (a tag key is 128
// characters of up to 4 bytes) is cut to at most maxCutKey bytes, on a
// character's boundary, beside tagSumSize bytes of its SHA-256: 1 + 16 +
// 220 bytes, 316 characters.
const (
	maxMarker   = 320
	maxWholeKey = maxMarker*6/8 - 1
	maxCutKey   = 220
	tagSumSize  = 16
)

// maxTagMarker bounds the marker read: a tagWhole marker of the longest tag
// key, as markers were made before keys were cut, so that a walk under way
// across an upgrade goes on.
const maxTagMarker = (8*(1+4*maxTagKey) + 5) / 6

// tagPlace is where a page of ListResourceTags ended: the last tag key
// listed (sum nil), or the first bytes of it and its digest.
type tagPlace struct {
	key string
	sum []byte
}

// placeOf is the place after the tag key last.
func placeOf(last string) tagPlace {
	if len(last) <= maxWholeKey {
		return tagPlace{key: last}
	}
	cut := maxCutKey
	for !utf8.RuneStart(last[cut]) {
		cut--
	}
	sum := sha256.Sum256([]byte(last))
	return tagPlace{key: last[:cut], sum: sum[:tagSumSize]}
}

// marker is the place as a NextMarker, base64url. It is a position and not
// a page number, so that tags added or removed between pages shift
// nothing: a tag there throughout the listing is in it once. A caller who
// edits one only moves where a listing of the same key resumes.
func (p tagPlace) marker() string {
	b := []byte{tagWhole}
	if p.sum != nil {
		b = append([]byte{tagCut}, p.sum...)
	}
	return base64.RawURLEncoding.EncodeToString(append(b, p.key...))
}

// tagMarker is the NextMarker of a page that ended at the tag key last.
func tagMarker(last string) string { return placeOf(last).marker() }

// parseTagMarker reads a marker tagMarker made, or one made before keys
// were cut; ok is false for anything else, another spelling of the same
// marker included: base64 skips line breaks and the spare bits of the last
// character, so a marker reads only when it is the one marker makes of what
// it read.
func parseTagMarker(marker string) (p tagPlace, ok bool) {
	if len(marker) > maxTagMarker {
		return tagPlace{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(marker)
	if err != nil || len(b) < 2 {
		return tagPlace{}, false
	}
	switch b[0] {
	case tagWhole:
		p.key = string(b[1:])
	case tagCut:
		if len(b) < 1+tagSumSize+maxCutKey-utf8.UTFMax+1 || len(b) > 1+tagSumSize+maxCutKey {
			return tagPlace{}, false
		}
		p = tagPlace{key: string(b[1+tagSumSize:]), sum: b[1 : 1+tagSumSize]}
	default:
		return tagPlace{}, false
	}
	if !utf8.ValidString(p.key) || tagKey("Marker", p.key) != nil || p.marker() != marker {
		return tagPlace{}, false
	}
	return p, true
}

// from is where in names, a key's tag keys in order, the page after p
// starts: after the key p names, or a cut key whose digest matches. A cut
// key gone since (untagged between pages) leaves only its first bytes: the
// page starts at the first key that has them, so a key that sorted before
// it and shares them is listed again rather than one after it missed. The
// zero place, no marker, starts at 0, as no tag key is empty.
func (p tagPlace) from(names []string) int {
	i, found := slices.BinarySearch(names, p.key)
	if p.sum == nil {
		if found {
			i++
		}
		return i
	}
	for j := i; j < len(names) && strings.HasPrefix(names[j], p.key); j++ {
		if sum := sha256.Sum256([]byte(names[j])); bytes.Equal(sum[:tagSumSize], p.sum) {
			return j + 1
		}
	}
	return i
}
