package rpc_test

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	openapiutil "github.com/alibabacloud-go/openapi-util/service"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
)

// callAPI sends an action the SDK has no method for through its own generic
// call, signed (ACS3) and sent as the SDK sends its generated actions.
func callAPI(t *testing.T, c *kms.Client, action string, query map[string]any) (map[string]any, error) {
	t.Helper()
	params := &openapi.Params{
		Action: tea.String(action), Version: tea.String("2016-01-20"), Protocol: tea.String("HTTPS"),
		Pathname: tea.String("/"), Method: tea.String("POST"), AuthType: tea.String("AK"),
		Style: tea.String("RPC"), ReqBodyType: tea.String("formData"), BodyType: tea.String("json"),
	}
	out, err := c.CallApi(params, &openapi.OpenApiRequest{Query: openapiutil.Query(query)}, &util.RuntimeOptions{})
	if err != nil {
		return nil, err
	}
	body, _ := out["body"].(map[string]any)
	return body, nil
}

// Data key pairs are AWS operations, answered on the Alibaba API too under
// the member names Alibaba's instance API gives them, in AWS's specs and
// DER: through the
// SDK's generic call, GenerateDataKeyPair returns a pair whose private key
// Decrypt gives back from the blob, and its WithoutPlaintext twin leaves the
// private key out, in JSON and in XML.
func TestSDKDataKeyPairs(t *testing.T) {
	e := newEnv(t)
	key := e.createKey()
	body, err := callAPI(t, e.client, "GenerateDataKeyPair", map[string]any{"KeyId": key, "KeyPairSpec": "ECC_NIST_P256", "EncryptionContext": `{"a":"1"}`})
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) []byte {
		s, _ := body[name].(string)
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %q (%v)", name, s, err)
		}
		return b
	}
	if body["KeyId"] != key || body["KeyPairSpec"] != "ECC_NIST_P256" || body["KeyVersionId"] == "" || body["RequestId"] == "" {
		t.Errorf("members: KeyId %v KeyPairSpec %v KeyVersionId %v RequestId %v", body["KeyId"], body["KeyPairSpec"], body["KeyVersionId"], body["RequestId"])
	}
	pub, err := x509.ParsePKIXPublicKey(field("PublicKey"))
	if err != nil {
		t.Fatal(err)
	}
	der := field("PrivateKeyPlaintext")
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(priv.(crypto.Signer).Public()) {
		t.Error("the private key is not the public key's")
	}
	dec, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: tea.String(body["PrivateKeyCiphertextBlob"].(string)), EncryptionContext: map[string]any{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(dec.Body.Plaintext) != base64.StdEncoding.EncodeToString(der) {
		t.Error("Decrypt gives another private key than the one returned")
	}

	body, err = callAPI(t, e.client, "GenerateDataKeyPairWithoutPlaintext", map[string]any{"KeyId": key, "KeyPairSpec": "ECC_NIST_P384"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := body["PrivateKeyPlaintext"]; ok {
		t.Error("GenerateDataKeyPairWithoutPlaintext returned a private key")
	}
	field("PublicKey")
	field("PrivateKeyCiphertextBlob")

	r := e.get(action("GenerateDataKeyPairWithoutPlaintext", "KeyId", key, "KeyPairSpec", "ECC_NIST_P256", "Format", "XML"))
	var x struct {
		XMLName             xml.Name
		PublicKey           string
		PrivateKeyPlaintext *string
	}
	if err := xml.Unmarshal(r.body, &x); err != nil || r.status != 200 {
		t.Fatalf("XML: %d %v: %s", r.status, err, r.body)
	}
	if x.XMLName.Local != "GenerateDataKeyPairWithoutPlaintextResponse" || x.PublicKey == "" || x.PrivateKeyPlaintext != nil {
		t.Errorf("XML answer: %s", r.body)
	}

	// Alibaba's instance API writes PEM by default; this one writes DER and
	// says so rather than answer in another format than asked.
	_, err = callAPI(t, e.client, "GenerateDataKeyPair", map[string]any{"KeyId": key, "KeyPairSpec": "ECC_NIST_P256", "KeyFormat": "PEM"})
	sdkError(t, err, "InvalidParameter", 400)
	_, err = callAPI(t, e.client, "GenerateDataKeyPair", map[string]any{"KeyId": key, "KeyPairSpec": "ECC_NIST_P224"})
	if e := sdkError(t, err, "InvalidParameter", 400); !strings.Contains(tea.StringValue(e.Message), "KeyPairSpec") {
		t.Errorf("refusal: %s", tea.StringValue(e.Message))
	}
}
