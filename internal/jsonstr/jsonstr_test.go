package jsonstr_test

import (
	"encoding/json"
	"testing"

	"github.com/kmsless/kmsless/internal/jsonstr"
)

// FuzzAppendMatchesEncodingJSON: every string, valid UTF-8 or not, is written
// as encoding/json writes it.
func FuzzAppendMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{"", "plain", "a\"b\\c\n\r\t\b\f\x00\x1f", "<a>&", "\u2028\u2029é", "\xff\xfe bad", "Rejected.Throttling"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonstr.Append([]byte("x"), s); string(got) != "x"+string(want) {
			t.Fatalf("%q: %s, encoding/json %s", s, got, want)
		}
	})
}
