package rpc_test

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/mldsamu"
)

// Signing keys through the Alibaba SDK's own methods: CreateKey of EC_P256
// for SIGN/VERIFY, GetPublicKey in PEM, AsymmetricSign of a digest, which
// the PEM's key verifies outside the service, and AsymmetricVerify, true of
// the signature and false of another digest.
func TestSDKSigningKeys(t *testing.T) {
	e := newEnv(t)
	made, err := e.client.CreateKey(&kms.CreateKeyRequest{KeySpec: tea.String("EC_P256"), KeyUsage: tea.String("SIGN/VERIFY")})
	if err != nil {
		t.Fatal(err)
	}
	m := made.Body.KeyMetadata
	if tea.StringValue(m.KeySpec) != "EC_P256" || tea.StringValue(m.KeyUsage) != "SIGN/VERIFY" {
		t.Errorf("CreateKey: %s %s", tea.StringValue(m.KeySpec), tea.StringValue(m.KeyUsage))
	}
	key, version := m.KeyId, m.PrimaryKeyVersion
	der := publicKeyDER(t, e, key, version)
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("invoice 42"))
	digest := tea.String(base64.StdEncoding.EncodeToString(sum[:]))
	signed, err := e.client.AsymmetricSign(&kms.AsymmetricSignRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("ECDSA_SHA_256"), Digest: digest})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(tea.StringValue(signed.Body.Value))
	if err != nil || !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), sum[:], sig) {
		t.Fatalf("the public key does not verify the signature (%v)", err)
	}
	v, err := e.client.AsymmetricVerify(&kms.AsymmetricVerifyRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("ECDSA_SHA_256"), Digest: digest, Value: signed.Body.Value})
	if err != nil || !tea.BoolValue(v.Body.Value) {
		t.Fatalf("AsymmetricVerify of its signature: %v %v", v, err)
	}
	other := sha256.Sum256([]byte("invoice 43"))
	v, err = e.client.AsymmetricVerify(&kms.AsymmetricVerifyRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("ECDSA_SHA_256"),
		Digest: tea.String(base64.StdEncoding.EncodeToString(other[:])), Value: signed.Body.Value})
	if err != nil || tea.BoolValue(v.Body.Value) {
		t.Fatalf("AsymmetricVerify of another digest: %v %v", v, err)
	}
	_, err = e.client.AsymmetricSign(&kms.AsymmetricSignRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("RSA_PSS_SHA_256"), Digest: digest})
	sdkError(t, err, "InvalidKeyUsage", 400)
	_, err = e.client.AsymmetricSign(&kms.AsymmetricSignRequest{KeyId: key, KeyVersionId: tea.String("another"), Algorithm: tea.String("ECDSA_SHA_256"), Digest: digest})
	sdkError(t, err, "Forbidden.KeyNotFound", 404)
	_, err = e.client.GetPublicKey(&kms.GetPublicKeyRequest{KeyId: tea.String(e.createKey()), KeyVersionId: version})
	sdkError(t, err, "Unsupported.KeySpec", 400)
}

// RSA encryption keys through the Alibaba SDK's own methods: CreateKey of
// RSA_2048 for ENCRYPT/DECRYPT, AsymmetricEncrypt and AsymmetricDecrypt,
// and a ciphertext sealed outside with GetPublicKey's PEM.
func TestSDKRSAEncryptionKeys(t *testing.T) {
	e := newEnv(t)
	made, err := e.client.CreateKey(&kms.CreateKeyRequest{KeySpec: tea.String("RSA_2048"), KeyUsage: tea.String("ENCRYPT/DECRYPT")})
	if err != nil {
		t.Fatal(err)
	}
	key, version := made.Body.KeyMetadata.KeyId, made.Body.KeyMetadata.PrimaryKeyVersion
	secret := base64.StdEncoding.EncodeToString([]byte("a data key"))
	sealed, err := e.client.AsymmetricEncrypt(&kms.AsymmetricEncryptRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("RSAES_OAEP_SHA_256"), Plaintext: tea.String(secret)})
	if err != nil {
		t.Fatal(err)
	}
	opened, err := e.client.AsymmetricDecrypt(&kms.AsymmetricDecryptRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("RSAES_OAEP_SHA_256"), CiphertextBlob: sealed.Body.CiphertextBlob})
	if err != nil || tea.StringValue(opened.Body.Plaintext) != secret {
		t.Fatalf("AsymmetricDecrypt: %v %v", opened, err)
	}
	pub, err := x509.ParsePKIXPublicKey(publicKeyDER(t, e, key, version))
	if err != nil {
		t.Fatal(err)
	}
	outside, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub.(*rsa.PublicKey), []byte("sealed outside"), nil)
	if err != nil {
		t.Fatal(err)
	}
	opened, err = e.client.AsymmetricDecrypt(&kms.AsymmetricDecryptRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("RSAES_OAEP_SHA_1"),
		CiphertextBlob: tea.String(base64.StdEncoding.EncodeToString(outside))})
	if err != nil || tea.StringValue(opened.Body.Plaintext) != base64.StdEncoding.EncodeToString([]byte("sealed outside")) {
		t.Fatalf("AsymmetricDecrypt of what was sealed outside: %v %v", opened, err)
	}
	_, err = e.client.AsymmetricDecrypt(&kms.AsymmetricDecryptRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("RSAES_OAEP_SHA_1"), CiphertextBlob: sealed.Body.CiphertextBlob})
	sdkError(t, err, "InvalidCiphertext", 400)
	_, err = e.client.Encrypt(&kms.EncryptRequest{KeyId: key, Plaintext: tea.String(secret)})
	sdkError(t, err, "InvalidKeyUsage", 400)
}

