package rpc_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
)

// Secret policies through the official Alibaba Cloud KMS Go SDK:
// SetSecretPolicy, GetSecretPolicy and CreateSecret's Policy, and what a
// policy put on a secret does to app, whose own policy allows it nothing,
// with its own SDK client.

func setSecretPolicy(c *kms.Client, name, doc string) error {
	_, err := c.SetSecretPolicy(&kms.SetSecretPolicyRequest{SecretName: tea.String(name), Policy: tea.String(doc), PolicyName: tea.String("default")})
	return err
}

func getSecretPolicy(t *testing.T, c *kms.Client, name string) string {
	t.Helper()
	r, err := c.GetSecretPolicy(&kms.GetSecretPolicyRequest{SecretName: tea.String(name), PolicyName: tea.String("default")})
	if err != nil {
		t.Fatalf("GetSecretPolicy %s: %v", name, err)
	}
	return tea.StringValue(r.Body.Policy)
}

func createSecret(t *testing.T, c *kms.Client, name, key, data string) {
	t.Helper()
	if _, err := c.CreateSecret(&kms.CreateSecretRequest{SecretName: tea.String(name), VersionId: tea.String("v1"),
		SecretData: tea.String(data), EncryptionKeyId: tea.String(key)}); err != nil {
		t.Fatalf("CreateSecret %s: %v", name, err)
	}
}

func secretValue(c *kms.Client, name string) (string, error) {
	r, err := c.GetSecretValue(&kms.GetSecretValueRequest{SecretName: tea.String(name)})
	if err != nil {
		return "", err
	}
	return tea.StringValue(r.Body.SecretData), nil
}

// TestSDKSecretPolicy: a secret's policy, put and read through the SDK,
// lets app read that secret, with Decrypt on its key from the key's own
// policy, and nothing else; refusals are the SDK's errors and change
// nothing.
func TestSDKSecretPolicy(t *testing.T) {
	e := newEnv(t, withKeyPolicyPrincipals)
	key := e.createKey()
	createSecret(t, e.client, "app/token", key, "t0k3n")
	createSecret(t, e.client, "app/other", key, "other")
	if got := getSecretPolicy(t, e.client, "app/token"); got != defaultKeyPolicy {
		t.Fatalf("GetSecretPolicy of a new secret:\n got %s\nwant %s", got, defaultKeyPolicy)
	}
	doc := "{\n  \"Version\": \"1\",\n  \"Statement\": [" + accountStmt + ",\n    " +
		stmt("Allow", ramUser("app"), "kms:GetSecretValue", "kms:DescribeSecret") + "]\n}"
	if err := setSecretPolicy(e.client, "app/token", doc); err != nil {
		t.Fatalf("SetSecretPolicy: %v", err)
	}
	if got := getSecretPolicy(t, e.client, secretARN("app/token")); got != doc {
		t.Fatalf("GetSecretPolicy by ARN after SetSecretPolicy:\n got %q\nwant %q", got, doc)
	}

	app := e.sdk(appID, appSecret)
	// Named by the secret's policy but not by its key's: no value.
	_, err := secretValue(app, "app/token")
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	if err := setKeyPolicy(e.client, key, ramDoc(accountStmt, stmt("Allow", ramUser("app"), "kms:Decrypt"))); err != nil {
		t.Fatal(err)
	}
	if v, err := secretValue(app, "app/token"); err != nil || v != "t0k3n" {
		t.Fatalf("app's GetSecretValue = %q, %v", v, err)
	}
	if _, err := app.DescribeSecret(&kms.DescribeSecretRequest{SecretName: tea.String("app/token")}); err != nil {
		t.Fatalf("app's DescribeSecret: %v", err)
	}
	// Any other secret, one that does not exist, and any action not named
	// are refused alike.
	for _, name := range []string{"app/other", "app/none"} {
		_, err := secretValue(app, name)
		sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	}
	_, err = app.PutSecretValue(&kms.PutSecretValueRequest{SecretName: tea.String("app/token"), VersionId: tea.String("v2"), SecretData: tea.String("x")})
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	sdkError(t, setSecretPolicy(app, "app/token", doc), core.CodeNoPermission, http.StatusForbidden)
	_, err = app.GetSecretPolicy(&kms.GetSecretPolicyRequest{SecretName: tea.String("app/token")})
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)

	// Malformed, locking out, or of another name: refused, nothing changed.
	for _, bad := range []string{
		`{"Version":"1","Statement":[`,
		ramDoc(`{"Effect":"Allow","Principal":{"RAM":["*"]},"Action":["kms:*"],"Resource":["` + secretARN("app/token") + `"]}`),
		ramDoc(stmt("Allow", ramUser("app"), "kms:*")),
	} {
		sdkError(t, setSecretPolicy(e.client, "app/token", bad), core.CodeMalformedPolicy, http.StatusBadRequest)
	}
	_, err = e.client.SetSecretPolicy(&kms.SetSecretPolicyRequest{SecretName: tea.String("app/token"), Policy: tea.String(doc), PolicyName: tea.String("other")})
	sdkError(t, err, core.CodeResourceNotFound, http.StatusNotFound)
	_, err = e.client.GetSecretPolicy(&kms.GetSecretPolicyRequest{SecretName: tea.String("app/token"), PolicyName: tea.String("other")})
	sdkError(t, err, core.CodeResourceNotFound, http.StatusNotFound)
	if got := getSecretPolicy(t, e.client, "app/token"); got != doc {
		t.Errorf("a refused SetSecretPolicy changed the policy: %s", got)
	}

	// CreateSecret's Policy is the new secret's, naming app at once; one
	// that locks its creator out makes no secret.
	if _, err := e.client.CreateSecret(&kms.CreateSecretRequest{SecretName: tea.String("app/born"), VersionId: tea.String("v1"),
		SecretData: tea.String("born"), EncryptionKeyId: tea.String(key), Policy: tea.String(doc)}); err != nil {
		t.Fatalf("CreateSecret with Policy: %v", err)
	}
	if v, err := secretValue(app, "app/born"); err != nil || v != "born" {
		t.Fatalf("app's GetSecretValue of a secret made with a policy = %q, %v", v, err)
	}
	_, err = e.client.CreateSecret(&kms.CreateSecretRequest{SecretName: tea.String("app/locked"), VersionId: tea.String("v1"),
		SecretData: tea.String("x"), EncryptionKeyId: tea.String(key), Policy: tea.String(ramDoc(stmt("Allow", ramUser("app"), "kms:*")))})
	sdkError(t, err, core.CodeMalformedPolicy, http.StatusBadRequest)
	_, err = e.client.DescribeSecret(&kms.DescribeSecretRequest{SecretName: tea.String("app/locked")})
	sdkError(t, err, core.CodeResourceNotFound, http.StatusNotFound)

	// The bypass, which the SDK's request type lacks, through its generic
	// call: the admin is out, and ops, through the account, is not.
	locked := ramDoc(accountStmt, stmt("Deny", ramUser("admin"), "kms:*"))
	if _, err := callAPI(t, e.client, "SetSecretPolicy", map[string]any{"SecretName": "app/token", "Policy": locked, "BypassPolicyLockoutSafetyCheck": "true"}); err != nil {
		t.Fatalf("SetSecretPolicy with BypassPolicyLockoutSafetyCheck: %v", err)
	}
	_, err = secretValue(e.client, "app/token")
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	ops := e.sdk(opsID, opsSecret)
	if v, err := secretValue(ops, "app/token"); err != nil || v != "t0k3n" {
		t.Errorf("ops' GetSecretValue = %q, %v", v, err)
	}
	if err := setSecretPolicy(ops, "app/token", doc); err != nil {
		t.Errorf("ops mends the policy: %v", err)
	}
}

