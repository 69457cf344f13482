package rpc_test

import (
	"encoding/base64"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

// HMAC keys through the Alibaba SDK: CreateKey makes one with its KeySpec
// and usage, DescribeKey says so, and the MAC operations, AWS's, answer
// through the SDK's generic call under Alibaba's member names. The
// envelope operations refuse the key, and it makes no new versions.
func TestSDKHMACKeys(t *testing.T) {
	e := newEnv(t)
	made, err := e.client.CreateKey(&kms.CreateKeyRequest{KeySpec: tea.String("HMAC_256"), KeyUsage: tea.String("GENERATE/VERIFY_MAC")})
	if err != nil {
		t.Fatal(err)
	}
	key := tea.StringValue(made.Body.KeyMetadata.KeyId)
	d, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if m := d.Body.KeyMetadata; tea.StringValue(m.KeySpec) != "HMAC_256" || tea.StringValue(m.KeyUsage) != "GENERATE/VERIFY_MAC" {
		t.Errorf("DescribeKey: %s %s", tea.StringValue(m.KeySpec), tea.StringValue(m.KeyUsage))
	}
	msg := base64.StdEncoding.EncodeToString([]byte("user=alice"))
	body, err := callAPI(t, e.client, "GenerateMac", map[string]any{"KeyId": key, "Message": msg, "MacAlgorithm": "HMAC_SHA_256"})
	if err != nil {
		t.Fatal(err)
	}
	mac, _ := body["Mac"].(string)
	if raw, err := base64.StdEncoding.DecodeString(mac); err != nil || len(raw) != 32 || body["KeyId"] != key || body["MacAlgorithm"] != "HMAC_SHA_256" || body["KeyVersionId"] == "" {
		t.Fatalf("GenerateMac: %v", body)
	}
	body, err = callAPI(t, e.client, "VerifyMac", map[string]any{"KeyId": key, "Message": msg, "MacAlgorithm": "HMAC_SHA_256", "Mac": mac})
	if err != nil || body["MacValid"] != true {
		t.Fatalf("VerifyMac: %v %v", body, err)
	}
	_, err = callAPI(t, e.client, "VerifyMac", map[string]any{"KeyId": key, "Message": base64.StdEncoding.EncodeToString([]byte("user=bob")), "MacAlgorithm": "HMAC_SHA_256", "Mac": mac})
	sdkError(t, err, "InvalidMac", 400)
	_, err = e.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(key), Plaintext: tea.String("cA==")})
	sdkError(t, err, "InvalidKeyUsage", 400)
	_, err = e.client.CreateKeyVersion(&kms.CreateKeyVersionRequest{KeyId: tea.String(key)})
	sdkError(t, err, "Unsupported.KeySpec", 400)
	_, err = callAPI(t, e.client, "GenerateMac", map[string]any{"KeyId": e.createKey(), "Message": msg, "MacAlgorithm": "HMAC_SHA_256"})
	sdkError(t, err, "InvalidKeyUsage", 400)
}
