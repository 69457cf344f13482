package core_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
)

func mustRoot(t *testing.T, raw []byte) *core.RootKey {
	t.Helper()
	rk, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return rk
}

func TestDeriveKeyIsPerPurposeAndPerRoot(t *testing.T) {
	rootA := bytes.Repeat([]byte{0xa5}, 32)
	rootB := bytes.Repeat([]byte{0x5a}, 32)
	a, b := mustRoot(t, rootA), mustRoot(t, rootB)
	const purpose = "kmsless/v1/redis-cache"

	k := a.DeriveKey(purpose)
	if len(k) != 32 {
		t.Fatalf("derived key is %d bytes, want 32", len(k))
	}
	if again := mustRoot(t, rootA).DeriveKey(purpose); !bytes.Equal(k, again) {
		t.Error("the same root and purpose gave two different keys")
	}
	if other := a.DeriveKey("kmsless/v1/other"); bytes.Equal(k, other) {
		t.Error("two purposes gave the same key")
	}
	if otherRoot := b.DeriveKey(purpose); bytes.Equal(k, otherRoot) {
		t.Error("two roots gave the same key for one purpose")
	}
	if bytes.Equal(k, rootA) {
		t.Error("the derived key is the root itself")
	}
	// Known answer: HKDF-SHA256 with the fixed salt and the purpose as info.
	// A change here changes every deployment's derived keys.
	want, err := hkdf.Key(sha256.New, rootA, []byte("kmsless/v1/root-derivation"), purpose, 32)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k, want) {
		t.Errorf("DeriveKey = %x, want HKDF-SHA256 %x", k, want)
	}
}

// Neither the root bytes nor the pseudorandom key derived keys come from may be
// printed, by any verb, through a pointer or a copy.
func TestRootKeyPrintsRedactedWithEveryVerb(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789abcdef")
	rk := mustRoot(t, raw)
	prk, err := hkdf.Extract(sha256.New, raw, []byte("kmsless/v1/root-derivation"))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		string(raw), hex.EncodeToString(raw), fmt.Sprint([]byte(raw)[:8])[1:20],
		hex.EncodeToString(prk), fmt.Sprint(prk[:8])[1:20],
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		for _, v := range []any{rk, *rk} {
			s := fmt.Sprintf(verb, v)
			if !strings.Contains(s, "redacted") {
				t.Errorf("%s of %T printed %q, want the placeholder", verb, v, s)
			}
			for _, secret := range secrets {
				if strings.Contains(s, secret) {
					t.Errorf("%s of %T printed root key material: %s", verb, v, s)
				}
			}
		}
	}
}
