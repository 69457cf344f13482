package instance_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/alibabacloud-go/tea/tea"
	dkmsutil "github.com/aliyun/alibabacloud-dkms-gcs-go-sdk/openapi-util"
	dkms "github.com/aliyun/alibabacloud-dkms-gcs-go-sdk/sdk"

	"github.com/kmsless/kmsless/core"
)

// noRetry keeps the SDK from retrying a refusal, so that a test sees it.
var noRetry = &dkmsutil.RuntimeOptions{Autoretry: tea.Bool(false)}

// sdkCode is the code of the SDK's error, or "" for none.
func sdkCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("not an SDK error: %v", err)
	}
	return tea.StringValue(se.Code)
}

// Alibaba's KMS instance SDK encrypts and decrypts under a key made here:
// the answer names the key and the IV, Decrypt takes them back, and an Aad
// binds the blob to itself. The Advance APIs answer the key version; a blob
// sealed with an Aad opens through core with the context it stands for.
func TestSDKEncryptDecrypt(t *testing.T) {
	e := newEnv(t)
	id := e.createKey("", "")
	aad := []byte("tenant=acme")
	enc, err := e.client.EncryptWithOptions(&dkms.EncryptRequest{KeyId: tea.String(id), Plaintext: []byte("orders"), Aad: aad}, noRetry)
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(enc.KeyId) != id || len(enc.Iv) != 12 || len(enc.CiphertextBlob) == 0 || tea.StringValue(enc.RequestId) == "" {
		t.Fatalf("Encrypt answered KeyId %q, %d IV bytes, %d blob bytes, RequestId %q", tea.StringValue(enc.KeyId), len(enc.Iv), len(enc.CiphertextBlob), tea.StringValue(enc.RequestId))
	}
	dec, err := e.client.DecryptWithOptions(&dkms.DecryptRequest{KeyId: enc.KeyId, CiphertextBlob: enc.CiphertextBlob, Iv: enc.Iv, Aad: aad}, noRetry)
	if err != nil {
		t.Fatal(err)
	}
	if string(dec.Plaintext) != "orders" || tea.StringValue(dec.KeyId) != id {
		t.Fatalf("Decrypt gave %q under %q", dec.Plaintext, tea.StringValue(dec.KeyId))
	}
	opened := e.do("Decrypt", core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(enc.CiphertextBlob),
		"EncryptionContext": `{"":"` + base64.StdEncoding.EncodeToString(aad) + `"}`}).(core.Opened)
	if string(opened.Plaintext) != "orders" {
		t.Fatalf("core opened %q", opened.Plaintext)
	}

	for name, req := range map[string]*dkms.DecryptRequest{
		"another Aad":    {CiphertextBlob: enc.CiphertextBlob, Iv: enc.Iv, Aad: []byte("tenant=other")},
		"no Aad":         {CiphertextBlob: enc.CiphertextBlob, Iv: enc.Iv},
		"another IV":     {CiphertextBlob: enc.CiphertextBlob, Iv: make([]byte, 12), Aad: aad},
		"another key":    {KeyId: tea.String(e.createKey("", "")), CiphertextBlob: enc.CiphertextBlob, Aad: aad},
		"CBC":            {CiphertextBlob: enc.CiphertextBlob, Aad: aad, Algorithm: tea.String("AES_CBC")},
		"a padding":      {CiphertextBlob: enc.CiphertextBlob, Aad: aad, PaddingMode: tea.String("PKCS7_PADDING")},
		"no blob at all": {Aad: aad},
	} {
		if _, err := e.client.DecryptWithOptions(req, noRetry); sdkCode(t, err) == "" {
			t.Errorf("Decrypt with %s: no error", name)
		}
	}
	if _, err := e.client.EncryptWithOptions(&dkms.EncryptRequest{KeyId: tea.String(id), Plaintext: []byte("x"), Iv: make([]byte, 12)}, noRetry); sdkCode(t, err) != core.CodeInvalidParameter {
		t.Errorf("Encrypt with a chosen IV: %v", err)
	}

	gcm, err := e.client.EncryptWithOptions(&dkms.EncryptRequest{KeyId: tea.String(id), Plaintext: []byte("x"), Algorithm: tea.String("AES_GCM")}, noRetry)
	if err != nil || tea.StringValue(gcm.Algorithm) != "AES_GCM" {
		t.Fatalf("Encrypt in AES_GCM: %v", err)
	}
	back, err := e.client.DecryptWithOptions(&dkms.DecryptRequest{CiphertextBlob: gcm.CiphertextBlob, Iv: gcm.Iv, Algorithm: tea.String("AES_GCM")}, noRetry)
	if err != nil || string(back.Plaintext) != "x" || tea.StringValue(back.Algorithm) != "AES_GCM" {
		t.Fatalf("Decrypt in AES_GCM: %v", err)
	}

	adv, err := e.client.AdvanceEncryptWithOptions(&dkms.AdvanceEncryptRequest{KeyId: tea.String(id), Plaintext: []byte("ledger")}, noRetry)
	if err != nil {
		t.Fatal(err)
	}
	k := e.do("DescribeKey", core.Params{"KeyId": id}).(core.Key)
	if tea.StringValue(adv.KeyVersionId) != k.PrimaryVersionID {
		t.Errorf("AdvanceEncrypt: KeyVersionId %q, want %q", tea.StringValue(adv.KeyVersionId), k.PrimaryVersionID)
	}
	advDec, err := e.client.AdvanceDecryptWithOptions(&dkms.AdvanceDecryptRequest{CiphertextBlob: adv.CiphertextBlob}, noRetry)
	if err != nil || string(advDec.Plaintext) != "ledger" || tea.StringValue(advDec.KeyVersionId) != k.PrimaryVersionID {
		t.Fatalf("AdvanceDecrypt: %v, %q, version %q", err, advDec.Plaintext, tea.StringValue(advDec.KeyVersionId))
	}
}

