package rpc_test

import (
	"encoding/xml"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

// GetKeyLastUsage is AWS's operation, answered on the Alibaba API too by
// its name: through the SDK's generic call, a key's last use is the
// Encrypt the SDK made, by the RequestId the SDK read, in JSON and in XML.
func TestGetKeyLastUsageThroughTheAlibabaAPI(t *testing.T) {
	e := newEnv(t)
	key := e.createKey()
	body, err := callAPI(t, e.client, "GetKeyLastUsage", map[string]any{"KeyId": key})
	if err != nil {
		t.Fatal(err)
	}
	if _, used := body["KeyLastUsage"]; used || body["KeyId"] != key || body["KeyCreationDate"] == "" || body["TrackingStartDate"] == "" {
		t.Fatalf("a key no one used: %v", body)
	}

	enc, err := e.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(key), Plaintext: tea.String("aGk=")})
	if err != nil {
		t.Fatal(err)
	}
	body, err = callAPI(t, e.client, "GetKeyLastUsage", map[string]any{"KeyId": key})
	if err != nil {
		t.Fatal(err)
	}
	use, _ := body["KeyLastUsage"].(map[string]any)
	when, err := time.Parse(time.RFC3339, toString(use["Time"]))
	if use["Action"] != "Encrypt" || use["UsageRequestId"] != tea.StringValue(enc.Body.RequestId) || err != nil || time.Since(when) > time.Minute {
		t.Fatalf("after Encrypt: %v", body)
	}

	r := e.get(action("GetKeyLastUsage", "KeyId", key, "Format", "XML"))
	var x struct {
		XMLName      xml.Name
		KeyId        string
		KeyLastUsage struct{ Action, Time, UsageRequestId string }
	}
	if err := xml.Unmarshal(r.body, &x); err != nil || r.status != 200 {
		t.Fatalf("XML: %d %v: %s", r.status, err, r.body)
	}
	if x.XMLName.Local != "GetKeyLastUsageResponse" || x.KeyId != key || x.KeyLastUsage.Action != "Encrypt" || x.KeyLastUsage.UsageRequestId != tea.StringValue(enc.Body.RequestId) {
		t.Errorf("XML answer: %s", r.body)
	}
}

func toString(v any) string { s, _ := v.(string); return s }