// Ed25519 keys through the Alibaba SDK's own methods: CreateKey of
// ECC_NIST_EDWARDS25519, AsymmetricSign of a SHA-512 digest with
// ED25519_PH_SHA_512, which the PEM's key verifies outside the service as
// Ed25519ph over that digest, and AsymmetricVerify.
func TestSDKEd25519Keys(t *testing.T) {
	e := newEnv(t)
	made, err := e.client.CreateKey(&kms.CreateKeyRequest{KeySpec: tea.String("ECC_NIST_EDWARDS25519"), KeyUsage: tea.String("SIGN/VERIFY")})
	if err != nil {
		t.Fatal(err)
	}
	key, version := made.Body.KeyMetadata.KeyId, made.Body.KeyMetadata.PrimaryKeyVersion
	der := publicKeyDER(t, e, key, version)
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512([]byte("release 1.2.3"))
	digest := tea.String(base64.StdEncoding.EncodeToString(sum[:]))
	signed, err := e.client.AsymmetricSign(&kms.AsymmetricSignRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("ED25519_PH_SHA_512"), Digest: digest})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(tea.StringValue(signed.Body.Value))
	prehash := sha512.Sum512(sum[:])
	if err != nil || ed25519.VerifyWithOptions(pub.(ed25519.PublicKey), prehash[:], sig, &ed25519.Options{Hash: crypto.SHA512}) != nil {
		t.Fatalf("the public key does not verify the signature (%v)", err)
	}
	v, err := e.client.AsymmetricVerify(&kms.AsymmetricVerifyRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("ED25519_PH_SHA_512"), Digest: digest, Value: signed.Body.Value})
	if err != nil || !tea.BoolValue(v.Body.Value) {
		t.Fatalf("AsymmetricVerify of its signature: %v %v", v, err)
	}
	short := sha256.Sum256([]byte("release 1.2.3"))
	_, err = e.client.AsymmetricSign(&kms.AsymmetricSignRequest{KeyId: key, KeyVersionId: version, Algorithm: tea.String("ECDSA_SHA_256"),
		Digest: tea.String(base64.StdEncoding.EncodeToString(short[:]))})
	sdkError(t, err, "InvalidKeyUsage", 400)
}

// Key agreement keys through the Alibaba SDK: CreateKey of ECC_NIST_P256
// for KEY_AGREEMENT by its own method, and DeriveSharedSecret, an AWS
// operation, through its generic call, whose secret a peer derives with
// Go's crypto/ecdh from GetPublicKey's PEM.
func TestSDKKeyAgreementKeys(t *testing.T) {
	e := newEnv(t)
	made, err := e.client.CreateKey(&kms.CreateKeyRequest{KeySpec: tea.String("ECC_NIST_P256"), KeyUsage: tea.String("KEY_AGREEMENT")})
	if err != nil {
		t.Fatal(err)
	}
	m := made.Body.KeyMetadata
	if tea.StringValue(m.KeySpec) != "EC_P256" || tea.StringValue(m.KeyUsage) != "KEY_AGREEMENT" {
		t.Errorf("CreateKey: %s %s", tea.StringValue(m.KeySpec), tea.StringValue(m.KeyUsage))
	}
	peer, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(peer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	body, err := callAPI(t, e.client, "DeriveSharedSecret", map[string]any{"KeyId": tea.StringValue(m.KeyId), "KeyAgreementAlgorithm": "ECDH",
		"PublicKey": base64.StdEncoding.EncodeToString(der)})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(publicKeyDER(t, e, m.KeyId, m.PrimaryKeyVersion))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := pub.(*ecdsa.PublicKey).ECDH()
	if err != nil {
		t.Fatal(err)
	}
	want, err := peer.ECDH(theirs)
	if err != nil {
		t.Fatal(err)
	}
	if body["SharedSecret"] != base64.StdEncoding.EncodeToString(want) || body["KeyAgreementAlgorithm"] != "ECDH" ||
		body["KeyId"] != tea.StringValue(m.KeyId) || body["KeyVersionId"] != tea.StringValue(m.PrimaryKeyVersion) {
		t.Errorf("DeriveSharedSecret: %v; the peer derives %s", body, base64.StdEncoding.EncodeToString(want))
	}
	_, err = callAPI(t, e.client, "DeriveSharedSecret", map[string]any{"KeyId": e.createKey(), "KeyAgreementAlgorithm": "ECDH",
		"PublicKey": base64.StdEncoding.EncodeToString(der)})
	sdkError(t, err, "InvalidKeyUsage", 400)
}

// secp256k1 keys through the Alibaba SDK's own methods, under Alibaba's
// name EC_P256K: CreateKey, DescribeKey, and AsymmetricSign of a digest,
// which Go's generic ECDSA verifies on decred's description of the curve
// with the key GetPublicKey's PEM holds.
func TestSDKSecp256k1Keys(t *testing.T) {
	e := newEnv(t)
	made, err := e.client.CreateKey(&kms.CreateKeyRequest{KeySpec: tea.String("EC_P256K"), KeyUsage: tea.String("SIGN/VERIFY")})
	if err != nil {
		t.Fatal(err)
	}
	m := made.Body.KeyMetadata
	d, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: m.KeyId})
	if err != nil || tea.StringValue(m.KeySpec) != "EC_P256K" || tea.StringValue(d.Body.KeyMetadata.KeySpec) != "EC_P256K" {
		t.Fatalf("CreateKey %s, DescribeKey %v: %v", tea.StringValue(m.KeySpec), d, err)
	}
	der := publicKeyDER(t, e, m.KeyId, m.PrimaryKeyVersion)
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		t.Fatal(err)
	}
	point, err := secp256k1.ParsePubKey(info.PublicKey.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("transfer 1 ETH"))
	signed, err := e.client.AsymmetricSign(&kms.AsymmetricSignRequest{KeyId: m.KeyId, KeyVersionId: m.PrimaryKeyVersion, Algorithm: tea.String("ECDSA_SHA_256"),
		Digest: tea.String(base64.StdEncoding.EncodeToString(sum[:]))})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(tea.StringValue(signed.Body.Value))
	if err != nil || !ecdsa.VerifyASN1(&ecdsa.PublicKey{Curve: secp256k1.S256(), X: point.X(), Y: point.Y()}, sum[:], sig) {
		t.Fatalf("the public key does not verify the signature (%v)", err)
	}
}

