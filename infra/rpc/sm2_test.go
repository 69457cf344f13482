package rpc_test

import (
	"crypto/rand"
	"encoding/base64"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
	tjx509 "github.com/tjfoc/gmsm/x509"
)

// EC_SM2 keys through Alibaba's Go SDK, judged by tjfoc's SM2: a signing
// key's PEM public key verifies AsymmetricSign's signature of SM3(Z ‖ M),
// and an encryption key's SM2PKE ciphertexts open both ways. A data key
// exported under an SM2 public key opens with its private key.
func TestSDKSM2Keys(t *testing.T) {
	e := newEnv(t)
	made, err := e.client.CreateKey(&kms.CreateKeyRequest{KeySpec: tea.String("EC_SM2"), KeyUsage: tea.String("SIGN/VERIFY")})
	if err != nil {
		t.Fatalf("CreateKey EC_SM2: %v", err)
	}
	m := made.Body.KeyMetadata
	if tea.StringValue(m.KeySpec) != "EC_SM2" || tea.StringValue(m.KeyUsage) != "SIGN/VERIFY" {
		t.Errorf("CreateKey: %s %s", tea.StringValue(m.KeySpec), tea.StringValue(m.KeyUsage))
	}
	key, version := m.KeyId, m.PrimaryKeyVersion
	pub, err := tjx509.ParseSm2PublicKey(publicKeyDER(t, e, key, version))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("invoice 42")
	d, err := pub.Sm3Digest(msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	digest := tea.String(base64.StdEncoding.EncodeToString(append(make([]byte, 32-len(d)), d...)))
	signed, err := e.client.AsymmetricSign(&kms.AsymmetricSignRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("SM2DSA"), Digest: digest})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(tea.StringValue(signed.Body.Value))
	if err != nil || !pub.Verify(msg, sig) {
		t.Fatalf("the judge does not verify the signature over the message (%v)", err)
	}
	v, err := e.client.AsymmetricVerify(&kms.AsymmetricVerifyRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("SM2DSA"), Digest: digest, Value: signed.Body.Value})
	if err != nil || !tea.BoolValue(v.Body.Value) {
		t.Fatalf("AsymmetricVerify of its signature: %v %v", v, err)
	}
	_, err = e.client.AsymmetricSign(&kms.AsymmetricSignRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("ECDSA_SHA_256"), Digest: digest})
	sdkError(t, err, "InvalidKeyUsage", 400)

	made, err = e.client.CreateKey(&kms.CreateKeyRequest{KeySpec: tea.String("EC_SM2")})
	if err != nil {
		t.Fatal(err)
	}
	m = made.Body.KeyMetadata
	if tea.StringValue(m.KeyUsage) != "ENCRYPT/DECRYPT" {
		t.Errorf("an EC_SM2 key's default usage is %s", tea.StringValue(m.KeyUsage))
	}
	key, version = m.KeyId, m.PrimaryKeyVersion
	pub, err = tjx509.ParseSm2PublicKey(publicKeyDER(t, e, key, version))
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("国密 SM2PKE")
	enc, err := e.client.AsymmetricEncrypt(&kms.AsymmetricEncryptRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("SM2PKE"),
		Plaintext: tea.String(base64.StdEncoding.EncodeToString(secret))})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := e.client.AsymmetricDecrypt(&kms.AsymmetricDecryptRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("SM2PKE"), CiphertextBlob: enc.Body.CiphertextBlob})
	if err != nil || tea.StringValue(dec.Body.Plaintext) != base64.StdEncoding.EncodeToString(secret) {
		t.Fatalf("AsymmetricDecrypt of its ciphertext: %v %v", dec, err)
	}
	theirs, err := pub.EncryptAsn1(secret, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dec, err = e.client.AsymmetricDecrypt(&kms.AsymmetricDecryptRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("SM2PKE"),
		CiphertextBlob: tea.String(base64.StdEncoding.EncodeToString(theirs))})
	if err != nil || tea.StringValue(dec.Body.Plaintext) != base64.StdEncoding.EncodeToString(secret) {
		t.Fatalf("AsymmetricDecrypt of the judge's ciphertext: %v %v", dec, err)
	}
	_, err = e.client.AsymmetricEncrypt(&kms.AsymmetricEncryptRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("SM2PKE"),
		Plaintext: tea.String(base64.StdEncoding.EncodeToString(make([]byte, 6048)))})
	sdkError(t, err, "InvalidParameter", 400)

	module, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := tjx509.MarshalSm2PublicKey(&module.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	aes := tea.String(e.createKey())
	g, err := e.client.GenerateAndExportDataKey(&kms.GenerateAndExportDataKeyRequest{KeyId: aes, WrappingKeySpec: tea.String("EC_SM2"),
		WrappingAlgorithm: tea.String("SM2PKE"), PublicKeyBlob: tea.String(base64.StdEncoding.EncodeToString(der))})
	if err != nil {
		t.Fatal(err)
	}
	exported, err := base64.StdEncoding.DecodeString(tea.StringValue(g.Body.ExportedDataKey))
	if err != nil {
		t.Fatal(err)
	}
	dk, err := module.DecryptAsn1(exported)
	if err != nil {
		t.Fatalf("the module does not open the exported data key: %v", err)
	}
	plain, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: g.Body.CiphertextBlob})
	if err != nil || tea.StringValue(plain.Body.Plaintext) != base64.StdEncoding.EncodeToString(dk) || len(dk) != 32 {
		t.Fatalf("the exported data key is not the sealed one: %v", err)
	}
}

