package awsjson_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// OpenSSL as SM2's judge through the AWS SDK for Go: it reads GetPublicKey's
// key and verifies Sign's signature of a RAW message over SM3 with the ID
// AWS documents, encrypts to the key what Decrypt opens, and reads an SM2
// data key pair's PKCS #8 as the pair's public key.
func TestSM2AgainstOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed: SM2 is not checked against it")
	}
	dir := t.TempDir()
	file := func(name string, b []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	openssl := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command("openssl", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
		return out
	}
	e := newEnv(t)
	newKey := func(usage types.KeyUsageType) (*string, string) {
		made, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{KeySpec: types.KeySpecSm2, KeyUsage: usage})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := e.aws.GetPublicKey(bg, &kms.GetPublicKeyInput{KeyId: made.KeyMetadata.KeyId})
		if err != nil {
			t.Fatal(err)
		}
		return made.KeyMetadata.KeyId, file(string(usage)+".der", pub.PublicKey)
	}

	signer, signerPub := newKey(types.KeyUsageTypeSignVerify)
	msg := []byte("release 1.2.3 checksums")
	signed, err := e.aws.Sign(bg, &kms.SignInput{KeyId: signer, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecSm2dsa})
	if err != nil {
		t.Fatal(err)
	}
	verify := []string{"pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey", signerPub, "-rawin", "-digest", "sm3",
		"-pkeyopt", "distid:1234567812345678", "-in", file("msg", msg), "-sigfile", file("sig", signed.Signature)}
	if out := openssl(verify...); !bytes.Contains(out, []byte("Verified Successfully")) {
		t.Fatalf("openssl does not verify the signature: %s", out)
	}
	verify[len(verify)-3] = file("other", []byte("release 1.2.4 checksums"))
	if out, err := exec.Command("openssl", verify...).CombinedOutput(); err == nil {
		t.Fatalf("openssl verifies the signature over another message: %s", out)
	}

	sealer, sealerPub := newKey(types.KeyUsageTypeEncryptDecrypt)
	secret := []byte("sealed by openssl")
	ct := filepath.Join(dir, "ct")
	openssl("pkeyutl", "-encrypt", "-pubin", "-keyform", "DER", "-inkey", sealerPub, "-in", file("pt", secret), "-out", ct)
	blob, err := os.ReadFile(ct)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := e.aws.Decrypt(bg, &kms.DecryptInput{KeyId: sealer, CiphertextBlob: blob, EncryptionAlgorithm: types.EncryptionAlgorithmSpecSm2pke})
	if err != nil || !bytes.Equal(dec.Plaintext, secret) {
		t.Fatalf("Decrypt of openssl's SM2 ciphertext: %v", err)
	}

	aes, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := e.aws.GenerateDataKeyPair(bg, &kms.GenerateDataKeyPairInput{KeyId: aes.KeyMetadata.KeyId, KeyPairSpec: types.DataKeyPairSpecSm2})
	if err != nil {
		t.Fatal(err)
	}
	derived := openssl("pkey", "-inform", "DER", "-in", file("pair.der", pair.PrivateKeyPlaintext), "-pubout", "-outform", "DER")
	if !bytes.Equal(derived, pair.PublicKey) {
		t.Error("openssl derives another public key from the pair's private key than the pair's")
	}
}