// ML-DSA keys through the Alibaba SDK: CreateKey of ML_DSA_65 by its own
// method, GetPublicKey's PEM, and AsymmetricSign of a whole Message through
// the generic call (the SDK's request has a Digest only), which circl's
// ML-DSA verifies with the PEM's key.
func TestSDKMLDSAKeys(t *testing.T) {
	e := newEnv(t)
	made, err := e.client.CreateKey(&kms.CreateKeyRequest{KeySpec: tea.String("ML_DSA_65"), KeyUsage: tea.String("SIGN/VERIFY")})
	if err != nil {
		t.Fatal(err)
	}
	m := made.Body.KeyMetadata
	der := publicKeyDER(t, e, m.KeyId, m.PrimaryKeyVersion)
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		t.Fatal(err)
	}
	var pub mldsa65.PublicKey
	if err := pub.UnmarshalBinary(info.PublicKey.Bytes); err != nil {
		t.Fatal(err)
	}
	msg := []byte("firmware 4.2")
	body, err := callAPI(t, e.client, "AsymmetricSign", map[string]any{"KeyId": tea.StringValue(m.KeyId), "Algorithm": "ML_DSA_SHAKE_256",
		"Message": base64.StdEncoding.EncodeToString(msg)})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(body["Value"].(string))
	if err != nil || !mldsa65.Verify(&pub, msg, nil, sig) {
		t.Fatalf("circl does not verify the signature (%v)", err)
	}
	// The SDK's own AsymmetricSign takes a Digest: for ML-DSA, μ, the
	// message's representative, which circl verifies as the message's
	// signature. AsymmetricVerify of μ is UnsupportedOperation.
	mu := base64.StdEncoding.EncodeToString(mldsamu.Of(info.PublicKey.Bytes, msg))
	signed, err := e.client.AsymmetricSign(&kms.AsymmetricSignRequest{KeyId: m.KeyId, KeyVersionId: m.PrimaryKeyVersion, Algorithm: tea.String("ML_DSA_SHAKE_256"), Digest: tea.String(mu)})
	if err != nil {
		t.Fatal(err)
	}
	sig, err = base64.StdEncoding.DecodeString(tea.StringValue(signed.Body.Value))
	if err != nil || !mldsa65.Verify(&pub, msg, nil, sig) {
		t.Fatalf("circl does not verify the signature of μ (%v)", err)
	}
	_, err = e.client.AsymmetricVerify(&kms.AsymmetricVerifyRequest{KeyId: m.KeyId, KeyVersionId: m.PrimaryKeyVersion, Algorithm: tea.String("ML_DSA_SHAKE_256"), Digest: tea.String(mu), Value: signed.Body.Value})
	sdkError(t, err, core.CodeUnsupportedOperation, 400)
}

// publicKeyDER asks GetPublicKey for a key version's public key through the
// SDK's own method and returns the DER its PEM holds.
func publicKeyDER(t *testing.T, e *env, key, version *string) []byte {
	t.Helper()
	pk, err := e.client.GetPublicKey(&kms.GetPublicKeyRequest{KeyId: key, KeyVersionId: version})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(tea.StringValue(pk.Body.PublicKey)))
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("GetPublicKey: %q", tea.StringValue(pk.Body.PublicKey))
	}
	return block.Bytes
}
