package awsjson_test

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// ReEncrypt through the AWS SDK for Go moves an RSA key's ciphertext under
// a symmetric key, and a symmetric key's under an SM2 key, answering the
// algorithm on each side; the asymmetric side needs its key and binds no
// context.
func TestSDKReEncryptToAndFromAsymmetricKeys(t *testing.T) {
	e := newEnv(t)
	newKey := func(in *kms.CreateKeyInput) *types.KeyMetadata {
		out, err := e.aws.CreateKey(bg, in)
		if err != nil {
			t.Fatal(err)
		}
		return out.KeyMetadata
	}
	aes := newKey(&kms.CreateKeyInput{})
	rsaKey := newKey(&kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	sm2Key := newKey(&kms.CreateKeyInput{KeySpec: types.KeySpecSm2, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	secret := []byte("a database password")
	enc, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: rsaKey.KeyId, Plaintext: secret, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
	if err != nil {
		t.Fatal(err)
	}
	ctx := map[string]string{"app": "billing"}
	re, err := e.aws.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceKeyId: rsaKey.KeyId,
		SourceEncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256, DestinationKeyId: aes.KeyId, DestinationEncryptionContext: ctx})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(re.SourceKeyId) != aws.ToString(rsaKey.Arn) || aws.ToString(re.KeyId) != aws.ToString(aes.Arn) ||
		re.SourceEncryptionAlgorithm != types.EncryptionAlgorithmSpecRsaesOaepSha256 || re.DestinationEncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
		t.Errorf("ReEncrypt from RSA: %+v", re)
	}
	dec, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob, EncryptionContext: ctx})
	if err != nil || !bytes.Equal(dec.Plaintext, secret) {
		t.Fatalf("Decrypt of what ReEncrypt made: %v", err)
	}
	_, err = e.aws.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob,
		SourceEncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256, DestinationKeyId: aes.KeyId})
	apiError(t, err, "ValidationException")

	re, err = e.aws.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: re.CiphertextBlob, SourceEncryptionContext: ctx,
		DestinationKeyId: sm2Key.KeyId, DestinationEncryptionAlgorithm: types.EncryptionAlgorithmSpecSm2pke})
	if err != nil {
		t.Fatal(err)
	}
	if re.SourceEncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault || re.DestinationEncryptionAlgorithm != types.EncryptionAlgorithmSpecSm2pke {
		t.Errorf("ReEncrypt to SM2: %+v", re)
	}
	dec, err = e.aws.Decrypt(bg, &kms.DecryptInput{KeyId: sm2Key.KeyId, CiphertextBlob: re.CiphertextBlob, EncryptionAlgorithm: types.EncryptionAlgorithmSpecSm2pke})
	if err != nil || !bytes.Equal(dec.Plaintext, secret) {
		t.Fatalf("Decrypt under the SM2 key: %v", err)
	}
	_, err = e.aws.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: re.CiphertextBlob, SourceKeyId: sm2Key.KeyId,
		SourceEncryptionAlgorithm: types.EncryptionAlgorithmSpecSm2pke, DestinationKeyId: rsaKey.KeyId,
		DestinationEncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha1, DestinationEncryptionContext: ctx})
	apiError(t, err, "ValidationException")
}