// Every answer names the cipher the key's spec seals in, whether or not the
// request named one, and a request naming the other cipher is refused: an
// SM4 key's envelopes are SM4-GCM, never what a caller calls them.
func TestSDKAlgorithmIsTheKeys(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ spec, cipher, other string }{
		{core.SpecAES, "AES_GCM", "SM4_GCM"},
		{core.SpecSM4, "SM4_GCM", "AES_GCM"},
	} {
		id := e.createKey(c.spec, "")
		enc, err := e.client.EncryptWithOptions(&dkms.EncryptRequest{KeyId: tea.String(id), Plaintext: []byte("x")}, noRetry)
		if err != nil || tea.StringValue(enc.Algorithm) != c.cipher {
			t.Fatalf("%s: Encrypt answered Algorithm %q (%v), want %s", c.spec, tea.StringValue(enc.Algorithm), err, c.cipher)
		}
		dec, err := e.client.DecryptWithOptions(&dkms.DecryptRequest{CiphertextBlob: enc.CiphertextBlob, Iv: enc.Iv}, noRetry)
		if err != nil || tea.StringValue(dec.Algorithm) != c.cipher {
			t.Fatalf("%s: Decrypt answered Algorithm %q (%v)", c.spec, tea.StringValue(dec.Algorithm), err)
		}
		adv, err := e.client.AdvanceEncryptWithOptions(&dkms.AdvanceEncryptRequest{KeyId: tea.String(id), Plaintext: []byte("x")}, noRetry)
		if err != nil || tea.StringValue(adv.Algorithm) != c.cipher {
			t.Fatalf("%s: AdvanceEncrypt answered Algorithm %q (%v)", c.spec, tea.StringValue(adv.Algorithm), err)
		}
		dk, err := e.client.GenerateDataKeyWithOptions(&dkms.GenerateDataKeyRequest{KeyId: tea.String(id), Algorithm: tea.String(c.cipher)}, noRetry)
		if err != nil || tea.StringValue(dk.Algorithm) != c.cipher {
			t.Fatalf("%s: GenerateDataKey answered Algorithm %q (%v)", c.spec, tea.StringValue(dk.Algorithm), err)
		}
		pair, err := e.client.GenerateDataKeyPairWithoutPlaintextWithOptions(&dkms.GenerateDataKeyPairWithoutPlaintextRequest{KeyId: tea.String(id), KeyPairSpec: tea.String("ECC_NIST_P256")}, noRetry)
		if err != nil || tea.StringValue(pair.Algorithm) != c.cipher {
			t.Fatalf("%s: GenerateDataKeyPairWithoutPlaintext answered Algorithm %q (%v)", c.spec, tea.StringValue(pair.Algorithm), err)
		}

		_, err = e.client.EncryptWithOptions(&dkms.EncryptRequest{KeyId: tea.String(id), Plaintext: []byte("x"), Algorithm: tea.String(c.other)}, noRetry)
		if code := sdkCode(t, err); code != core.CodeInvalidParameter {
			t.Errorf("%s: Encrypt in %s: code %q, want %s", c.spec, c.other, code, core.CodeInvalidParameter)
		}
		_, err = e.client.DecryptWithOptions(&dkms.DecryptRequest{CiphertextBlob: enc.CiphertextBlob, Algorithm: tea.String(c.other)}, noRetry)
		if code := sdkCode(t, err); code != core.CodeInvalidParameter {
			t.Errorf("%s: Decrypt in %s: code %q", c.spec, c.other, code)
		}
		_, err = e.client.GenerateDataKeyWithOptions(&dkms.GenerateDataKeyRequest{KeyId: tea.String(id), Algorithm: tea.String(c.other)}, noRetry)
		if code := sdkCode(t, err); code != core.CodeInvalidParameter {
			t.Errorf("%s: GenerateDataKey in %s: code %q", c.spec, c.other, code)
		}
	}
}

