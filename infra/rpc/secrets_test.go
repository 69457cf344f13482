package rpc_test

import (
	"encoding/base64"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	classic "github.com/aliyun/alibaba-cloud-sdk-go/services/kms"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/audit"
)

func secretARN(name string) string {
	return "acs:kms:" + testRegion + ":" + testAccount + ":secret/" + name
}

// The Alibaba SDK's own secret methods, end to end: every field it reads is
// one kmsless writes.
func TestSDKSecretsLifecycle(t *testing.T) {
	e := newEnv(t)
	key := e.createKey()
	c := e.client
	created, err := c.CreateSecret(&kms.CreateSecretRequest{
		SecretName: tea.String("prod/db"), VersionId: tea.String("v1"), SecretData: tea.String(`{"user":"app","password":"hunter2"}`),
		EncryptionKeyId: tea.String(key), Description: tea.String("orders database"),
		Tags: tea.String(`[{"TagKey":"team","TagValue":"payments"}]`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if b := created.Body; tea.StringValue(b.Arn) != secretARN("prod/db") || tea.StringValue(b.VersionId) != "v1" ||
		tea.StringValue(b.SecretName) != "prod/db" || tea.StringValue(b.SecretType) != "Generic" {
		t.Fatalf("CreateSecret = %s", b)
	}

	get := func(req *kms.GetSecretValueRequest) *kms.GetSecretValueResponseBody {
		t.Helper()
		r, err := c.GetSecretValue(req)
		if err != nil {
			t.Fatal(err)
		}
		return r.Body
	}
	v := get(&kms.GetSecretValueRequest{SecretName: tea.String("prod/db")})
	if tea.StringValue(v.SecretData) != `{"user":"app","password":"hunter2"}` || tea.StringValue(v.VersionId) != "v1" ||
		tea.StringValue(v.SecretDataType) != "text" || tea.StringValue(v.SecretType) != "Generic" ||
		!dateFormat.MatchString(tea.StringValue(v.CreateTime)) || !slices.Equal(tea.StringSliceValue(v.VersionStages.VersionStage), []string{"ACSCurrent"}) {
		t.Fatalf("GetSecretValue = %s", v)
	}

	// A binary value goes in and comes out as the same base64.
	bin := base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff, 0xfe})
	put, err := c.PutSecretValue(&kms.PutSecretValueRequest{SecretName: tea.String("prod/db"), VersionId: tea.String("v2"),
		SecretData: tea.String(bin), SecretDataType: tea.String("binary"), VersionStages: tea.String(`["ACSCurrent","blue"]`)})
	if err != nil {
		t.Fatal(err)
	}
	if got := tea.StringSliceValue(put.Body.VersionStages.VersionStage); !slices.Equal(got, []string{"ACSCurrent", "blue"}) {
		t.Fatalf("PutSecretValue stages %q", got)
	}
	if v := get(&kms.GetSecretValueRequest{SecretName: tea.String(secretARN("prod/db")), VersionStage: tea.String("blue")}); tea.StringValue(v.SecretData) != bin ||
		tea.StringValue(v.SecretDataType) != "binary" {
		t.Fatalf("binary version = %s", v)
	}
	if v := get(&kms.GetSecretValueRequest{SecretName: tea.String("prod/db"), VersionStage: tea.String("ACSPrevious")}); tea.StringValue(v.VersionId) != "v1" {
		t.Fatalf("ACSPrevious = %s", v)
	}

	if _, err := c.UpdateSecretVersionStage(&kms.UpdateSecretVersionStageRequest{SecretName: tea.String("prod/db"),
		VersionStage: tea.String("ACSCurrent"), RemoveFromVersion: tea.String("v2"), MoveToVersion: tea.String("v1")}); err != nil {
		t.Fatal(err)
	}
	ids, err := c.ListSecretVersionIds(&kms.ListSecretVersionIdsRequest{SecretName: tea.String("prod/db"), IncludeDeprecated: tea.String("true")})
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string][]string{}
	for _, v := range ids.Body.VersionIds.VersionId {
		stages[tea.StringValue(v.VersionId)] = tea.StringSliceValue(v.VersionStages.VersionStage)
	}
	if tea.Int32Value(ids.Body.TotalCount) != 2 || !slices.Equal(stages["v1"], []string{"ACSCurrent"}) || !slices.Equal(stages["v2"], []string{"ACSPrevious", "blue"}) {
		t.Fatalf("ListSecretVersionIds = %v (total %d)", stages, tea.Int32Value(ids.Body.TotalCount))
	}

	if _, err := c.UpdateSecret(&kms.UpdateSecretRequest{SecretName: tea.String("prod/db"), Description: tea.String("rotated")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(&kms.TagResourceRequest{SecretName: tea.String("prod/db"), Tags: tea.String(`[{"TagKey":"env","TagValue":"prod"}]`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(&kms.UntagResourceRequest{SecretName: tea.String("prod/db"), TagKeys: tea.String(`["env"]`)}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeSecret(&kms.DescribeSecretRequest{SecretName: tea.String("prod/db"), FetchTags: tea.String("true")})
	if err != nil {
		t.Fatal(err)
	}
	if b := d.Body; tea.StringValue(b.Description) != "rotated" || tea.StringValue(b.EncryptionKeyId) != key || tea.StringValue(b.Arn) != secretARN("prod/db") ||
		len(b.Tags.Tag) != 1 || tea.StringValue(b.Tags.Tag[0].TagValue) != "payments" || !dateFormat.MatchString(tea.StringValue(b.UpdateTime)) {
		t.Fatalf("DescribeSecret = %s", b)
	}

	if _, err := c.CreateSecret(&kms.CreateSecretRequest{SecretName: tea.String("prod/api"), VersionId: tea.String("1"),
		SecretData: tea.String("k"), EncryptionKeyId: tea.String(key)}); err != nil {
		t.Fatal(err)
	}
	del, err := c.DeleteSecret(&kms.DeleteSecretRequest{SecretName: tea.String("prod/api"), RecoveryWindowInDays: tea.String("10")})
	if err != nil || !dateFormat.MatchString(tea.StringValue(del.Body.PlannedDeleteTime)) {
		t.Fatalf("DeleteSecret = %v, %v", del, err)
	}
	list, err := c.ListSecrets(&kms.ListSecretsRequest{PageSize: tea.Int32(1), PageNumber: tea.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if b := list.Body; tea.Int32Value(b.TotalCount) != 2 || len(b.SecretList.Secret) != 1 || tea.StringValue(b.SecretList.Secret[0].SecretName) != "prod/api" ||
		tea.StringValue(b.SecretList.Secret[0].PlannedDeleteTime) == "" {
		t.Fatalf("ListSecrets = %s", b)
	}
	_, err = c.GetSecretValue(&kms.GetSecretValueRequest{SecretName: tea.String("prod/api")})
	sdkError(t, err, core.CodePendingDeletion, 409)
	if _, err := c.RestoreSecret(&kms.RestoreSecretRequest{SecretName: tea.String("prod/api")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteSecret(&kms.DeleteSecretRequest{SecretName: tea.String("prod/api"), ForceDeleteWithoutRecovery: tea.String("true")}); err != nil {
		t.Fatal(err)
	}

	_, err = c.GetSecretValue(&kms.GetSecretValueRequest{SecretName: tea.String("prod/api")})
	sdkError(t, err, core.CodeResourceNotFound, 404)
	_, err = c.CreateSecret(&kms.CreateSecretRequest{SecretName: tea.String("prod/db"), VersionId: tea.String("v1"),
		SecretData: tea.String("x"), EncryptionKeyId: tea.String(key)})
	sdkError(t, err, core.CodeResourceExist, 409)
	_, err = c.PutSecretValue(&kms.PutSecretValueRequest{SecretName: tea.String("prod/db"), VersionId: tea.String("v1"), SecretData: tea.String("changed")})
	sdkError(t, err, core.CodeResourceExist, 409)

	pw, err := c.GetRandomPassword(&kms.GetRandomPasswordRequest{PasswordLength: tea.String("24"), ExcludePunctuation: tea.String("true")})
	if err != nil {
		t.Fatal(err)
	}
	if p := tea.StringValue(pw.Body.RandomPassword); len(p) != 24 || strings.Trim(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		t.Fatalf("GetRandomPassword = %q", p)
	}
}

// Secret requests leave a record that names the secret and never its value,
// nor a password.
func TestSecretRecordsKeepNoValue(t *testing.T) {
	a := newAudited(t, filepath.Join(t.TempDir(), "audit.jsonl"))
	key := a.createKey()
	c := a.client
	if _, err := c.CreateSecret(&kms.CreateSecretRequest{SecretName: tea.String("s"), VersionId: tea.String("v1"),
		SecretData: tea.String("value-one-4f1c"), EncryptionKeyId: tea.String(key)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutSecretValue(&kms.PutSecretValueRequest{SecretName: tea.String("s"), VersionId: tea.String("v2"), SecretData: tea.String("value-two-9a2e")}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetSecretValue(&kms.GetSecretValueRequest{SecretName: tea.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	pw, err := c.GetRandomPassword(&kms.GetRandomPasswordRequest{})
	if err != nil {
		t.Fatal(err)
	}
	recs, text := a.records(t)
	for _, secret := range []string{"value-one-4f1c", "value-two-9a2e", tea.StringValue(got.Body.SecretData), tea.StringValue(pw.Body.RandomPassword)} {
		if strings.Contains(text, secret) || strings.Contains(a.logs.String(), secret) {
			t.Fatalf("the trail or the log holds %q", secret)
		}
	}
	for _, r := range recs {
		if !strings.Contains(r.EventName, "Secret") {
			continue
		}
		if r.RequestParameters["secretName"] != "s" || !slices.ContainsFunc(r.Resources, func(res audit.Resource) bool { return res.ARN == secretARN("s") }) {
			t.Fatalf("record of %s: parameters %v, resources %v", r.EventName, r.RequestParameters, r.Resources)
		}
	}
	if r := recs[len(recs)-2]; r.EventName != "GetSecretValue" || r.ResponseElements["versionId"] != "v2" || r.ResponseElements["keyId"] != key {
		t.Fatalf("GetSecretValue's record = %+v", r)
	}
}

// ListSecrets' Filters through the SDK's own request: TotalCount and the
// page are those of the secrets the filter lists.
func TestSDKListSecretsFilters(t *testing.T) {
	e := newEnv(t)
	key := e.createKey()
	for name, team := range map[string]string{"app/one": "payments", "app/two": "search", "app/three": "payments"} {
		if _, err := e.client.CreateSecret(&kms.CreateSecretRequest{SecretName: tea.String(name), VersionId: tea.String("v1"),
			SecretData: tea.String("x"), EncryptionKeyId: tea.String(key), Tags: tea.String(`[{"TagKey":"team","TagValue":"` + team + `"}]`)}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := e.client.ListSecrets(&kms.ListSecretsRequest{Filters: tea.String(`[{"Key":"TagValue","Values":["payments"]}]`),
		FetchTags: tea.String("true"), PageSize: tea.Int32(1), PageNumber: tea.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	b := r.Body
	if tea.Int32Value(b.TotalCount) != 2 || len(b.SecretList.Secret) != 1 || tea.StringValue(b.SecretList.Secret[0].SecretName) != "app/three" ||
		tea.StringValue(b.SecretList.Secret[0].Tags.Tag[0].TagValue) != "payments" {
		t.Fatalf("ListSecrets filtered by tag, page 2 of 1 = %s", b)
	}
	_, err = e.client.ListSecrets(&kms.ListSecretsRequest{Filters: tea.String(`[{"Key":"KeyState","Values":["Enabled"]}]`)})
	sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
}

// An extended configuration belongs to the secret types other than Generic:
// both Alibaba SDKs' forms of it are refused and leave the secret as it was,
// and GetSecretValue's FetchExtendedConfig finds none to add.
func TestSecretsRefuseExtendedConfig(t *testing.T) {
	e := newEnv(t)
	key := e.createKey()
	c := e.client
	_, err := c.CreateSecret(&kms.CreateSecretRequest{SecretName: tea.String("db/rds"), VersionId: tea.String("v1"), SecretData: tea.String("x"),
		EncryptionKeyId: tea.String(key), ExtendedConfig: map[string]any{"CustomData": map[string]any{"Port": "3306"}}})
	if se := sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest); !strings.Contains(tea.StringValue(se.Message), "ExtendedConfig") {
		t.Fatalf("message %q names no parameter", tea.StringValue(se.Message))
	}
	_, err = c.DescribeSecret(&kms.DescribeSecretRequest{SecretName: tea.String("db/rds")})
	sdkError(t, err, core.CodeResourceNotFound, http.StatusNotFound)

	if _, err := c.CreateSecret(&kms.CreateSecretRequest{SecretName: tea.String("db/app"), VersionId: tea.String("v1"), SecretData: tea.String("x"),
		EncryptionKeyId: tea.String(key), Description: tea.String("before")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateSecret(&kms.UpdateSecretRequest{SecretName: tea.String("db/app"), Description: tea.String("after"),
		ExtendedConfig: &kms.UpdateSecretRequestExtendedConfig{CustomData: map[string]any{"DBName": "app1"}}})
	sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)

	cl := e.classicClient(adminID, adminSecret)
	us := classic.CreateUpdateSecretRequest()
	e.classicRequest(us.RpcRequest, requests.POST)
	us.SecretName, us.Description, us.ExtendedConfigCustomData = "db/app", "after", `{"DBName":"app1"}`
	_, err = cl.UpdateSecret(us)
	classicError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
	d, err := c.DescribeSecret(&kms.DescribeSecretRequest{SecretName: tea.String("db/app")})
	if err != nil || tea.StringValue(d.Body.Description) != "before" {
		t.Fatalf("DescribeSecret = %v, %v: a refused update changed the secret", d, err)
	}

	v, err := c.GetSecretValue(&kms.GetSecretValueRequest{SecretName: tea.String("db/app"), FetchExtendedConfig: tea.Bool(true)})
	if err != nil || tea.StringValue(v.Body.SecretData) != "x" || v.Body.ExtendedConfig != nil {
		t.Fatalf("GetSecretValue with FetchExtendedConfig = %v, %v", v, err)
	}
	gs := classic.CreateGetSecretValueRequest()
	e.classicRequest(gs.RpcRequest, requests.POST)
	gs.SecretName, gs.FetchExtendedConfig = "db/app", "yes"
	_, err = cl.GetSecretValue(gs)
	classicError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
}
