package redis

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"sync"
	"time"
)

// MACPurpose is the label under which the cache's MAC key is derived from the
// root key (core.RootKey.DeriveKey).
const MACPurpose = "kmsless/v1/redis-cache"

// A cache entry in Redis reads
//
//	format (1 byte) | issued (8, Unix ns) | expires (8, Unix ns) | JSON value | tag (32)
//
// where tag is HMAC-SHA256 under a key derived from the root key, over the
// entry's kind, its length-prefixed Redis key name and everything before the
// tag. Whoever writes Redis can therefore neither make an entry, nor change
// one, nor move one to another name or kind. A genuine entry can still be put
// back under its own name later: expires bounds that, and marks cut it short on
// every instance that knows of a newer state.
const (
	entryFormat = 1
	headerSize  = 1 + 8 + 8
	tagSize     = sha256.Size
)

// Entry kinds the tag binds. Key and alias kinds are also the invalidation
// message kinds.
const (
	kindKey     = 'k'
	kindAlias   = 'a'
	kindVersion = 'v'
)

type sealer struct{ key []byte }

func (s sealer) tag(kind byte, name string, body []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	var pre [5]byte
	pre[0] = kind
	binary.BigEndian.PutUint32(pre[1:], uint32(len(name)))
	m.Write(pre[:])
	_, _ = io.WriteString(m, name)
	m.Write(body)
	return m.Sum(nil)
}

func (s sealer) seal(kind byte, name string, issued, expires time.Time, value []byte) []byte {
	b := make([]byte, headerSize, headerSize+len(value)+tagSize)
	b[0] = entryFormat
	binary.BigEndian.PutUint64(b[1:], uint64(issued.UnixNano()))
	binary.BigEndian.PutUint64(b[9:], uint64(expires.UnixNano()))
	b = append(b, value...)
	return append(b, s.tag(kind, name, b)...)
}

// sealed is an entry whose tag checked out.
type sealed struct {
	value           []byte
	issued, expires time.Time
}

// open checks an entry read from Redis under name; ok is false for anything not
// sealed by this deployment for that name and kind.
func (s sealer) open(kind byte, name string, entry []byte) (e sealed, ok bool) {
	if len(entry) < headerSize+tagSize || entry[0] != entryFormat {
		return e, false
	}
	body, tag := entry[:len(entry)-tagSize], entry[len(entry)-tagSize:]
	if !hmac.Equal(tag, s.tag(kind, name, body)) {
		return e, false
	}
	return sealed{
		value:   body[headerSize:],
		issued:  time.Unix(0, int64(binary.BigEndian.Uint64(body[1:]))),
		expires: time.Unix(0, int64(binary.BigEndian.Uint64(body[9:]))),
	}, true
}

// marks remember, per Redis key name, the newest time from which this instance
// knows the entry's state: an invalidation it made or heard of, a store read it
// made, or a genuine entry it accepted. An entry issued before its name's mark
// describes an older state, so it is refused although its tag is genuine: this
// is what stops a once-valid entry (a key before it was disabled, an alias
// before it moved) from being put back, on every instance that has seen the
// change. Bounded: when full it forgets the names but keeps their newest mark
// as a floor for every name, which refuses more, never less.
type marks struct {
	mu    sync.Mutex
	m     map[string]time.Time
	floor time.Time
	max   int
}

func newMarks(max int) *marks { return &marks{m: make(map[string]time.Time), max: max} }

func (k *marks) get(name string) time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	if t, ok := k.m[name]; ok && t.After(k.floor) {
		return t
	}
	return k.floor
}

func (k *marks) raise(name string, t time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	old, ok := k.m[name]
	if ok && !t.After(old) {
		return
	}
	if !ok && len(k.m) >= k.max {
		for _, m := range k.m {
			if m.After(k.floor) {
				k.floor = m
			}
		}
		clear(k.m)
	}
	k.m[name] = t
}
