package core_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"

	tjx509 "github.com/tjfoc/gmsm/x509"

	"github.com/kmsless/kmsless/core"
)

// ReEncrypt moves a ciphertext made with an asymmetric key's public key
// (RSA-OAEP or SM2PKE, sealed outside the service) under a symmetric key,
// and a symmetric key's blob to an asymmetric key's public key, without the
// plaintext leaving the service; the asymmetric side names its key and
// algorithm, and binds no context.
func TestReEncryptToAndFromAsymmetricKeys(t *testing.T) {
	s, _ := memService(t, core.Config{})
	aes := createKey(t, s, core.Params{})
	rsaKey := createKey(t, s, core.Params{"KeySpec": "RSA_2048", "KeyUsage": core.UsageEncrypt})
	sm2Key := createKey(t, s, core.Params{"KeySpec": "EC_SM2", "KeyUsage": core.UsageEncrypt})
	public := func(id string) []byte {
		out, err := do(t, s, "GetPublicKey", core.Params{"KeyId": id})
		if err != nil {
			t.Fatal(err)
		}
		return out.(core.PublicKey).DER
	}
	secret := []byte("a database password")
	parsed, err := x509.ParsePKIXPublicKey(public(rsaKey))
	if err != nil {
		t.Fatal(err)
	}
	byRSA, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, parsed.(*rsa.PublicKey), secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	sm2Pub, err := tjx509.ParseSm2PublicKey(public(sm2Key))
	if err != nil {
		t.Fatal(err)
	}
	bySM2, err := sm2Pub.EncryptAsn1(secret, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctx := `{"app":"billing"}`
	for _, c := range []struct {
		key, alg string
		blob     []byte
	}{{rsaKey, "RSAES_OAEP_SHA_256", byRSA}, {sm2Key, "SM2PKE", bySM2}} {
		p := core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(c.blob), "SourceKeyId": c.key,
			"SourceEncryptionAlgorithm": c.alg, "DestinationKeyId": aes, "DestinationEncryptionContext": ctx}
		out, err := do(t, s, "ReEncrypt", p)
		if err != nil {
			t.Fatalf("ReEncrypt from %s: %v", c.alg, err)
		}
		r := out.(core.Resealed)
		if r.SourceKeyID != c.key || r.KeyID != aes || r.SourceAlgorithm != c.alg || r.DestinationAlgorithm != "SYMMETRIC_DEFAULT" {
			t.Errorf("ReEncrypt from %s: %+v", c.alg, r)
		}
		opened, err := do(t, s, "Decrypt", core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(r.Blob), "EncryptionContext": ctx})
		if err != nil || !bytes.Equal(opened.(core.Opened).Plaintext, secret) {
			t.Fatalf("Decrypt of what ReEncrypt from %s made: %v", c.alg, err)
		}
		for _, bad := range []struct {
			change core.Params
			code   string
		}{
			{core.Params{"SourceKeyId": ""}, core.CodeMissingParameter},
			{core.Params{"SourceEncryptionContext": ctx}, core.CodeInvalidParameter},
			{core.Params{"SourceEncryptionAlgorithm": "RSAES_OAEP_SHA_512"}, core.CodeInvalidParameter},
			{core.Params{"SourceKeyId": aes}, core.CodeInvalidKeyUsage},
			{core.Params{"SourceKeyVersionId": "another"}, core.CodeKeyNotFound},
			{core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(append(bytes.Clone(c.blob[:len(c.blob)-1]), c.blob[len(c.blob)-1]^1))}, core.CodeInvalidCiphertext},
			{core.Params{"DryRun": "true"}, core.CodeDryRunOperation},
		} {
			q := core.Params{}
			for k, v := range p {
				q[k] = v
			}
			for k, v := range bad.change {
				q[k] = v
			}
			_, err := do(t, s, "ReEncrypt", q)
			mustCode(t, err, bad.code)
		}
	}
	_, err = do(t, s, "ReEncrypt", core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(byRSA), "SourceKeyId": rsaKey,
		"SourceEncryptionAlgorithm": "SM2PKE", "DestinationKeyId": aes})
	mustCode(t, err, core.CodeInvalidKeyUsage)

	sealed, err := do(t, s, "Encrypt", core.Params{"KeyId": aes, "Plaintext": base64.StdEncoding.EncodeToString(secret), "EncryptionContext": ctx})
	if err != nil {
		t.Fatal(err)
	}
	blob := base64.StdEncoding.EncodeToString(sealed.(core.Sealed).Blob)
	for _, c := range []struct{ key, alg string }{{rsaKey, "RSAES_OAEP_SHA_1"}, {sm2Key, "SM2PKE"}} {
		out, err := do(t, s, "ReEncrypt", core.Params{"CiphertextBlob": blob, "SourceEncryptionContext": ctx,
			"DestinationKeyId": c.key, "DestinationEncryptionAlgorithm": c.alg})
		if err != nil {
			t.Fatalf("ReEncrypt to %s: %v", c.alg, err)
		}
		r := out.(core.Resealed)
		if r.KeyID != c.key || r.SourceKeyID != aes || r.SourceAlgorithm != "SYMMETRIC_DEFAULT" || r.DestinationAlgorithm != c.alg {
			t.Errorf("ReEncrypt to %s: %+v", c.alg, r)
		}
		opened, err := do(t, s, "AsymmetricDecrypt", core.Params{"KeyId": c.key, "Algorithm": c.alg, "CiphertextBlob": base64.StdEncoding.EncodeToString(r.Blob)})
		if err != nil || !bytes.Equal(opened.(core.Opened).Plaintext, secret) {
			t.Fatalf("AsymmetricDecrypt of what ReEncrypt to %s made: %v", c.alg, err)
		}
		_, err = do(t, s, "ReEncrypt", core.Params{"CiphertextBlob": blob, "SourceEncryptionContext": ctx,
			"DestinationKeyId": c.key, "DestinationEncryptionAlgorithm": c.alg, "DestinationEncryptionContext": ctx})
		mustCode(t, err, core.CodeInvalidParameter)
		_, err = do(t, s, "ReEncrypt", core.Params{"CiphertextBlob": blob, "SourceEncryptionContext": ctx, "DestinationKeyId": c.key})
		mustCode(t, err, core.CodeInvalidKeyUsage)
	}
	// A plaintext too long for the destination's algorithm is the
	// ciphertext's fault: ReEncrypt has no Plaintext.
	long, err := do(t, s, "Encrypt", core.Params{"KeyId": aes, "Plaintext": base64.StdEncoding.EncodeToString(make([]byte, 300))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = do(t, s, "ReEncrypt", core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(long.(core.Sealed).Blob),
		"DestinationKeyId": rsaKey, "DestinationEncryptionAlgorithm": "RSAES_OAEP_SHA_256"})
	if e := mustCode(t, err, core.CodeInvalidParameter); !strings.Contains(e.Message, "CiphertextBlob") {
		t.Errorf("the refusal names another parameter: %s", e.Message)
	}
}

