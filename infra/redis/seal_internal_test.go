package redis

import (
	"bytes"
	"testing"
	"time"
)

func TestSealedEntryOpensOnlyUnchangedUnderItsNameKindAndKey(t *testing.T) {
	s := sealer{bytes.Repeat([]byte{1}, 32)}
	issued := time.Unix(1_700_000_000, 123)
	expires := issued.Add(time.Minute)
	value := []byte(`{"id":"key-1","state":"Enabled"}`)
	e := s.seal(kindKey, "kms:{k:key-1}", issued, expires, value)
	got, ok := s.open(kindKey, "kms:{k:key-1}", e)
	if !ok || !bytes.Equal(got.value, value) || !got.issued.Equal(issued) || !got.expires.Equal(expires) {
		t.Fatalf("round trip: %+v, %v", got, ok)
	}
	for i := range len(e) * 8 {
		flipped := bytes.Clone(e)
		flipped[i/8] ^= 1 << (i % 8)
		if _, ok := s.open(kindKey, "kms:{k:key-1}", flipped); ok {
			t.Fatalf("entry with bit %d flipped opened", i)
		}
	}
	for _, c := range []struct {
		name string
		s    sealer
		kind byte
		key  string
	}{
		{"another name", s, kindKey, "kms:{k:key-2}"},
		{"another kind", s, kindAlias, "kms:{k:key-1}"},
		{"another MAC key", sealer{bytes.Repeat([]byte{2}, 32)}, kindKey, "kms:{k:key-1}"},
	} {
		if _, ok := c.s.open(c.kind, c.key, e); ok {
			t.Errorf("entry opened under %s", c.name)
		}
	}
	for _, short := range [][]byte{nil, e[:headerSize+tagSize-1], e[:len(e)-1]} {
		if _, ok := s.open(kindKey, "kms:{k:key-1}", short); ok {
			t.Errorf("a %d-byte prefix of the entry opened", len(short))
		}
	}
}

// Marks never go back, and a full set forgets names but not how new they were.
func TestMarksForgetNamesButKeepTheNewestAsFloor(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	m := newMarks(2)
	m.raise("a", t0.Add(1))
	m.raise("a", t0) // older: ignored
	m.raise("b", t0.Add(2))
	if got := m.get("a"); !got.Equal(t0.Add(1)) {
		t.Fatalf("mark of a = %v, want the newer of its two", got)
	}
	if got := m.get("unseen"); !got.IsZero() {
		t.Fatalf("an unseen name has mark %v", got)
	}
	m.raise("c", t0.Add(3)) // full: forgets a and b
	for name, want := range map[string]time.Time{"a": t0.Add(2), "b": t0.Add(2), "unseen": t0.Add(2), "c": t0.Add(3)} {
		if got := m.get(name); !got.Equal(want) {
			t.Errorf("after forgetting, mark of %s = %v, want %v", name, got, want)
		}
	}
}
