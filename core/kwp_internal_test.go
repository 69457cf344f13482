package core

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// kwpUnwrap opens RFC 5649's own examples, and refuses each of them
// altered anywhere, cut short, or under another key.
func TestKWPUnwrapsRFC5649sExamples(t *testing.T) {
	kek, _ := hex.DecodeString("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")
	for _, c := range []struct{ key, wrapped string }{
		{"c37b7e6492584340bed12207808941155068f738", "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"},
		{"466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"},
	} {
		want, _ := hex.DecodeString(c.key)
		wrapped, _ := hex.DecodeString(c.wrapped)
		got, err := kwpUnwrap(kek, wrapped)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("unwrap %s: %x, %v; want %s", c.wrapped, got, err, c.key)
		}
		for i := range wrapped {
			altered := bytes.Clone(wrapped)
			altered[i] ^= 0x01
			if _, err := kwpUnwrap(kek, altered); err == nil {
				t.Errorf("unwrap %s altered at byte %d: no error", c.wrapped, i)
			}
		}
		if _, err := kwpUnwrap(kek, wrapped[:len(wrapped)-8]); err == nil {
			t.Errorf("unwrap %s cut short: no error", c.wrapped)
		}
		other := bytes.Clone(kek)
		other[0] ^= 1
		if _, err := kwpUnwrap(other, wrapped); err == nil {
			t.Errorf("unwrap %s under another key: no error", c.wrapped)
		}
	}
}
