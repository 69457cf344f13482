package core

import (
	"encoding/base64"
	"encoding/binary"
)

// tagCursor is where a page of ListTagResources ends: its last row, by
// resource ID and tag key. The next page starts after it.
type tagCursor struct {
	resourceID, tagKey string
}

// cursorVersion leads every token, so that a later form can be told apart.
const cursorVersion = 1

// maxTokenLen bounds the NextToken read: a cursor of the longest key ID and
// tag key is well under it.
const maxTokenLen = 2048

// token is the cursor as an opaque NextToken: a version byte and the two
// length-prefixed fields, base64url. It holds a position in the listing and
// nothing more: a caller who edits it moves where the listing resumes, but
// every page authorizes the keys it reads as the first page did, so no token
// reaches rows its caller could not list.
func (c tagCursor) token() string {
	b := []byte{cursorVersion}
	b = binary.AppendUvarint(b, uint64(len(c.resourceID)))
	b = append(b, c.resourceID...)
	b = binary.AppendUvarint(b, uint64(len(c.tagKey)))
	b = append(b, c.tagKey...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseTagCursor reads a token that token made; ok is false for anything
// else.
func parseTagCursor(token string) (c tagCursor, ok bool) {
	if len(token) > maxTokenLen {
		return tagCursor{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) == 0 || b[0] != cursorVersion {
		return tagCursor{}, false
	}
	b = b[1:]
	field := func() (string, bool) {
		n, size := binary.Uvarint(b)
		if size <= 0 || n > uint64(len(b)-size) {
			return "", false
		}
		s := string(b[size : size+int(n)])
		b = b[size+int(n):]
		return s, true
	}
	id, ok1 := field()
	key, ok2 := field()
	if !ok1 || !ok2 || len(b) != 0 || id == "" || key == "" {
		return tagCursor{}, false
	}
	return tagCursor{resourceID: id, tagKey: key}, true
}
