package core_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
)

func TestParseEncryptionContext(t *testing.T) {
	cases := []struct {
		text string
		want core.EncryptionContext // nil with ok = empty context
		ok   bool
	}{
		{"", nil, true},
		{"{}", core.EncryptionContext{}, true},
		{` { "a" : "1" } `, core.EncryptionContext{"a": "1"}, true},
		{`{"a":"1","b":""}`, core.EncryptionContext{"a": "1", "b": ""}, true},
		{`{"\u00e9":"\n"}`, core.EncryptionContext{"é": "\n"}, true},
		{`{"a":"1","a":"1"}`, nil, false},
		{`{"a":1}`, nil, false},
		{`{"a":true}`, nil, false},
		{`{"a":{"b":"c"}}`, nil, false},
		{`{"a":["b"]}`, nil, false},
		{`{"a":null}`, nil, false},
		{`["a","b"]`, nil, false},
		{`"a"`, nil, false},
		{`null`, nil, false},
		{`{"a":"1"`, nil, false},
		{`{"a":"1"}x`, nil, false},
		{`{"a":"1"}{}`, nil, false},
		{`{'a':'1'}`, nil, false},
		{"{\"a\":\"\xff\"}", nil, false},
		{`{"a":"\ud800"}`, nil, false},
		{`{"a":"\udfff"}`, nil, false},
		{`{"a":"\ud800x"}`, nil, false},
		{`{"a":"\ud800\n"}`, nil, false},
		{`{"a":"\udc00\ud800"}`, nil, false},
		{`{"\ud800":"a"}`, nil, false},
		{`{"a":"\ufffd"}`, core.EncryptionContext{"a": "\ufffd"}, true},
		{`{"a":"\ud83d\ude00"}`, core.EncryptionContext{"a": "\U0001F600"}, true},
		{`{"a":"\\ud800"}`, core.EncryptionContext{"a": `\ud800`}, true},
	}
	for _, c := range cases {
		got, err := core.ParseEncryptionContext("EncryptionContext", c.text)
		if !c.ok {
			var ke *core.Error
			if !errors.As(err, &ke) || ke.Code != core.CodeInvalidParameter || !strings.Contains(ke.Message, "EncryptionContext") {
				t.Errorf("%q: got %v, want InvalidParameter naming EncryptionContext", c.text, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.text, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: %v, want %v", c.text, got, c.want)
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%q: [%q] = %q, want %q", c.text, k, got[k], v)
			}
		}
	}
}

// contextOfLength returns a JSON context whose text is exactly n characters
// (n ≥ 9), counting runes.
func contextOfLength(n int) string {
	const frame = `{"k":""}`
	return `{"k":"` + strings.Repeat("é", n-len(frame)) + `"}`
}

func TestEncryptionContextLengthLimit(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	at := contextOfLength(core.MaxEncryptionContextLen)
	blob := f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id, "EncryptionContext", at).(*alibaba.CiphertextResponse).CiphertextBlob
	f.ok("Decrypt", "CiphertextBlob", blob, "EncryptionContext", at)

	over := contextOfLength(core.MaxEncryptionContextLen + 1)
	for _, c := range [][]string{
		{"GenerateDataKeyWithoutPlaintext", "KeyId", id, "EncryptionContext", over},
		{"Encrypt", "KeyId", id, "Plaintext", "aGk=", "EncryptionContext", over},
		{"Decrypt", "CiphertextBlob", blob, "EncryptionContext", over},
		{"ReEncrypt", "CiphertextBlob", blob, "SourceEncryptionContext", at, "DestinationKeyId", id, "DestinationEncryptionContext", over},
	} {
		_, err := f.call(c[0], c[1:]...)
		if ke := mustCode(t, err, core.CodeInvalidParameter); !strings.Contains(ke.Message, "EncryptionContext") || !strings.Contains(ke.Message, "8192") {
			t.Errorf("%s: message %q", c[0], ke.Message)
		}
	}
}

func TestEncryptionContextKeyOrderDoesNotMatterForDecrypt(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	blob := f.ok("Encrypt", "KeyId", id, "Plaintext", "aGk=", "EncryptionContext", `{"z":"1","a":"2","m":"3"}`).(*alibaba.CiphertextResponse).CiphertextBlob
	for _, ctx := range []string{`{"a":"2","m":"3","z":"1"}`, `{"m":"3","z":"1","a":"2"}`, ` {"z" : "1", "a":"2", "m":"3"} `} {
		f.ok("Decrypt", "CiphertextBlob", blob, "EncryptionContext", ctx)
	}
}

func TestContextBoundariesAreBoundToTheBlob(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	blob := f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id, "EncryptionContext", `{"ab":"c"}`).(*alibaba.CiphertextResponse).CiphertextBlob
	_, err := f.call("Decrypt", "CiphertextBlob", blob, "EncryptionContext", `{"a":"bc"}`)
	mustCode(t, err, core.CodeInvalidCiphertext)
	other := f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id, "EncryptionContext", `{"a":"bc"}`).(*alibaba.CiphertextResponse).CiphertextBlob
	_, err = f.call("Decrypt", "CiphertextBlob", other, "EncryptionContext", `{"ab":"c"}`)
	mustCode(t, err, core.CodeInvalidCiphertext)
}