// Key material imported under an EC_SM2 wrapping key with SM2PKE through
// Alibaba's Go SDK, wrapped by tjfoc's SM2.
func TestSDKImportUnderSM2(t *testing.T) {
	e := newEnv(t)
	made, err := e.client.CreateKey(&kms.CreateKeyRequest{Origin: tea.String("EXTERNAL")})
	if err != nil {
		t.Fatal(err)
	}
	key := made.Body.KeyMetadata.KeyId
	p, err := e.client.GetParametersForImport(&kms.GetParametersForImportRequest{KeyId: key, WrappingAlgorithm: tea.String("SM2PKE"), WrappingKeySpec: tea.String("EC_SM2")})
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(tea.StringValue(p.Body.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := tjx509.ParseSm2PublicKey(der)
	if err != nil {
		t.Fatalf("tjfoc reads no SM2 wrapping key: %v", err)
	}
	material := make([]byte, 32)
	rand.Read(material)
	wrapped, err := pub.EncryptAsn1(material, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.ImportKeyMaterial(&kms.ImportKeyMaterialRequest{KeyId: key, ImportToken: p.Body.ImportToken,
		EncryptedKeyMaterial: tea.String(base64.StdEncoding.EncodeToString(wrapped))}); err != nil {
		t.Fatal(err)
	}
	enc, err := e.client.Encrypt(&kms.EncryptRequest{KeyId: key, Plaintext: tea.String(base64.StdEncoding.EncodeToString([]byte("imported")))})
	if err != nil {
		t.Fatal(err)
	}
	if dec, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: enc.Body.CiphertextBlob}); err != nil || tea.StringValue(dec.Body.Plaintext) != base64.StdEncoding.EncodeToString([]byte("imported")) {
		t.Fatalf("Decrypt under the imported material: %v", err)
	}
}

// ReEncrypt through Alibaba's Go SDK moves an EC_SM2 key's SM2PKE
// ciphertext under a symmetric key, by SourceKeyId, SourceKeyVersionId and
// SourceEncryptionAlgorithm, as Alibaba documents.
func TestSDKReEncryptFromSM2(t *testing.T) {
	e := newEnv(t)
	made, err := e.client.CreateKey(&kms.CreateKeyRequest{KeySpec: tea.String("EC_SM2"), KeyUsage: tea.String("ENCRYPT/DECRYPT")})
	if err != nil {
		t.Fatal(err)
	}
	key, version := made.Body.KeyMetadata.KeyId, made.Body.KeyMetadata.PrimaryKeyVersion
	secret := base64.StdEncoding.EncodeToString([]byte("a database password"))
	enc, err := e.client.AsymmetricEncrypt(&kms.AsymmetricEncryptRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("SM2PKE"), Plaintext: tea.String(secret)})
	if err != nil {
		t.Fatal(err)
	}
	aes := tea.String(e.createKey())
	re, err := e.client.ReEncrypt(&kms.ReEncryptRequest{CiphertextBlob: enc.Body.CiphertextBlob, SourceKeyId: key, SourceKeyVersionId: version,
		SourceEncryptionAlgorithm: tea.String("SM2PKE"), DestinationKeyId: aes})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(re.Body.KeyId) != tea.StringValue(aes) {
		t.Errorf("ReEncrypt's KeyId %s", tea.StringValue(re.Body.KeyId))
	}
	dec, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: re.Body.CiphertextBlob})
	if err != nil || tea.StringValue(dec.Body.Plaintext) != secret {
		t.Fatalf("Decrypt of what ReEncrypt made: %v %v", dec, err)
	}
	_, err = e.client.ReEncrypt(&kms.ReEncryptRequest{CiphertextBlob: enc.Body.CiphertextBlob, SourceKeyId: key,
		SourceEncryptionAlgorithm: tea.String("RSAES_OAEP_SHA_256"), DestinationKeyId: aes})
	sdkError(t, err, "InvalidKeyUsage", 400)
}
