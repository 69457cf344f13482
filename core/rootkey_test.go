package core_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
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

func TestNewRootKeyRefusesWrongSizes(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := core.NewRootKey(make([]byte, n)); err == nil {
			t.Errorf("a %d-byte root key was accepted", n)
		}
	}
}
