package sealed_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/sealed"
)

func newRoot(t *testing.T) *core.RootKey {
	t.Helper()
	raw, err := core.GenerateRootKey()
	if err != nil {
		t.Fatal(err)
	}
	defer clear(raw)
	r, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const secret = "accessKeySecret: do-not-show-me-0001"

func TestSealedSecretOpensUnderItsRootKeyOnly(t *testing.T) {
	root, other := newRoot(t), newRoot(t)
	text, err := sealed.Seal(root, sealed.Principals, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "do-not-show-me") || !sealed.IsSealed([]byte(text)) || !strings.Contains(text, root.ID()) {
		t.Fatalf("sealed text %q", text)
	}
	got, err := sealed.Open([]byte(text), sealed.Principals, other, root)
	if err != nil || string(got) != secret {
		t.Fatalf("Open with the sealing key among others = %q, %v", got, err)
	}
	_, err = sealed.Open([]byte(text), sealed.Principals, other)
	if err == nil || !strings.Contains(err.Error(), "sealed under root key "+root.ID()+", which is not configured") {
		t.Fatalf("Open under another root key: %v", err)
	}
	_, err = sealed.Open([]byte(text), sealed.StorePassword, root)
	if err == nil || !strings.Contains(err.Error(), "sealed as principals, not as store-password") {
		t.Fatalf("Open as another kind: %v", err)
	}
	if sealed.IsSealed([]byte(secret)) {
		t.Fatal("a plaintext file reads as sealed")
	}
}

func TestTamperingWithASealedSecretIsDetected(t *testing.T) {
	root, other := newRoot(t), newRoot(t)
	text, err := sealed.Seal(root, sealed.StorePassword, []byte("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(text)
	data, err := base64.RawURLEncoding.DecodeString(fields[3])
	if err != nil {
		t.Fatal(err)
	}
	// Every bit of the data flipped in turn.
	for i := range len(data) * 8 {
		changed := bytes.Clone(data)
		changed[i/8] ^= 1 << (i % 8)
		forged := strings.Join([]string{fields[0], fields[1], fields[2], base64.RawURLEncoding.EncodeToString(changed)}, " ")
		if _, err := sealed.Open([]byte(forged), sealed.StorePassword, root); err == nil || !strings.Contains(err.Error(), "changed or damaged") {
			t.Fatalf("bit %d flipped: %v", i, err)
		}
	}
	for name, forged := range map[string]string{
		"relabelled as another kind": strings.Join([]string{fields[0], sealed.Principals, fields[2], fields[3]}, " "),
		"naming another root key":    strings.Join([]string{fields[0], fields[1], other.ID(), fields[3]}, " "),
		"truncated":                  strings.Join([]string{fields[0], fields[1], fields[2], fields[3][:20]}, " "),
		"not base64":                 strings.Join([]string{fields[0], fields[1], fields[2], "%%%%"}, " "),
		"missing a field":            strings.Join(fields[:3], " "),
	} {
		kind := sealed.StorePassword
		if strings.Contains(name, "kind") {
			kind = sealed.Principals
		}
		got, err := sealed.Open([]byte(forged), kind, root, other)
		if err == nil {
			t.Fatalf("%s: opened as %q", name, got)
		}
		if strings.Contains(err.Error(), fields[3][:12]) {
			t.Fatalf("%s: the error quotes the sealed data: %v", name, err)
		}
	}
}
