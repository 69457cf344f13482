package rpc_test

import (
	"path/filepath"
	"strings"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/internal/npmtest"
)

// TestJavaScriptClientsRoundTrip drives the service through Alibaba Cloud's
// JavaScript clients (testdata/alibaba_clients.js): the KMS client and
// pop-core, which sign with SignatureVersion 1.0, and the generic OpenAPI
// client, which signs ACS3 over the query string or a form body; pop-core and
// the generic client put a key policy and read it back.
func TestJavaScriptClientsRoundTrip(t *testing.T) {
	mods := npmtest.Modules(t, "@alicloud/kms20160120@1.2.0", "@alicloud/pop-core@1.8.0",
		"@alicloud/openapi-client@0.4.15", "@alicloud/tea-util@1.4.11")
	e := newEnv(t)
	id := e.createKey()
	if _, err := e.client.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/js-clients"), KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	npmtest.Run(t, mods, filepath.Join("testdata", "alibaba_clients.js"),
		"KMSLESS_ENDPOINT="+strings.TrimPrefix(e.srv.URL, "http://"),
		"KMSLESS_ALIAS=alias/js-clients", "KMSLESS_KEY_ID="+id, "KMSLESS_ACCESS_KEY_ID="+adminID, "KMSLESS_SECRET="+adminSecret,
		"KMSLESS_ACCOUNT="+testAccount)
}
