package core_test

import (
	"bytes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	tjfoc "github.com/tjfoc/gmsm/sm4"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
)

func (f *svcFixture) encryptTo(key, plaintext string, kv ...string) string {
	f.t.Helper()
	return f.ok("Encrypt", append([]string{"KeyId", key, "Plaintext", base64.StdEncoding.EncodeToString([]byte(plaintext))}, kv...)...).(*alibaba.CiphertextResponse).CiphertextBlob
}

func (f *svcFixture) decryptOf(blob string, kv ...string) string {
	f.t.Helper()
	pt, err := base64.StdEncoding.DecodeString(f.ok("Decrypt", append([]string{"CiphertextBlob", blob}, kv...)...).(*alibaba.DecryptResponse).Plaintext)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(pt)
}

// TestSM4Keys: an Aliyun_SM4 key is a symmetric encryption key as an
// Aliyun_AES_256 key is, through every envelope operation, rotation and
// ReEncrypt to and from an AES key, and conditions read its spec.
func TestSM4Keys(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey("KeySpec", "Aliyun_SM4", "EnableAutomaticRotation", "true", "RotationInterval", "2592000s")
	if md := f.describe(key); md.KeySpec != core.SpecSM4 || md.KeyUsage != core.UsageEncrypt {
		t.Fatalf("DescribeKey of an SM4 key = %+v", md)
	}
	ctx := []string{"EncryptionContext", `{"tenant":"a"}`}
	blob := f.encryptTo(key, "sm4 secret", ctx...)
	if got := f.decryptOf(blob, ctx...); got != "sm4 secret" {
		t.Fatalf("Decrypt = %q", got)
	}
	_, err := f.call("Decrypt", "CiphertextBlob", blob, "EncryptionContext", `{"tenant":"b"}`)
	mustCode(t, err, core.CodeInvalidCiphertext)

	dk := f.ok("GenerateDataKey", "KeyId", key, "NumberOfBytes", "16").(*alibaba.DataKeyResponse)
	if plain, _ := base64.StdEncoding.DecodeString(dk.Plaintext); len(plain) != 16 || f.decryptOf(dk.CiphertextBlob) != string(plain) {
		t.Fatalf("GenerateDataKey under an SM4 key = %+v", dk)
	}

	// Rotation keeps the old version's blobs open.
	f.ok("CreateKeyVersion", "KeyId", key)
	if got := f.decryptOf(blob, ctx...); got != "sm4 secret" {
		t.Fatalf("Decrypt after rotation = %q", got)
	}
	// ReEncrypt between SM4 and AES keys, both ways.
	aes := f.createKey()
	toAES := f.ok("ReEncrypt", "CiphertextBlob", blob, "SourceEncryptionContext", `{"tenant":"a"}`, "DestinationKeyId", aes).(*alibaba.CiphertextResponse)
	back := f.ok("ReEncrypt", "CiphertextBlob", toAES.CiphertextBlob, "DestinationKeyId", key).(*alibaba.CiphertextResponse)
	if back.KeyId != key || f.decryptOf(back.CiphertextBlob) != "sm4 secret" {
		t.Fatalf("ReEncrypt to AES and back = %+v", back)
	}

	// kms:KeySpec reads it.
	sm4Only := &core.Principal{Name: "sm4-only", AccessKeyID: "LTAIsm4only", Secret: core.NewSecret("s"), Policy: core.MustPolicy(core.Statement{
		Effect: "Allow", Action: []string{"kms:Encrypt"}, Resource: []string{"*"},
		Condition: []core.Condition{{Operator: "StringEquals", Key: "kms:KeySpec", Values: []string{"Aliyun_SM4"}}},
	})}
	if _, err := f.as(sm4Only, "Encrypt", "KeyId", key, "Plaintext", "aGk="); err != nil {
		t.Fatalf("Encrypt under kms:KeySpec Aliyun_SM4: %v", err)
	}
	_, err = f.as(sm4Only, "Encrypt", "KeyId", aes, "Plaintext", "aGk=")
	mustCode(t, err, core.CodeNoPermission)

	// It encrypts and decrypts, and nothing else.
	_, err = f.call("CreateKey", "KeySpec", "Aliyun_SM4", "KeyUsage", "SIGN/VERIFY")
	mustCode(t, err, core.CodeInvalidParameter)
	_, err = f.call("AsymmetricSign", "KeyId", key, "KeyVersionId", f.describe(key).PrimaryKeyVersion, "Algorithm", "RSA_PSS_SHA_256", "Digest", base64.StdEncoding.EncodeToString(make([]byte, 32)))
	if err == nil {
		t.Fatal("AsymmetricSign under an SM4 key")
	}
}

// TestSM4EnvelopeIsSM4GCM: a blob sealed under an SM4 key whose material
// was imported opens with another SM4 implementation's block cipher (the
// tjfoc package, checked here against GB/T 32907's own example) under
// crypto/cipher's GCM, with the AAD the blob format documents. Material of
// AES's size is refused.
func TestSM4EnvelopeIsSM4GCM(t *testing.T) {
	// GB/T 32907-2016, appendix A, example 1.
	vector, _ := hex.DecodeString("0123456789abcdeffedcba9876543210")
	block, err := tjfoc.NewCipher(vector)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 16)
	block.Encrypt(out, vector)
	if hex.EncodeToString(out) != "681edf34d206965e86b3e94f536e4246" {
		t.Fatalf("the judge's SM4 gives %x for the standard's example", out)
	}

	f := newSvcFixture(t)
	key := f.createKey("KeySpec", "Aliyun_SM4", "Origin", "EXTERNAL")
	err = importer(t, f.svc, key)(bytes.Repeat([]byte{7}, 32))
	mustCode(t, err, core.CodeInvalidKeyMaterial)
	material := []byte("sixteen byte key")
	if err := importer(t, f.svc, key)(material); err != nil {
		t.Fatalf("ImportKeyMaterial of 16 bytes into an SM4 key: %v", err)
	}
	blob, err := base64.StdEncoding.DecodeString(f.encryptTo(key, "opened elsewhere", "EncryptionContext", `{"k":"v","a":"b"}`))
	if err != nil {
		t.Fatal(err)
	}
	// Version 1: the version byte, the key ID and the version ID, each
	// after its length, then the nonce and the sealed text.
	idEnd := 2 + int(blob[1])
	header := blob[:idEnd+1+int(blob[idEnd])]
	if blob[0] != 1 || string(blob[2:idEnd]) != key {
		t.Fatalf("the blob's header %q does not name the key", header)
	}
	nonce, sealed := blob[len(header):len(header)+12], blob[len(header)+12:]
	// The AAD: the header, then the context's pairs by key, each part
	// after its 4-byte length, after their count.
	aad := binary.BigEndian.AppendUint32(append([]byte(nil), header...), 2)
	for _, s := range []string{"a", "b", "k", "v"} {
		aad = append(binary.BigEndian.AppendUint32(aad, uint32(len(s))), s...)
	}
	block, err = tjfoc.NewCipher(material)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := gcm.Open(nil, nonce, sealed, aad)
	if err != nil || string(pt) != "opened elsewhere" {
		t.Fatalf("SM4-GCM by another implementation = %q, %v", pt, err)
	}
	if !strings.Contains(f.decryptOf(base64.StdEncoding.EncodeToString(blob), "EncryptionContext", `{"a":"b","k":"v"}`), "elsewhere") {
		t.Fatal("Decrypt of the same blob")
	}
}
