package core

import (
	"maps"
	"testing"
	"unicode/utf8"
)

// FuzzContextFastPathAgreesWithTokens: the one-call decode that accepts the
// usual context accepts exactly what the token reader accepts, as the same map.
func FuzzContextFastPathAgreesWithTokens(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"1"}`, `{"a":"1","a":"1"}`, `{"a":"1","\u0061":"2"}`, `{"a":null}`, `{"a":"n:"}`,
		`{"a\"":":"}`, `{"a":"\\"}`, `{"a":1}`, `{"a":{"b":"c"}}`, `null`, ` {"a" : "b"} `, `{"a":"b"}{}`, `{"a":"b",}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if text == "" || utf8.RuneCountInString(text) > MaxEncryptionContextLen || !utf8.ValidString(text) || hasLoneSurrogate(text) {
			return // refused before either reader runs
		}
		got, err := ParseEncryptionContext("EncryptionContext", text)
		want, werr := parseContextTokens("EncryptionContext", text)
		if (err == nil) != (werr == nil) || !maps.Equal(got, want) {
			t.Fatalf("%q: parsed %v (%v), the token reader %v (%v)", text, got, err, want, werr)
		}
	})
}
