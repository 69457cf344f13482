package awsjson

import (
	"encoding/base64"
	"unicode/utf8"
)

// tagMarkerVersion leads every ListResourceTags marker, so that a later form
// can be told apart.
const tagMarkerVersion = 1

// maxTagMarker bounds the marker read: the base64 of the version and the
// longest tag key, 128 characters of 4 bytes each. AWS documents markers of
// up to 320 characters; one of ours is longer only after a tag key of more
// than 239 bytes, and the SDKs check no upper bound.
const maxTagMarker = (8*(1+4*maxTagKey) + 5) / 6

// tagMarker is the NextMarker of a page of ListResourceTags that ended at
// the tag key last: the version byte and the key, base64url. It is a
// position and not a page number, so that tags added or removed between
// pages shift nothing: a tag there throughout the listing is in it once. A
// caller who edits one only moves where a listing of the same key resumes.
func tagMarker(last string) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte{tagMarkerVersion}, last...))
}

// parseTagMarker reads a marker tagMarker made, for the tag key to resume
// after; ok is false for anything else, another spelling of the same
// marker included: base64 skips line breaks and the spare bits of the last
// character, so a marker reads only when it is the one tagMarker makes of
// what it read.
func parseTagMarker(marker string) (last string, ok bool) {
	if len(marker) > maxTagMarker {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(marker)
	if err != nil || len(b) < 2 || b[0] != tagMarkerVersion {
		return "", false
	}
	last = string(b[1:])
	if !utf8.ValidString(last) || tagKey("Marker", last) != nil || tagMarker(last) != marker {
		return "", false
	}
	return last, true
}
