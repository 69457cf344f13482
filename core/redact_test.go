package core_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
)

// printVerbs are the verbs a log line or an error message may use.
var printVerbs = []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"}

// encodings are the ways a secret's bytes may show up in text: however fmt
// renders a byte slice (each verb, inside its brackets or quotes), and base64.
func encodings(secret []byte) []string {
	var out []string
	for _, verb := range printVerbs {
		s := fmt.Sprintf(verb, secret)
		s = strings.TrimPrefix(s, "[]byte{")
		s = strings.Trim(s, `[]{}"`)
		out = append(out, s)
	}
	return append(out, base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret))
}

// leaks reports the first rendering of v, by any print verb or as JSON, that
// holds secret in any encoding, and "" if none does.
func leaks(v any, secret []byte) string {
	renderings := make([]string, 0, len(printVerbs)+1)
	for _, verb := range printVerbs {
		renderings = append(renderings, verb+" → "+fmt.Sprintf(verb, v))
	}
	if j, err := json.Marshal(v); err == nil {
		renderings = append(renderings, "JSON → "+string(j))
	}
	for _, r := range renderings {
		if holds(r, secret) {
			return r
		}
	}
	return ""
}

// holds reports whether text holds secret in any encoding.
func holds(text string, secret []byte) bool {
	for _, n := range encodings(secret) {
		if strings.Contains(text, n) {
			return true
		}
	}
	return false
}

// holders are the ways a value reaches a print: itself, through a pointer or
// a copy held in exported and in unexported fields (which fmt prints without
// calling their methods), in a slice and in a map.
func holders[T any](v *T) map[string]any {
	type held struct {
		Name  string
		Ptr   *T
		Value T
	}
	type hiddenPtr struct {
		name string
		ptr  *T
	}
	type hiddenValue struct {
		name  string
		value T
	}
	return map[string]any{
		"pointer":                  v,
		"value":                    *v,
		"struct holding":           held{Name: "h", Ptr: v, Value: *v},
		"pointer to struct":        &held{Name: "h", Ptr: v, Value: *v},
		"struct of struct":         struct{ Inner held }{held{Value: *v}},
		"unexported pointer":       hiddenPtr{name: "h", ptr: v},
		"unexported pointer, deep": &struct{ inner hiddenPtr }{hiddenPtr{ptr: v}},
		"unexported value":         hiddenValue{name: "h", value: *v},
		"unexported value, deep":   &struct{ inner hiddenValue }{hiddenValue{value: *v}},
		"slice holding":            []any{v, *v},
		"map holding":              map[string]T{"k": *v},
	}
}

// The detector must catch a leak: a struct like RootKey without its redacting
// methods shows its bytes in every verb's rendering, and through every holder
// by some verb.
func TestLeaksCatchesAPrintedSecret(t *testing.T) {
	type unredacted struct {
		note string
		prk  []byte
	}
	secret := []byte("\x00\x01 a secret\xff\xfe with \"quotes\" and bytes")
	v := &unredacted{note: "n", prk: secret}
	for _, verb := range printVerbs {
		if s := fmt.Sprintf(verb, *v); !holds(s, secret) {
			t.Errorf("%s shows the secret, but the detector did not see it: %s", verb, s)
		}
	}
	for name, h := range holders(v) {
		if leaks(h, secret) == "" {
			t.Errorf("the %s holder never shows an unredacted secret: it tests nothing", name)
		}
	}
}

// Neither the root bytes nor the pseudorandom key that derived keys come from
// may be printed, by any verb, through a pointer, a copy or anything holding
// either.
func TestRootKeyNeverPrints(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789abcdef")
	rk := mustRoot(t, raw)
	prk, err := hkdf.Extract(sha256.New, raw, []byte("kmsless/v1/root-derivation"))
	if err != nil {
		t.Fatal(err)
	}
	// The prk above must be the one the RootKey holds, or looking for it
	// proves nothing.
	if want, _ := hkdf.Expand(sha256.New, prk, "kmsless/v1/probe", 32); !bytes.Equal(rk.DeriveKey("kmsless/v1/probe"), want) {
		t.Fatal("the test's pseudorandom key is not the RootKey's: update the salt here")
	}
	all := holders(rk)
	// A RootKey is only ever handed out by pointer (NewRootKey). A copy held in
	// an unexported field is printed by fmt field by field, without its
	// methods, down into the AES key schedule; no type can redact that.
	delete(all, "unexported value")
	delete(all, "unexported value, deep")
	for name, h := range all {
		for what, secret := range map[string][]byte{"root bytes": raw, "pseudorandom key": prk} {
			if r := leaks(h, secret); r != "" {
				t.Errorf("%s of the root key printed its %s: %s", name, what, r)
			}
		}
	}
}

// An AccessKeySecret never prints, whatever holds it: the principal it
// belongs to included.
func TestSecretNeverPrints(t *testing.T) {
	raw := []byte("hunter2-secret")
	sec := core.NewSecret(string(raw))
	for name, h := range holders(&sec) {
		if r := leaks(h, raw); r != "" {
			t.Errorf("%s of a secret printed it: %s", name, r)
		}
	}
	p := &core.Principal{Name: "app", AccessKeyID: "LTAIapp", Secret: sec, Policy: core.FullAccess()}
	for name, h := range holders(p) {
		if r := leaks(h, raw); r != "" {
			t.Errorf("%s of a principal printed its secret: %s", name, r)
		}
	}
}
