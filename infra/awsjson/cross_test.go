package awsjson_test

import (
	"bytes"
	"encoding/base64"
	"testing"

	alikms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// One key space: what one protocol makes, the other reads.

func TestAlibabaBlobDecryptsThroughAWS(t *testing.T) {
	e := newEnv(t)
	k, err := e.ali.CreateKey(&alikms.CreateKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	id := tea.StringValue(k.Body.KeyMetadata.KeyId)
	dk, err := e.ali.GenerateDataKey(&alikms.GenerateDataKeyRequest{KeyId: tea.String(id), EncryptionContext: map[string]any{"partition": "p-7"}})
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := base64.StdEncoding.DecodeString(tea.StringValue(dk.Body.CiphertextBlob))
	want, _ := base64.StdEncoding.DecodeString(tea.StringValue(dk.Body.Plaintext))
	out, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{"partition": "p-7"}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Plaintext, want) || aws.ToString(out.KeyId) != keyARN(id) {
		t.Errorf("AWS Decrypt of an Alibaba blob: KeyId %q, same plaintext %v", aws.ToString(out.KeyId), bytes.Equal(out.Plaintext, want))
	}
}

func TestAWSBlobDecryptsThroughAlibaba(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	dk, err := e.aws.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(keyARN(id)), KeySpec: types.DataKeySpecAes256,
		EncryptionContext: map[string]string{"partition": "p-7"}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.ali.Decrypt(&alikms.DecryptRequest{CiphertextBlob: tea.String(base64.StdEncoding.EncodeToString(dk.CiphertextBlob)),
		EncryptionContext: map[string]any{"partition": "p-7"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := base64.StdEncoding.DecodeString(tea.StringValue(out.Body.Plaintext))
	if !bytes.Equal(got, dk.Plaintext) || tea.StringValue(out.Body.KeyId) != id {
		t.Errorf("Alibaba Decrypt of an AWS blob: KeyId %q, same plaintext %v", tea.StringValue(out.Body.KeyId), bytes.Equal(got, dk.Plaintext))
	}
}

func TestAliasesAndDisablesCrossProtocols(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	if _, err := e.ali.CreateAlias(&alikms.CreateAliasRequest{AliasName: tea.String("alias/shared"), KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	d, err := e.aws.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String("alias/shared")})
	if err != nil || aws.ToString(d.KeyMetadata.KeyId) != id {
		t.Fatalf("AWS DescribeKey of an Alibaba alias: %v", err)
	}
	if _, err := e.aws.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String("alias/from-aws"), TargetKeyId: aws.String(keyARN(id))}); err != nil {
		t.Fatal(err)
	}
	ad, err := e.ali.DescribeKey(&alikms.DescribeKeyRequest{KeyId: tea.String("alias/from-aws")})
	if err != nil || tea.StringValue(ad.Body.KeyMetadata.KeyId) != id {
		t.Fatalf("Alibaba DescribeKey of an AWS alias: %v", err)
	}

	if _, err := e.aws.DisableKey(bg, &kms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ali.Encrypt(&alikms.EncryptRequest{KeyId: tea.String("alias/shared"), Plaintext: tea.String("eA==")})
	if se, ok := err.(*tea.SDKError); !ok || tea.StringValue(se.Code) != "Rejected.Disabled" {
		t.Fatalf("Alibaba Encrypt under a key disabled through AWS: %v", err)
	}
	if _, err := e.ali.EnableKey(&alikms.EnableKeyRequest{KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ali.DisableKey(&alikms.DisableKeyRequest{KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String("alias/from-aws"), Plaintext: []byte("x")})
	var disabled *types.DisabledException
	if !asType(err, &disabled) {
		t.Fatalf("AWS Encrypt under a key disabled through Alibaba: %v", err)
	}
}
