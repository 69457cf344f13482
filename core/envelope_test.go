package core_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
)

// TestDecryptRejectsEverySingleBitFlip flips each bit of a real blob in turn:
// header, nonce, ciphertext and tag alike must fail as InvalidCiphertext.
func TestDecryptRejectsEverySingleBitFlip(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	f.createKey() // a second key, so a flip may land on an ID that could exist
	const ctx = `{"tenant":"acme"}`
	blob := f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id, "NumberOfBytes", "32", "EncryptionContext", ctx).(*alibaba.CiphertextResponse).CiphertextBlob
	raw, err := base64.StdEncoding.DecodeString(blob)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(raw) * 8 {
		flipped := bytes.Clone(raw)
		flipped[i/8] ^= 1 << (i % 8)
		_, err := f.call("Decrypt", "CiphertextBlob", base64.StdEncoding.EncodeToString(flipped), "EncryptionContext", ctx)
		var ke *core.Error
		if !errors.As(err, &ke) || ke.Code != core.CodeInvalidCiphertext {
			t.Fatalf("bit %d (byte %d of %d) flipped: got %v, want InvalidCiphertext", i, i/8, len(raw), err)
		}
	}
	f.ok("Decrypt", "CiphertextBlob", blob, "EncryptionContext", ctx)
}

// recordingAEAD is AES-GCM that remembers the additional data of its last Seal.
type recordingAEAD struct {
	cipher.AEAD
	aad []byte
}

func (r *recordingAEAD) Seal(dst, nonce, plaintext, aad []byte) []byte {
	r.aad = bytes.Clone(aad)
	return r.AEAD.Seal(dst, nonce, plaintext, aad)
}

// sealBlob seals through the envelope of one key version.
func sealBlob(aead cipher.AEAD, rand io.Reader, keyID, versionID string, ctx core.EncryptionContext, pt []byte) ([]byte, error) {
	env, err := core.NewEnvelope(aead, keyID, versionID)
	if err != nil {
		return nil, err
	}
	return env.Seal(rand, ctx, pt)
}

// openBlob opens a parsed blob through the envelope of the version it names.
func openBlob(aead cipher.AEAD, bl core.Blob, ctx core.EncryptionContext) ([]byte, error) {
	env, err := core.NewEnvelope(aead, bl.KeyID, bl.VersionID)
	if err != nil {
		return nil, err
	}
	return env.Open(bl, ctx)
}

