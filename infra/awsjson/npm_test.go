package awsjson_test

import (
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsless/kmsless/internal/npmtest"
)

// TestJavaScriptClientsRoundTrip drives kmsless through the AWS SDK for
// JavaScript and the AWS Encryption SDK on it (testdata/esdk.js), data key
// pairs included, used with Node's own crypto.
func TestJavaScriptClientsRoundTrip(t *testing.T) {
	mods := npmtest.Modules(t, "@aws-sdk/client-kms@3.1178.0", "@aws-crypto/client-node@5.0.2")
	e := newEnv(t)
	k, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	npmtest.Run(t, mods, filepath.Join("testdata", "esdk.js"),
		"KMSLESS_ENDPOINT="+e.srv.URL, "KMSLESS_KEY_ARN="+aws.ToString(k.KeyMetadata.Arn),
		"KMSLESS_REGION="+testRegion, "KMSLESS_ACCESS_KEY_ID="+adminID, "KMSLESS_SECRET="+adminSecret)
}
