package awsjson_test

import (
	"bytes"
	"crypto/rand"
	"testing"

	alikms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
	tjx509 "github.com/tjfoc/gmsm/x509"
)

// sm2Public is an SM2 key's public key through GetPublicKey, as tjfoc's
// SM2 reads it.
func sm2Public(t *testing.T, e *env, id *string) (*tjsm2.PublicKey, *kms.GetPublicKeyOutput) {
	t.Helper()
	out, err := e.aws.GetPublicKey(bg, &kms.GetPublicKeyInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := tjx509.ParseSm2PublicKey(out.PublicKey)
	if err != nil || !pub.Curve.IsOnCurve(pub.X, pub.Y) {
		t.Fatalf("tjfoc reads no SM2 public key: %v", err)
	}
	return pub, out
}

// SM2 keys through the AWS SDK for Go, judged by tjfoc's SM2: Sign of a
// RAW message (SM3 over Z and the message, Z with the default ID, as AWS
// documents) and of a DIGEST; Encrypt and Decrypt with SM2PKE, to AWS's
// 1024 bytes; DeriveSharedSecret; SM2 data key pairs. A key made through
// AWS's API is EC_SM2 to Alibaba's SDK.
func TestSDKSM2Keys(t *testing.T) {
	e := newEnv(t)
	made, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{KeySpec: types.KeySpecSm2, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	id := made.KeyMetadata.KeyId
	if m := made.KeyMetadata; m.KeySpec != types.KeySpecSm2 || len(m.SigningAlgorithms) != 1 || m.SigningAlgorithms[0] != types.SigningAlgorithmSpecSm2dsa {
		t.Errorf("CreateKey's metadata: %s %v", m.KeySpec, m.SigningAlgorithms)
	}
	pub, pk := sm2Public(t, e, id)
	if pk.KeySpec != types.KeySpecSm2 || len(pk.SigningAlgorithms) != 1 || pk.SigningAlgorithms[0] != types.SigningAlgorithmSpecSm2dsa {
		t.Errorf("GetPublicKey: %s %v", pk.KeySpec, pk.SigningAlgorithms)
	}
	msg := []byte("transfer 100 to account 42")
	d, err := pub.Sm3Digest(msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	digest := append(make([]byte, 32-len(d)), d...)
	for _, in := range []*kms.SignInput{
		{KeyId: id, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecSm2dsa},
		{KeyId: id, Message: digest, MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecSm2dsa},
	} {
		out, err := e.aws.Sign(bg, in)
		if err != nil {
			t.Fatalf("Sign %s: %v", in.MessageType, err)
		}
		if !pub.Verify(msg, out.Signature) {
			t.Errorf("Sign %s: tjfoc does not verify the signature over the message", in.MessageType)
		}
		v, err := e.aws.Verify(bg, &kms.VerifyInput{KeyId: id, Message: in.Message, MessageType: in.MessageType, SigningAlgorithm: in.SigningAlgorithm, Signature: out.Signature})
		if err != nil || !v.SignatureValid {
			t.Errorf("Verify %s of its signature: %v", in.MessageType, err)
		}
		_, err = e.aws.Verify(bg, &kms.VerifyInput{KeyId: id, Message: []byte("transfer 900 to account 42"), SigningAlgorithm: in.SigningAlgorithm, Signature: out.Signature})
		apiError(t, err, "KMSInvalidSignatureException")
	}
	_, err = e.aws.Sign(bg, &kms.SignInput{KeyId: id, Message: digest[:20], MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecSm2dsa})
	apiError(t, err, "ValidationException")
	_, err = e.aws.Sign(bg, &kms.SignInput{KeyId: id, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	apiError(t, err, "InvalidKeyUsageException")
	ali, err := e.ali.DescribeKey(&alikms.DescribeKeyRequest{KeyId: id})
	if err != nil || tea.StringValue(ali.Body.KeyMetadata.KeySpec) != "EC_SM2" {
		t.Errorf("Alibaba's DescribeKey: %v %v", ali, err)
	}

	made, err = e.aws.CreateKey(bg, &kms.CreateKeyInput{KeySpec: types.KeySpecSm2, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	if err != nil {
		t.Fatal(err)
	}
	id = made.KeyMetadata.KeyId
	if algs := made.KeyMetadata.EncryptionAlgorithms; len(algs) != 1 || algs[0] != types.EncryptionAlgorithmSpecSm2pke {
		t.Errorf("EncryptionAlgorithms %v", algs)
	}
	pub, _ = sm2Public(t, e, id)
	pt := make([]byte, 1024)
	rand.Read(pt)
	enc, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: id, Plaintext: pt, EncryptionAlgorithm: types.EncryptionAlgorithmSpecSm2pke})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := e.aws.Decrypt(bg, &kms.DecryptInput{KeyId: id, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: types.EncryptionAlgorithmSpecSm2pke})
	if err != nil || !bytes.Equal(dec.Plaintext, pt) || dec.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSm2pke {
		t.Fatalf("Decrypt of its ciphertext: %v", err)
	}
	theirs, err := pub.EncryptAsn1(pt, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dec, err = e.aws.Decrypt(bg, &kms.DecryptInput{KeyId: id, CiphertextBlob: theirs, EncryptionAlgorithm: types.EncryptionAlgorithmSpecSm2pke})
	if err != nil || !bytes.Equal(dec.Plaintext, pt) {
		t.Fatalf("Decrypt of tjfoc's ciphertext: %v", err)
	}
	_, err = e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: id, Plaintext: append(pt, 0), EncryptionAlgorithm: types.EncryptionAlgorithmSpecSm2pke})
	apiError(t, err, "ValidationException")
	_, err = e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: types.EncryptionAlgorithmSpecSm2pke})
	apiError(t, err, "ValidationException")

	made, err = e.aws.CreateKey(bg, &kms.CreateKeyInput{KeySpec: types.KeySpecSm2, KeyUsage: types.KeyUsageTypeKeyAgreement})
	if err != nil {
		t.Fatal(err)
	}
	id = made.KeyMetadata.KeyId
	pub, _ = sm2Public(t, e, id)
	peer, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	peerDER, err := tjx509.MarshalSm2PublicKey(&peer.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := e.aws.DeriveSharedSecret(bg, &kms.DeriveSharedSecretInput{KeyId: id, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: peerDER})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := pub.Curve.ScalarMult(pub.X, pub.Y, peer.D.Bytes())
	if !bytes.Equal(shared.SharedSecret, x.FillBytes(make([]byte, 32))) {
		t.Error("DeriveSharedSecret: not the secret the peer derives")
	}

	aes, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := e.aws.GenerateDataKeyPair(bg, &kms.GenerateDataKeyPairInput{KeyId: aes.KeyMetadata.KeyId, KeyPairSpec: types.DataKeyPairSpecSm2})
	if err != nil {
		t.Fatal(err)
	}
	priv, err := tjx509.ParsePKCS8UnecryptedPrivateKey(pair.PrivateKeyPlaintext)
	if err != nil {
		t.Fatalf("tjfoc reads no SM2 private key: %v", err)
	}
	pairPub, err := tjx509.ParseSm2PublicKey(pair.PublicKey)
	if err != nil || pairPub.X.Cmp(priv.X) != 0 || pairPub.Y.Cmp(priv.Y) != 0 || pair.KeyPairSpec != types.DataKeyPairSpecSm2 {
		t.Errorf("the pair's public key is not its private key's: %v", err)
	}
}

// Key material imported under an SM2 wrapping key with SM2PKE, wrapped by
// tjfoc's SM2, through the AWS SDK for Go; other material is then refused
// as AWS refuses it.
func TestSDKImportUnderSM2(t *testing.T) {
	e := newEnv(t)
	made, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	if err != nil {
		t.Fatal(err)
	}
	id := made.KeyMetadata.KeyId
	material := make([]byte, 32)
	rand.Read(material)
	wrap := func(m []byte) (*kms.ImportKeyMaterialInput, error) {
		p, err := e.aws.GetParametersForImport(bg, &kms.GetParametersForImportInput{KeyId: id,
			WrappingAlgorithm: types.AlgorithmSpecSm2pke, WrappingKeySpec: types.WrappingKeySpecSm2})
		if err != nil {
			return nil, err
		}
		pub, err := tjx509.ParseSm2PublicKey(p.PublicKey)
		if err != nil {
			t.Fatalf("tjfoc reads no SM2 wrapping key: %v", err)
		}
		wrapped, err := pub.EncryptAsn1(m, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped,
			ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire}, nil
	}
	in, err := wrap(material)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.aws.ImportKeyMaterial(bg, in); err != nil {
		t.Fatal(err)
	}
	enc, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: id, Plaintext: []byte("imported")})
	if err != nil {
		t.Fatal(err)
	}
	if dec, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil || string(dec.Plaintext) != "imported" {
		t.Fatalf("Decrypt under the imported material: %v", err)
	}
	other := bytes.Clone(material)
	other[0] ^= 1
	in, err = wrap(other)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.aws.ImportKeyMaterial(bg, in)
	apiError(t, err, "IncorrectKeyMaterialException")
	_, err = e.aws.GetParametersForImport(bg, &kms.GetParametersForImportInput{KeyId: id,
		WrappingAlgorithm: types.AlgorithmSpecSm2pke, WrappingKeySpec: types.WrappingKeySpecRsa2048})
	apiError(t, err, "ValidationException")
}
