package trigger

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzMembersAgreesWithEncodingJSON: on every JSON object, members yields the
// members encoding/json decodes, and it never accepts what is not an object.
func FuzzMembersAgreesWithEncodingJSON(f *testing.F) {
	for _, b := range sampleEvents(f) {
		f.Add(b)
	}
	for _, s := range []string{`{}`, ` { "a" : [1, {"b":"}\"]"}] , "vers\u0069on":"2.0"} `, `{"a":}`, `{"a":1,}`, `[1]`, `{"a":"\\"}`, `{"a":{"b":[}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		if !utf8.Valid(event) {
			return // encoding/json alters invalid names, which no trigger key equals anyway
		}
		got := map[string][]byte{}
		ok := members(event, func(name, value []byte) { got[string(name)] = value })
		var want map[string]json.RawMessage
		if json.Unmarshal(event, &want) != nil || want == nil {
			if ok && json.Valid(event) {
				t.Fatalf("members accepted %q, which is not a JSON object", event)
			}
			return
		}
		if !ok {
			t.Fatalf("members refused the JSON object %q", event)
		}
		if len(got) != len(want) {
			t.Fatalf("members found %d names in %q, encoding/json %d", len(got), event, len(want))
		}
		for name, raw := range want {
			if !bytes.Equal(got[name], bytes.TrimSpace(raw)) {
				t.Fatalf("member %q of %q: members %q, encoding/json %q", name, event, got[name], raw)
			}
		}
	})
}

// sampleEvents is every sample event under events/, by file name.
func sampleEvents(tb testing.TB) map[string][]byte {
	tb.Helper()
	names, _ := filepath.Glob(filepath.Join("..", "..", "events", "*", "*.json"))
	out := make(map[string][]byte, len(names))
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		out[name] = b
	}
	return out
}
