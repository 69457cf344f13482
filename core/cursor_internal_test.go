package core

import "testing"

// A cursor survives its token, whatever its text; anything else is refused.
func TestTagCursorTokenRoundTrips(t *testing.T) {
	for _, c := range []tagCursor{
		{"key-0123456789abcdefghijklmn", "team"},
		{"key-x", `a:b/c\d_e-f.g+h=i@j k`},
		{"key-x", "标签"},
	} {
		got, ok := parseTagCursor(c.token())
		if !ok || got != c {
			t.Errorf("%+v: the token reads as %+v, %v", c, got, ok)
		}
	}
	valid := tagCursor{"key-x", "team"}.token()
	for _, bad := range []string{"", "!!", "AQ", "AgV" + valid[3:], valid + "AA", valid[:len(valid)-1], string(make([]byte, maxTokenLen+1))} {
		if c, ok := parseTagCursor(bad); ok {
			t.Errorf("token %q read as %+v", bad, c)
		}
	}
}
