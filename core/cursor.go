package core

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"
)

// tagCursor is where a page of ListTagResources ends: its last row, by the
// position of its key in the listing of keys and its tag key. The next page
// starts after it.
type tagCursor struct {
	key    KeyPosition
	tagKey string
}

// Every token leads with a byte naming its form, so that a later form, or a
// token of another kind, is told apart. Version 1 of the tag cursor, which
// named a key by ID alone, was never released.
const (
	tagCursorVersion     = 2
	keyPositionVersion   = 3
	aliasPositionVersion = 4
)

// maxTokenLen bounds a token read: one of the longest key ID and tag key, or
// of the longest alias name, is well under it.
const maxTokenLen = 2048

// token is the cursor as an opaque NextToken: a version byte, the key's
// position (appendPosition) and the length-prefixed tag key, base64url. It
// holds a position in the listing and nothing more: a caller who edits it
// moves where the listing resumes, but every page authorizes the keys it
// reads as the first page did, so no token reaches rows its caller could not
// list.
func (c tagCursor) token() string {
	b := appendPosition([]byte{tagCursorVersion}, c.key)
	return base64.RawURLEncoding.EncodeToString(appendField(b, c.tagKey))
}

// parseTagCursor reads a token that token made; ok is false for anything
// else, another spelling of the same cursor included (see
// ParseKeyPosition).
func parseTagCursor(token string) (c tagCursor, ok bool) {
	b, ok := openToken(token, tagCursorVersion)
	if !ok {
		return tagCursor{}, false
	}
	pos, b, ok := readPosition(b)
	if !ok {
		return tagCursor{}, false
	}
	key, b, ok := readField(b)
	if !ok || len(b) != 0 || key == "" {
		return tagCursor{}, false
	}
	c = tagCursor{key: pos, tagKey: key}
	if c.token() != token {
		return tagCursor{}, false
	}
	return c, true
}

// Token is the position as an opaque token, for a protocol whose listing of
// keys resumes after a key (AWS's ListKeys marker): a version byte and the
// position, base64url, as ListTagResources' NextToken holds one. Like that
// token it only moves where a listing resumes, which Request.KeysAfter
// authorizes as any page of ListKeys.
func (p KeyPosition) Token() string {
	return base64.RawURLEncoding.EncodeToString(appendPosition([]byte{keyPositionVersion}, p))
}

// ParseKeyPosition reads a token that Token made; ok is false for anything
// else, another spelling of the same position included.
//
// A token reads only as the one its encoder makes of what it reads: base64
// skips line breaks and, unless strict, the unused bits of the last
// character, and a varint may take more bytes than its number needs, so
// that one position would otherwise have many tokens, most of which the
// service never made.
func ParseKeyPosition(token string) (p KeyPosition, ok bool) {
	b, ok := openToken(token, keyPositionVersion)
	if !ok {
		return KeyPosition{}, false
	}
	p, b, ok = readPosition(b)
	if !ok || len(b) != 0 || p.Token() != token {
		return KeyPosition{}, false
	}
	return p, true
}

// Token is the position as a token, for a protocol whose listing of aliases
// resumes after an alias (AWS's ListAliases marker): the alias's name, which
// is printable ASCII and at most 255 characters, within the 320 that AWS
// documents for a marker (the base64 form it replaced, aliasTokenV4, reached
// 344). Like a key's position token it only moves where a listing resumes,
// which Request.AliasesAfter authorizes as any page of ListAliases or
// ListAliasesByKeyId.
func (p AliasPosition) Token() string { return p.Name }

// aliasTokenV4 is the form Token had before: a version byte and the
// length-prefixed name, base64url. ParseAliasPosition still reads it, so
// that a walk under way across an upgrade goes on.
func aliasTokenV4(name string) string {
	return base64.RawURLEncoding.EncodeToString(appendField([]byte{aliasPositionVersion}, name))
}

// ParseAliasPosition reads a token that Token made, or one of the earlier
// form; ok is false for anything else, another spelling of the same
// position included (see ParseKeyPosition). The name must be an alias name,
// as every stored alias's is: the stores are asked for aliases after it,
// and a caller is told of a marker it forged rather than handed a listing
// from an arbitrary place. No base64url text starts with "alias/", so the
// two forms cannot be taken for each other.
func ParseAliasPosition(token string) (p AliasPosition, ok bool) {
	if strings.HasPrefix(token, "alias/") {
		if validAliasName("Marker", token) != nil {
			return AliasPosition{}, false
		}
		return AliasPosition{Name: token}, true
	}
	b, ok := openToken(token, aliasPositionVersion)
	if !ok {
		return AliasPosition{}, false
	}
	name, b, ok := readField(b)
	if !ok || len(b) != 0 || validAliasName("Marker", name) != nil || aliasTokenV4(name) != token {
		return AliasPosition{}, false
	}
	return AliasPosition{Name: name}, true
}

// openToken decodes a token of the given version, bounded by maxTokenLen,
// and returns what follows the version byte.
func openToken(token string, version byte) ([]byte, bool) {
	if len(token) > maxTokenLen {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) == 0 || b[0] != version {
		return nil, false
	}
	return b[1:], true
}

// appendPosition appends a key's position to b: its creation time (seconds
// since 1970, signed, and nanoseconds) and its length-prefixed ID.
func appendPosition(b []byte, p KeyPosition) []byte {
	b = binary.AppendVarint(b, p.CreatedAt.Unix())
	b = binary.AppendUvarint(b, uint64(p.CreatedAt.Nanosecond()))
	return appendField(b, p.ID)
}

// readPosition reads a position appendPosition wrote at the start of b and
// returns the bytes after it. The time must lie in years 1 to 9999 and the
// ID be a key ID, as every key's are: the stores are asked for keys after
// them, and a value no store can take would be the service's failure, not
// the caller's.
func readPosition(b []byte) (KeyPosition, []byte, bool) {
	seconds, size := binary.Varint(b)
	if size <= 0 {
		return KeyPosition{}, nil, false
	}
	b = b[size:]
	nanos, size := binary.Uvarint(b)
	if size <= 0 || nanos >= uint64(time.Second) {
		return KeyPosition{}, nil, false
	}
	b = b[size:]
	id, b, ok := readField(b)
	if !ok || !validKeyID(id) {
		return KeyPosition{}, nil, false
	}
	created := time.Unix(seconds, int64(nanos)).UTC()
	if y := created.Year(); y < 1 || y > 9999 || created.Unix() != seconds {
		return KeyPosition{}, nil, false
	}
	return KeyPosition{CreatedAt: created, ID: id}, b, true
}

// appendField appends s to b, length-prefixed, as readField reads it.
func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// readField reads a length-prefixed string at the start of b and returns
// the bytes after it.
func readField(b []byte) (string, []byte, bool) {
	n, size := binary.Uvarint(b)
	if size <= 0 || n > uint64(len(b)-size) {
		return "", nil, false
	}
	return string(b[size : size+int(n)]), b[size+int(n):], true
}