// GenerateDataKey answers a data key and its blob, which Decrypt opens to
// it; AdvanceGenerateDataKey names the version too.
func TestSDKGenerateDataKey(t *testing.T) {
	e := newEnv(t)
	id := e.createKey("", "")
	aad := []byte("partition-7")
	dk, err := e.client.GenerateDataKeyWithOptions(&dkms.GenerateDataKeyRequest{KeyId: tea.String(id), NumberOfBytes: tea.Int32(32), Aad: aad}, noRetry)
	if err != nil {
		t.Fatal(err)
	}
	if len(dk.Plaintext) != 32 || len(dk.Iv) != 12 || tea.StringValue(dk.KeyId) != id {
		t.Fatalf("GenerateDataKey: %d key bytes, %d IV bytes, KeyId %q", len(dk.Plaintext), len(dk.Iv), tea.StringValue(dk.KeyId))
	}
	dec, err := e.client.DecryptWithOptions(&dkms.DecryptRequest{CiphertextBlob: dk.CiphertextBlob, Iv: dk.Iv, Aad: aad}, noRetry)
	if err != nil || !bytes.Equal(dec.Plaintext, dk.Plaintext) {
		t.Fatalf("Decrypt of the data key's blob: %v", err)
	}
	adv, err := e.client.AdvanceGenerateDataKeyWithOptions(&dkms.AdvanceGenerateDataKeyRequest{KeyId: tea.String(id)}, noRetry)
	if err != nil {
		t.Fatal(err)
	}
	if len(adv.Plaintext) != 32 || tea.StringValue(adv.KeyVersionId) == "" {
		t.Fatalf("AdvanceGenerateDataKey: %d key bytes, version %q", len(adv.Plaintext), tea.StringValue(adv.KeyVersionId))
	}
}

