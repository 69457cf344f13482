package rpc_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	openapiutil "github.com/alibabacloud-go/openapi-util/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/internal/signtest"
)

// TestACS3SignerMatchesTheSDK checks the benchmark's request signer against the
// SDK's own: the load generator must send what the SDK sends.
func TestACS3SignerMatchesTheSDK(t *testing.T) {
	query := url.Values{"KeyId": {"alias/p q*~"}, "EncryptionContext": {`{"a":"b+c"}`}, "NumberOfBytes": {"32"}}
	r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:8080/?"+query.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	signtest.ACS3(r, "GenerateDataKeyWithoutPlaintext", adminID, adminSecret, time.Now())

	sdkReq := tea.NewRequest()
	sdkReq.Method, sdkReq.Pathname = tea.String(http.MethodPost), tea.String("/")
	for k := range query {
		sdkReq.Query[k] = tea.String(query.Get(k))
	}
	sdkReq.Headers["host"] = tea.String("127.0.0.1:8080")
	sdkReq.Headers["user-agent"] = tea.String("not signed")
	for _, h := range []string{"x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"} {
		sdkReq.Headers[h] = tea.String(r.Header.Get(h))
	}
	want := openapiutil.GetAuthorization(sdkReq, tea.String("ACS3-HMAC-SHA256"), tea.String(signtest.EmptySHA256), tea.String(adminID), tea.String(adminSecret))
	if got := r.Header.Get("Authorization"); got != tea.StringValue(want) {
		t.Fatalf("signer disagrees with the SDK:\n got %s\nwant %s", got, tea.StringValue(want))
	}
}
