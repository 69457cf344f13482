package rpc_test

import (
	"encoding/base64"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
)

// An Aliyun_SM4 key through Alibaba's Go SDK: made, described, and used
// for Encrypt, Decrypt and GenerateDataKey as an AES key is.
func TestSDKSM4Key(t *testing.T) {
	e := newEnv(t)
	made, err := e.client.CreateKey(&kms.CreateKeyRequest{KeySpec: tea.String("Aliyun_SM4"), KeyUsage: tea.String("ENCRYPT/DECRYPT")})
	if err != nil {
		t.Fatalf("CreateKey Aliyun_SM4: %v", err)
	}
	key := tea.StringValue(made.Body.KeyMetadata.KeyId)
	d, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(key)})
	if err != nil || tea.StringValue(d.Body.KeyMetadata.KeySpec) != core.SpecSM4 || tea.StringValue(d.Body.KeyMetadata.KeyUsage) != core.UsageEncrypt {
		t.Fatalf("DescribeKey = %v, %v", d, err)
	}
	enc, err := e.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(key), Plaintext: tea.String(base64.StdEncoding.EncodeToString([]byte("国密")))})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: enc.Body.CiphertextBlob})
	if err != nil || tea.StringValue(dec.Body.KeyId) != key || tea.StringValue(dec.Body.Plaintext) != base64.StdEncoding.EncodeToString([]byte("国密")) {
		t.Fatalf("Decrypt = %v, %v", dec, err)
	}
	dk, err := e.client.GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String(key), KeySpec: tea.String("AES_128")})
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: dk.Body.CiphertextBlob})
	if err != nil || tea.StringValue(again.Body.Plaintext) != tea.StringValue(dk.Body.Plaintext) {
		t.Fatalf("Decrypt of a data key under an SM4 key = %v, %v", again, err)
	}
}