// An RSA signing key signs a message or its digest for the SDK (whose
// SignRequest has no Digest field, though the message does), and
// Go's crypto/rsa verifies the signature under the key GetPublicKey gives;
// Verify answers true for it and false for another; an ECDSA key likewise.
func TestSDKSignVerifyGetPublicKey(t *testing.T) {
	e := newEnv(t)
	msg := []byte("transfer 100 to account 42")
	digest := sha256.Sum256(msg)
	for _, c := range []struct{ spec, alg string }{{"RSA_2048", "RSA_PKCS1_SHA_256"}, {"EC_P256", "ECDSA_SHA_256"}} {
		id := e.createKey(c.spec, core.UsageSign)
		pk, err := e.client.GetPublicKeyWithOptions(&dkms.GetPublicKeyRequest{KeyId: tea.String(id)}, noRetry)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode([]byte(tea.StringValue(pk.PublicKey)))
		if block == nil {
			t.Fatalf("%s: GetPublicKey answered no PEM", c.spec)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		for name, req := range map[string]*dkms.SignRequest{
			"a RAW message": {KeyId: tea.String(id), Algorithm: tea.String(c.alg), Message: msg, MessageType: tea.String("RAW")},
			"a DIGEST":      {KeyId: tea.String(id), Algorithm: tea.String(c.alg), Message: digest[:], MessageType: tea.String("DIGEST")},
		} {
			sig, err := e.client.SignWithOptions(req, noRetry)
			if err != nil {
				t.Fatalf("%s: Sign %s: %v", c.spec, name, err)
			}
			var ok bool
			switch pub := pub.(type) {
			case *rsa.PublicKey:
				ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig.Signature) == nil
			case *ecdsa.PublicKey:
				ok = ecdsa.VerifyASN1(pub, digest[:], sig.Signature)
			}
			if !ok || tea.StringValue(sig.Algorithm) != c.alg {
				t.Errorf("%s: the signature of %s does not verify (algorithm %q)", c.spec, name, tea.StringValue(sig.Algorithm))
			}
			v, err := e.client.VerifyWithOptions(&dkms.VerifyRequest{KeyId: tea.String(id), Algorithm: tea.String(c.alg), Message: msg, Signature: sig.Signature}, noRetry)
			if err != nil || !tea.BoolValue(v.Value) {
				t.Fatalf("%s: Verify of the signature of %s: %v, %v", c.spec, name, err, v)
			}
			other := bytes.Clone(sig.Signature)
			other[len(other)/2] ^= 1
			v, err = e.client.VerifyWithOptions(&dkms.VerifyRequest{KeyId: tea.String(id), Algorithm: tea.String(c.alg), Message: digest[:], MessageType: tea.String("DIGEST"), Signature: other}, noRetry)
			if err == nil && tea.BoolValue(v.Value) {
				t.Errorf("%s: Verify of a changed signature answered true", c.spec)
			}
		}
	}
}

// GenerateRandom answers Length random bytes; GetSecretValue a secret's
// current value, as the Alibaba API stores it.
func TestSDKGenerateRandomAndGetSecretValue(t *testing.T) {
	e := newEnv(t)
	r, err := e.client.GenerateRandomWithOptions(&dkms.GenerateRandomRequest{Length: tea.Int32(48)}, noRetry)
	if err != nil || len(r.Random) != 48 || bytes.Equal(r.Random, make([]byte, 48)) {
		t.Fatalf("GenerateRandom: %v, %d bytes", err, len(r.Random))
	}
	key := e.createKey("", "")
	e.do("CreateSecret", core.Params{"SecretName": "db/password", "SecretData": "s3cret!", "VersionId": "v1", "EncryptionKeyId": key})
	s, err := e.client.GetSecretValueWithOptions(&dkms.GetSecretValueRequest{SecretName: tea.String("db/password")}, noRetry)
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(s.SecretData) != "s3cret!" || tea.StringValue(s.VersionId) != "v1" || tea.StringValue(s.SecretDataType) != "text" ||
		len(s.VersionStages) != 1 || tea.StringValue(s.VersionStages[0]) != "ACSCurrent" || tea.StringValue(s.CreateTime) == "" {
		t.Fatalf("GetSecretValue: %s", s)
	}
	if _, err := e.client.GetSecretValueWithOptions(&dkms.GetSecretValueRequest{SecretName: tea.String("none")}, noRetry); sdkCode(t, err) != core.CodeResourceNotFound {
		t.Errorf("GetSecretValue of no secret: %v", err)
	}
}

// A client key that is not known, a key other than the one named, and a
// caller whose policy does not reach the key are refused with the codes
// the Alibaba API answers.
func TestSDKRefusesWhoItMust(t *testing.T) {
	e := newEnv(t, func(s *setup) {
		s.policy = core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:Encrypt"}, Resource: []string{"*"}})
	})
	id := e.createKey("", "")
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	req := &dkms.EncryptRequest{KeyId: tea.String(id), Plaintext: []byte("p")}
	for name, c := range map[string]struct {
		client *dkms.Client
		code   string
	}{
		"an unknown client key":        {e.sdk("KAAP.unknown", other), core.CodeInvalidAccessKeyID},
		"another private key":          {e.sdk(appKeyID, other), core.CodeSignatureDoesNotMatch},
		"the right key and permission": {e.client, ""},
	} {
		if _, err := c.client.EncryptWithOptions(req, noRetry); sdkCode(t, err) != c.code {
			t.Errorf("%s: %v, want %q", name, err, c.code)
		}
	}
	if _, err := e.client.GenerateRandomWithOptions(&dkms.GenerateRandomRequest{Length: tea.Int32(8)}, noRetry); sdkCode(t, err) != core.CodeNoPermission {
		t.Errorf("GenerateRandom outside the caller's policy: %v", err)
	}
}

