package core_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"testing"

	"github.com/kmsless/kmsless/core"
)

// kms:SigningAlgorithm, kms:EncryptionAlgorithm and kms:KeyAgreementAlgorithm
// hold a caller to the algorithms a policy names, in AWS's names whichever
// API the request came by: SYMMETRIC_DEFAULT for the envelope operations,
// RSAES_OAEP_… for RSA encryption, RSASSA_PSS_… for Alibaba's RSA_PSS_….
// A request without an algorithm of the kind a condition reads does not
// meet it.
func TestAlgorithmConditions(t *testing.T) {
	s, _ := memService(t, core.Config{})
	aes := createKey(t, s, core.Params{})
	signer := createKey(t, s, core.Params{"KeySpec": "RSA_2048", "KeyUsage": core.UsageSign})
	sealer := createKey(t, s, core.Params{"KeySpec": "RSA_2048"})
	agreer := createKey(t, s, core.Params{"KeySpec": "ECC_NIST_P256", "KeyUsage": core.UsageKeyAgreement})
	condition := func(k string, values ...string) []core.Condition {
		return []core.Condition{{Operator: "StringLike", Key: k, Values: values}}
	}
	caller := &core.Principal{Name: "algorithms", AccessKeyID: "LTAIalgorithms", Secret: core.NewSecret("s"), Policy: core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:AsymmetricSign"}, Resource: []string{"*"},
			Condition: condition("kms:SigningAlgorithm", "RSASSA_PSS_*")},
		core.Statement{Effect: "Allow", Action: []string{"kms:Encrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:AsymmetricEncrypt"}, Resource: []string{"*"},
			Condition: condition("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_256")},
		core.Statement{Effect: "Allow", Action: []string{"kms:DeriveSharedSecret"}, Resource: []string{"*"},
			Condition: condition("kms:KeyAgreementAlgorithm", "ECDH")},
		core.Statement{Effect: "Allow", Action: []string{"kms:GenerateDataKey"}, Resource: []string{"*"},
			Condition: condition("kms:SigningAlgorithm", "*")},
	)}
	d := sha256.Sum256([]byte("m"))
	digest := base64.StdEncoding.EncodeToString(d[:])
	peer, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(peer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		action  string
		p       core.Params
		allowed bool
	}{
		{"AsymmetricSign", core.Params{"KeyId": signer, "Algorithm": "RSA_PSS_SHA_256", "Digest": digest}, true},
		{"AsymmetricSign", core.Params{"KeyId": signer, "Algorithm": "RSA_PKCS1_SHA_256", "Digest": digest}, false},
		{"Encrypt", core.Params{"KeyId": aes, "Plaintext": b64("x")}, true},
		{"GenerateDataKeyWithoutPlaintext", core.Params{"KeyId": aes}, true},
		{"AsymmetricEncrypt", core.Params{"KeyId": sealer, "Algorithm": "RSAES_OAEP_SHA_256", "Plaintext": b64("x")}, true},
		{"AsymmetricEncrypt", core.Params{"KeyId": sealer, "Algorithm": "RSAES_OAEP_SHA_1", "Plaintext": b64("x")}, false},
		{"DeriveSharedSecret", core.Params{"KeyId": agreer, "KeyAgreementAlgorithm": "ECDH", "PublicKey": base64.StdEncoding.EncodeToString(der)}, true},
		// GenerateDataKey names SYMMETRIC_DEFAULT, no signing algorithm.
		{"GenerateDataKey", core.Params{"KeyId": aes}, false},
	} {
		_, err := s.Handle(t.Context(), &core.Request{ID: "r", Action: c.action, Params: c.p, Caller: caller})
		if c.allowed && err != nil || !c.allowed && code(err) != core.CodeNoPermission {
			t.Errorf("%s %v: %v, allowed %v", c.action, c.p, err, c.allowed)
		}
	}
}

// SM2's algorithms are read by the same condition keys, and each side of a
// ReEncrypt is held to the algorithm that side uses: the asymmetric source's
// by the source key's statement, SYMMETRIC_DEFAULT by the destination's.
func TestAlgorithmConditionsOfSM2AndReEncrypt(t *testing.T) {
	s, _ := memService(t, core.Config{})
	aes := createKey(t, s, core.Params{})
	signer := createKey(t, s, core.Params{"KeySpec": "EC_SM2", "KeyUsage": core.UsageSign})
	sealer := createKey(t, s, core.Params{"KeySpec": "EC_SM2"})
	rsaKey := createKey(t, s, core.Params{"KeySpec": "RSA_2048"})
	arn := s.KeyARN
	condition := func(k string, values ...string) []core.Condition {
		return []core.Condition{{Operator: "StringEquals", Key: k, Values: values}}
	}
	caller := &core.Principal{Name: "sm2", AccessKeyID: "LTAIsm2", Secret: core.NewSecret("s"), Policy: core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:AsymmetricSign"}, Resource: []string{"*"},
			Condition: condition("kms:SigningAlgorithm", "SM2DSA")},
		core.Statement{Effect: "Allow", Action: []string{"kms:AsymmetricEncrypt", "kms:ReEncrypt"}, Resource: []string{arn(sealer)},
			Condition: condition("kms:EncryptionAlgorithm", "SM2PKE")},
		core.Statement{Effect: "Allow", Action: []string{"kms:ReEncrypt"}, Resource: []string{arn(aes)},
			Condition: condition("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT")},
		core.Statement{Effect: "Allow", Action: []string{"kms:ReEncrypt"}, Resource: []string{arn(rsaKey)},
			Condition: condition("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT")},
	)}
	sealed, err := do(t, s, "AsymmetricEncrypt", core.Params{"KeyId": sealer, "Algorithm": "SM2PKE", "Plaintext": b64("x")})
	if err != nil {
		t.Fatal(err)
	}
	bySM2 := base64.StdEncoding.EncodeToString(sealed.(core.Sealed).Blob)
	sealed, err = do(t, s, "AsymmetricEncrypt", core.Params{"KeyId": rsaKey, "Algorithm": "RSAES_OAEP_SHA_256", "Plaintext": b64("x")})
	if err != nil {
		t.Fatal(err)
	}
	byRSA := base64.StdEncoding.EncodeToString(sealed.(core.Sealed).Blob)
	for _, c := range []struct {
		action  string
		p       core.Params
		allowed bool
	}{
		{"AsymmetricSign", core.Params{"KeyId": signer, "Algorithm": "SM2DSA", "Message": b64("m")}, true},
		{"AsymmetricEncrypt", core.Params{"KeyId": sealer, "Algorithm": "SM2PKE", "Plaintext": b64("x")}, true},
		{"ReEncrypt", core.Params{"CiphertextBlob": bySM2, "SourceKeyId": sealer, "SourceEncryptionAlgorithm": "SM2PKE", "DestinationKeyId": aes}, true},
		// The RSA key's statement names SYMMETRIC_DEFAULT, which its
		// ciphertext is not opened with.
		{"ReEncrypt", core.Params{"CiphertextBlob": byRSA, "SourceKeyId": rsaKey, "SourceEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "DestinationKeyId": aes}, false},
	} {
		_, err := s.Handle(t.Context(), &core.Request{ID: "r", Action: c.action, Params: c.p, Caller: caller})
		if c.allowed && err != nil || !c.allowed && code(err) != core.CodeNoPermission {
			t.Errorf("%s %v: %v, allowed %v", c.action, c.p, err, c.allowed)
		}
	}
}