// Moving an asymmetric key's ciphertext takes ReEncrypt on that key, as
// moving a blob does; AsymmetricDecrypt on it is not enough.
func TestReEncryptFromAnAsymmetricKeyIsAuthorizedOnIt(t *testing.T) {
	f := newSvcFixture(t)
	aes := f.createKey()
	out, err := f.svc.Handle(background, &core.Request{ID: "REQ", Action: "CreateKey", Params: core.Params{"KeySpec": "RSA_2048"}, Caller: f.admin})
	if err != nil {
		t.Fatal(err)
	}
	rsaKey := out.(core.Key).ID
	out, err = f.svc.Handle(background, &core.Request{ID: "REQ", Action: "AsymmetricEncrypt", Caller: f.admin,
		Params: core.Params{"KeyId": rsaKey, "Algorithm": "RSAES_OAEP_SHA_256", "Plaintext": b64("x")}})
	if err != nil {
		t.Fatal(err)
	}
	blob := base64.StdEncoding.EncodeToString(out.(core.Sealed).Blob)
	decryptOnly := allowOn("decrypt-only", []string{"kms:ReEncrypt"}, f.svc.KeyARN(aes))
	decryptOnly.Policy = core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:AsymmetricDecrypt"}, Resource: []string{f.svc.KeyARN(rsaKey)}},
		core.Statement{Effect: "Allow", Action: []string{"kms:ReEncrypt"}, Resource: []string{f.svc.KeyARN(aes)}})
	args := []string{"CiphertextBlob", blob, "SourceKeyId", rsaKey, "SourceEncryptionAlgorithm", "RSAES_OAEP_SHA_256", "DestinationKeyId", aes}
	_, err = f.as(decryptOnly, "ReEncrypt", args...)
	mustCode(t, err, core.CodeNoPermission)
	both := allowOn("reencrypt-both", []string{"kms:ReEncrypt"}, f.svc.KeyARN(aes), f.svc.KeyARN(rsaKey))
	if _, err := f.as(both, "ReEncrypt", args...); err != nil {
		t.Fatalf("ReEncrypt allowed on both keys: %v", err)
	}
}