// The data key pair APIs answer a fresh pair: the private key in PKCS #8
// (but for the WithoutPlaintext ones), its blob, which Decrypt opens to it
// under the same Aad, and the public key in DER; the Advance ones name the
// key version.
func TestSDKGenerateDataKeyPair(t *testing.T) {
	e := newEnv(t)
	id := e.createKey("", "")
	aad := []byte("signer-3")
	pair, err := e.client.GenerateDataKeyPairWithOptions(&dkms.GenerateDataKeyPairRequest{KeyId: tea.String(id), KeyPairSpec: tea.String("ECC_NIST_P256"), KeyFormat: tea.String("DER"), Aad: aad}, noRetry)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(pair.PrivateKeyPlaintext)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(pair.PublicKey)
	if err != nil || !priv.(*ecdsa.PrivateKey).PublicKey.Equal(pub) || tea.StringValue(pair.KeyPairSpec) != "ECC_NIST_P256" {
		t.Fatalf("the pair's public key is not its private key's: %v", err)
	}
	dec, err := e.client.DecryptWithOptions(&dkms.DecryptRequest{CiphertextBlob: pair.PrivateKeyCiphertextBlob, Iv: pair.Iv, Aad: aad}, noRetry)
	if err != nil || !bytes.Equal(dec.Plaintext, pair.PrivateKeyPlaintext) {
		t.Fatalf("Decrypt of the private key's blob: %v", err)
	}
	lone, err := e.client.GenerateDataKeyPairWithoutPlaintextWithOptions(&dkms.GenerateDataKeyPairWithoutPlaintextRequest{KeyId: tea.String(id), KeyPairSpec: tea.String("RSA_2048")}, noRetry)
	if err != nil || len(lone.PrivateKeyCiphertextBlob) == 0 || len(lone.PublicKey) == 0 || len(lone.Iv) != 12 {
		t.Fatalf("GenerateDataKeyPairWithoutPlaintext: %v", err)
	}
	k := e.do("DescribeKey", core.Params{"KeyId": id}).(core.Key)
	adv, err := e.client.AdvanceGenerateDataKeyPairWithOptions(&dkms.AdvanceGenerateDataKeyPairRequest{KeyId: tea.String(id), KeyPairSpec: tea.String("ECC_NIST_P256")}, noRetry)
	if err != nil || len(adv.PrivateKeyPlaintext) == 0 || tea.StringValue(adv.KeyVersionId) != k.PrimaryVersionID {
		t.Fatalf("AdvanceGenerateDataKeyPair: %v, version %q", err, tea.StringValue(adv.KeyVersionId))
	}
	advLone, err := e.client.AdvanceGenerateDataKeyPairWithoutPlaintextWithOptions(&dkms.AdvanceGenerateDataKeyPairWithoutPlaintextRequest{KeyId: tea.String(id), KeyPairSpec: tea.String("ECC_NIST_P256")}, noRetry)
	if err != nil || len(advLone.PrivateKeyCiphertextBlob) == 0 || tea.StringValue(advLone.KeyVersionId) != k.PrimaryVersionID {
		t.Fatalf("AdvanceGenerateDataKeyPairWithoutPlaintext: %v", err)
	}
	if _, err := e.client.GenerateDataKeyPairWithOptions(&dkms.GenerateDataKeyPairRequest{KeyId: tea.String(id), KeyPairSpec: tea.String("ECC_NIST_P256"), KeyFormat: tea.String("PEM")}, noRetry); sdkCode(t, err) != core.CodeInvalidParameter {
		t.Errorf("KeyFormat PEM: %v", err)
	}
}
