package awsjson_test

import (
	"testing"

	alikms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsless/kmsless/core"
)

// An Aliyun_SM4 key through the AWS SDK for Go: a symmetric key AWS does
// not make, so not made through AWS's API, but made through Alibaba's,
// described by its own KeySpec with AWS's one symmetric algorithm, and
// used as any symmetric key.
func TestSDKSM4Key(t *testing.T) {
	e := newEnv(t)
	_, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{KeySpec: types.KeySpec(core.SpecSM4)})
	apiError(t, err, "ValidationException")
	made, err := e.ali.CreateKey(&alikms.CreateKeyRequest{KeySpec: tea.String(core.SpecSM4)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.aws.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: made.Body.KeyMetadata.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	m := out.KeyMetadata
	if string(m.KeySpec) != core.SpecSM4 || m.KeyUsage != types.KeyUsageTypeEncryptDecrypt ||
		len(m.EncryptionAlgorithms) != 1 || m.EncryptionAlgorithms[0] != types.EncryptionAlgorithmSpecSymmetricDefault {
		t.Fatalf("DescribeKey's metadata: KeySpec %s, KeyUsage %s, EncryptionAlgorithms %v", m.KeySpec, m.KeyUsage, m.EncryptionAlgorithms)
	}
	enc, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: m.KeyId, Plaintext: []byte("sm4"), EncryptionContext: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"a": "b"}})
	if err != nil || string(dec.Plaintext) != "sm4" || aws.ToString(dec.KeyId) != aws.ToString(m.Arn) {
		t.Fatalf("Decrypt = %+v, %v", dec, err)
	}
	if _, err := e.aws.RotateKeyOnDemand(bg, &kms.RotateKeyOnDemandInput{KeyId: m.KeyId}); err != nil {
		t.Fatalf("RotateKeyOnDemand of an SM4 key: %v", err)
	}
}
