package core

import (
	"encoding/base64"
	"encoding/binary"
	"time"
)

// tagCursor is where a page of ListTagResources ends: its last row, by the
// position of its key in the listing of keys and its tag key. The next page
// starts after it.
type tagCursor struct {
	key    KeyPosition
	tagKey string
}

// cursorVersion leads every token, so that a later form can be told apart.
// Version 1, which named a key by ID alone, was never released.
const cursorVersion = 2

// maxTokenLen bounds the NextToken read: a cursor of the longest key ID and
// tag key is well under it.
const maxTokenLen = 2048

// token is the cursor as an opaque NextToken: a version byte, the key's
// creation time (seconds since 1970, signed, and nanoseconds), and the
// length-prefixed key ID and tag key, base64url. It holds a position in the
// listing and nothing more: a caller who edits it moves where the listing
// resumes, but every page authorizes the keys it reads as the first page
// did, so no token reaches rows its caller could not list.
func (c tagCursor) token() string {
	b := []byte{cursorVersion}
	b = binary.AppendVarint(b, c.key.CreatedAt.Unix())
	b = binary.AppendUvarint(b, uint64(c.key.CreatedAt.Nanosecond()))
	b = binary.AppendUvarint(b, uint64(len(c.key.ID)))
	b = append(b, c.key.ID...)
	b = binary.AppendUvarint(b, uint64(len(c.tagKey)))
	b = append(b, c.tagKey...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseTagCursor reads a token that token made; ok is false for anything
// else. The time must lie in years 1 to 9999 and the ID be a key ID, as every
// key's are: the stores are asked for keys after them, and a value no
// store can take would be the service's failure, not the caller's.
func parseTagCursor(token string) (c tagCursor, ok bool) {
	if len(token) > maxTokenLen {
		return tagCursor{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) == 0 || b[0] != cursorVersion {
		return tagCursor{}, false
	}
	b = b[1:]
	seconds, size := binary.Varint(b)
	if size <= 0 {
		return tagCursor{}, false
	}
	b = b[size:]
	nanos, size := binary.Uvarint(b)
	if size <= 0 || nanos >= uint64(time.Second) {
		return tagCursor{}, false
	}
	b = b[size:]
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
	if !ok1 || !ok2 || len(b) != 0 || !validKeyID(id) || key == "" {
		return tagCursor{}, false
	}
	created := time.Unix(seconds, int64(nanos)).UTC()
	if y := created.Year(); y < 1 || y > 9999 || created.Unix() != seconds {
		return tagCursor{}, false
	}
	return tagCursor{key: KeyPosition{CreatedAt: created, ID: id}, tagKey: key}, true
}