// TestSetSecretPolicyIsAudited: SetSecretPolicy is a read-write event on
// the secret keeping the policy's first 256 bytes; GetSecretPolicy a
// read-only one.
func TestSetSecretPolicyIsAudited(t *testing.T) {
	a := newAudited(t, filepath.Join(t.TempDir(), "audit.jsonl"))
	key := a.createKey()
	createSecret(t, a.client, "s", key, "v")
	long := ramDoc(accountStmt, `{"Sid":"`+strings.Repeat("s", 400)+`","Effect":"Allow","Principal":"*","Action":"kms:DescribeSecret","Resource":"*"}`)
	set, err := a.client.SetSecretPolicy(&kms.SetSecretPolicyRequest{SecretName: tea.String("s"), Policy: tea.String(long)})
	if err != nil {
		t.Fatal(err)
	}
	get, err := a.client.GetSecretPolicy(&kms.GetSecretPolicyRequest{SecretName: tea.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	recs, text := a.records(t)
	if strings.Contains(text, strings.Repeat("s", 300)) {
		t.Errorf("the trail keeps a long policy whole")
	}
	seen := 0
	for _, r := range recs {
		switch r.RequestID {
		case tea.StringValue(set.Body.RequestId):
			seen++
			p := r.RequestParameters
			if r.EventName != "SetSecretPolicy" || r.ReadOnly || r.ErrorCode != "" || p["secretName"] != "s" || p["policy"] != long[:256]+"…" {
				t.Errorf("SetSecretPolicy's record: eventName %q readOnly %v errorCode %q parameters %v", r.EventName, r.ReadOnly, r.ErrorCode, p)
			}
			if len(r.Resources) != 1 || r.Resources[0].ARN != secretARN("s") {
				t.Errorf("SetSecretPolicy's resources: %+v", r.Resources)
			}
		case tea.StringValue(get.Body.RequestId):
			seen++
			if r.EventName != "GetSecretPolicy" || !r.ReadOnly {
				t.Errorf("GetSecretPolicy's record: eventName %q readOnly %v", r.EventName, r.ReadOnly)
			}
		}
	}
	if seen != 2 {
		t.Errorf("%d of the 2 requests recorded", seen)
	}
}