func testAEAD(t testing.TB) cipher.AEAD {
	block, err := aes.NewCipher(bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// zeroReader supplies all-zero nonces for deterministic vectors.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestContextFieldBoundariesChangeTheAAD(t *testing.T) {
	rec := &recordingAEAD{AEAD: testAEAD(t)}
	seal := func(ctx core.EncryptionContext) ([]byte, []byte) {
		blob, err := sealBlob(rec, zeroReader{}, "key-a", "v1", ctx, []byte("data key"))
		if err != nil {
			t.Fatal(err)
		}
		return blob, rec.aad
	}
	blobAB, aadAB := seal(core.EncryptionContext{"ab": "c"})
	_, aadA := seal(core.EncryptionContext{"a": "bc"})
	if bytes.Equal(aadAB, aadA) {
		t.Fatalf(`{"ab":"c"} and {"a":"bc"} give the same AAD %x`, aadAB)
	}
	bl, err := core.ParseBlob(blobAB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openBlob(rec, bl, core.EncryptionContext{"a": "bc"}); err == nil {
		t.Fatal(`a blob sealed under {"ab":"c"} opened under {"a":"bc"}`)
	}
	if _, err := openBlob(rec, bl, core.EncryptionContext{"ab": "c"}); err != nil {
		t.Fatalf("the blob does not open under its own context: %v", err)
	}

	// Pairs that a separator-free or unprefixed encoding would confuse.
	for _, pair := range [][2]core.EncryptionContext{
		{{"a": "b", "c": "d"}, {"a": "bc", "": "d"}},
		{{"ab": ""}, {"a": "b"}},
		{{"": "ab"}, {"a": "b"}},
		{nil, {"": ""}},
	} {
		_, x := seal(pair[0])
		_, y := seal(pair[1])
		if bytes.Equal(x, y) {
			t.Errorf("%v and %v give the same AAD", pair[0], pair[1])
		}
	}
}

func TestContextKeyOrderDoesNotChangeTheAAD(t *testing.T) {
	rec := &recordingAEAD{AEAD: testAEAD(t)}
	var first []byte
	for _, text := range []string{`{"a":"1","b":"2","c":"3"}`, `{"c":"3","a":"1","b":"2"}`, `{"b":"2","c":"3","a":"1"}`} {
		ctx, err := core.ParseEncryptionContext("EncryptionContext", text)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sealBlob(rec, zeroReader{}, "key-a", "v1", ctx, []byte("k")); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = rec.aad
		} else if !bytes.Equal(first, rec.aad) {
			t.Fatalf("%s gives another AAD", text)
		}
	}
}

// TestBlobFormatVersion1 pins the version-1 wire format: header layout, nonce
// position and the AES-GCM output for a fixed key, nonce and context. A change
// here breaks every stored ciphertext. The expected bytes were computed apart
// from this code, with another AES-GCM implementation, from the documented
// layout: AAD = header || uint32 count || (uint32 len, key, uint32 len, value)….
func TestBlobFormatVersion1(t *testing.T) {
	blob, err := sealBlob(testAEAD(t), zeroReader{}, "key-abc", "ver-1", core.EncryptionContext{"k": "v"}, []byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	const want = "01076b65792d616263057665722d31000000000000000000000000" +
		"c483cdca68b9b3d0a1762a6d52efd0378d9b939b5ad5a03954e5a99d5b65dd34"
	if got := hex.EncodeToString(blob); got != want {
		t.Fatalf("version-1 blob changed:\n got %s\nwant %s", got, want)
	}
	bl, err := core.ParseBlob(blob)
	if err != nil || bl.KeyID != "key-abc" || bl.VersionID != "ver-1" {
		t.Fatalf("ParseBlob: %+v, %v", bl, err)
	}
	pt, err := openBlob(testAEAD(t), bl, core.EncryptionContext{"k": "v"})
	if err != nil || string(pt) != "0123456789abcdef" {
		t.Fatalf("Open: %q, %v", pt, err)
	}
}

func TestParseBlobRejectsMalformedHeaders(t *testing.T) {
	good, err := sealBlob(testAEAD(t), zeroReader{}, "key-a", "v1", nil, []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"empty":               nil,
		"version only":        {1},
		"unknown version":     append([]byte{2}, good[1:]...),
		"zero key ID length":  {1, 0, 2, 'v', '1'},
		"key ID past the end": {1, 200, 'k'},
		"zero version length": append([]byte{1, 5, 'k', 'e', 'y', '-', 'a', 0}, make([]byte, 28)...),
		"truncated tag":       good[:len(good)-1-len("k")],
		"no nonce":            good[:2+len("key-a")+1+len("v1")],
	} {
		if _, err := core.ParseBlob(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	if _, err := core.ParseBlob(good); err != nil {
		t.Fatalf("the well-formed blob does not parse: %v", err)
	}
}

func TestSealBlobRefusesIDsThatDoNotFitTheHeader(t *testing.T) {
	a := testAEAD(t)
	long := string(bytes.Repeat([]byte{'k'}, 256))
	for _, ids := range [][2]string{{"", "v"}, {"k", ""}, {long, "v"}, {"k", long}} {
		if _, err := sealBlob(a, zeroReader{}, ids[0], ids[1], nil, []byte("x")); err == nil {
			t.Errorf("IDs of %d and %d bytes were accepted", len(ids[0]), len(ids[1]))
		}
	}
}
