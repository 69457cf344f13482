package core_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
)

func (f *svcFixture) secretValue(name string, kv ...string) *alibaba.SecretValueResponse {
	f.t.Helper()
	return f.ok("GetSecretValue", append([]string{"SecretName", name}, kv...)...).(*alibaba.SecretValueResponse)
}

func (f *svcFixture) stages(name string) map[string][]string {
	f.t.Helper()
	r := f.ok("ListSecretVersionIds", "SecretName", name, "IncludeDeprecated", "true", "PageSize", "100").(*alibaba.ListSecretVersionIdsResponse)
	out := map[string][]string{}
	for _, v := range r.VersionIds.VersionId {
		out[v.VersionId] = v.VersionStages.VersionStage
	}
	return out
}

func TestSecretLifecycle(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	created := f.ok("CreateSecret", "SecretName", "db/password", "VersionId", "v1", "SecretData", "hunter2",
		"EncryptionKeyId", key, "Description", "orders database", "Tags", `[{"TagKey":"team","TagValue":"payments"}]`).(*alibaba.CreateSecretResponse)
	if created.Arn != "acs:kms:cn-hangzhou:1234567890123456:secret/db/password" || created.VersionId != "v1" || created.SecretType != "Generic" {
		t.Fatalf("CreateSecret = %+v", created)
	}
	if v := f.secretValue("db/password"); v.SecretData != "hunter2" || v.VersionId != "v1" || v.SecretDataType != "text" ||
		!slices.Equal(v.VersionStages.VersionStage, []string{"ACSCurrent"}) {
		t.Fatalf("GetSecretValue = %+v", v)
	}

	put := f.ok("PutSecretValue", "SecretName", "db/password", "VersionId", "v2", "SecretData", "correct horse").(*alibaba.PutSecretValueResponse)
	if !slices.Equal(put.VersionStages.VersionStage, []string{"ACSCurrent"}) {
		t.Fatalf("PutSecretValue = %+v", put)
	}
	if v := f.secretValue("db/password"); v.SecretData != "correct horse" || v.VersionId != "v2" {
		t.Fatalf("after PutSecretValue, GetSecretValue = %+v", v)
	}
	if v := f.secretValue("db/password", "VersionStage", "ACSPrevious"); v.SecretData != "hunter2" || v.VersionId != "v1" {
		t.Fatalf("ACSPrevious = %+v", v)
	}
	if v := f.secretValue("acs:kms:cn-hangzhou:1234567890123456:secret/db/password", "VersionId", "v1"); v.SecretData != "hunter2" {
		t.Fatalf("by ARN and VersionId = %+v", v)
	}
	_, err := f.call("GetSecretValue", "SecretName", "db/password", "VersionId", "v1", "VersionStage", "ACSCurrent")
	mustCode(t, err, core.CodeResourceNotFound)

	// The same version again is a no-op; another value under it is refused.
	f.ok("PutSecretValue", "SecretName", "db/password", "VersionId", "v2", "SecretData", "correct horse")
	_, err = f.call("PutSecretValue", "SecretName", "db/password", "VersionId", "v2", "SecretData", "other")
	mustCode(t, err, core.CodeResourceExist)

	// Moving ACSCurrent back hands ACSPrevious to the version that had it.
	_, err = f.call("UpdateSecretVersionStage", "SecretName", "db/password", "VersionStage", "ACSCurrent", "MoveToVersion", "v1")
	mustCode(t, err, core.CodeInvalidParameter)
	f.ok("UpdateSecretVersionStage", "SecretName", "db/password", "VersionStage", "ACSCurrent", "MoveToVersion", "v1", "RemoveFromVersion", "v2")
	want := map[string][]string{"v1": {"ACSCurrent"}, "v2": {"ACSPrevious"}}
	if got := f.stages("db/password"); len(got) != 2 || !slices.Equal(got["v1"], want["v1"]) || !slices.Equal(got["v2"], want["v2"]) {
		t.Fatalf("stages = %v, want %v", got, want)
	}
	f.ok("UpdateSecretVersionStage", "SecretName", "db/password", "VersionStage", "ACSPrevious", "RemoveFromVersion", "v2")
	listed := f.ok("ListSecretVersionIds", "SecretName", "db/password").(*alibaba.ListSecretVersionIdsResponse)
	if listed.TotalCount != 1 || listed.VersionIds.VersionId[0].VersionId != "v1" {
		t.Fatalf("ListSecretVersionIds without deprecated = %+v", listed)
	}

	f.ok("UpdateSecret", "SecretName", "db/password", "Description", "rotated")
	d := f.ok("DescribeSecret", "SecretName", "db/password", "FetchTags", "true").(*alibaba.DescribeSecretResponse)
	if d.Description != "rotated" || d.EncryptionKeyId != key || d.PlannedDeleteTime != "" || d.Tags == nil || len(d.Tags.Tag) != 1 || d.Tags.Tag[0].TagKey != "team" {
		t.Fatalf("DescribeSecret = %+v", d)
	}
	if d := f.ok("DescribeSecret", "SecretName", "db/password").(*alibaba.DescribeSecretResponse); d.Tags != nil {
		t.Fatalf("DescribeSecret without FetchTags gave tags %+v", d.Tags)
	}

	del := f.ok("DeleteSecret", "SecretName", "db/password", "RecoveryWindowInDays", "7").(*alibaba.DeleteSecretResponse)
	if want := f.clock.Now().UTC().Add(7 * 24 * time.Hour).Format("2006-01-02T15:04:05Z"); del.PlannedDeleteTime != want {
		t.Fatalf("PlannedDeleteTime = %s, want %s", del.PlannedDeleteTime, want)
	}
	_, err = f.call("GetSecretValue", "SecretName", "db/password")
	mustCode(t, err, core.CodePendingDeletion)
	_, err = f.call("CreateSecret", "SecretName", "db/password", "VersionId", "v1", "SecretData", "x", "EncryptionKeyId", key)
	mustCode(t, err, core.CodeResourceExist)
	f.ok("RestoreSecret", "SecretName", "db/password")
	f.secretValue("db/password")
	_, err = f.call("RestoreSecret", "SecretName", "db/password")
	mustCode(t, err, core.CodeStateModifiedFailed)

	f.ok("DeleteSecret", "SecretName", "db/password", "ForceDeleteWithoutRecovery", "true")
	_, err = f.call("DescribeSecret", "SecretName", "db/password")
	mustCode(t, err, core.CodeResourceNotFound)
	f.ok("CreateSecret", "SecretName", "db/password", "VersionId", "v1", "SecretData", "again", "EncryptionKeyId", key)
}

// A secret past its recovery window is gone: unlisted, unreadable, and its
// name free.
func TestSecretPastItsRecoveryWindowIsGone(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	for _, name := range []string{"a", "b"} {
		f.ok("CreateSecret", "SecretName", name, "VersionId", "v1", "SecretData", name, "EncryptionKeyId", key)
	}
	f.ok("DeleteSecret", "SecretName", "a", "RecoveryWindowInDays", "7")
	if l := f.ok("ListSecrets").(*alibaba.ListSecretsResponse); l.TotalCount != 2 || l.SecretList.Secret[0].PlannedDeleteTime == "" {
		t.Fatalf("ListSecrets within the window = %+v", l)
	}
	f.clock.Advance(7 * 24 * time.Hour)
	if l := f.ok("ListSecrets").(*alibaba.ListSecretsResponse); l.TotalCount != 1 || l.SecretList.Secret[0].SecretName != "b" {
		t.Fatalf("ListSecrets past the window = %+v", l)
	}
	_, err := f.call("DescribeSecret", "SecretName", "a")
	mustCode(t, err, core.CodeResourceNotFound)
	_, err = f.call("RestoreSecret", "SecretName", "a")
	mustCode(t, err, core.CodeResourceNotFound)
	f.ok("CreateSecret", "SecretName", "a", "VersionId", "v9", "SecretData", "new", "EncryptionKeyId", key)
	if v := f.secretValue("a"); v.SecretData != "new" || v.VersionId != "v9" {
		t.Fatalf("the new secret a = %+v", v)
	}
}

// The store holds each value sealed under the secret's key and bound to its
// place: no plaintext, and a value moved to another secret or version does
// not open there.
func TestSecretValuesAreSealedAndBound(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	f.ok("CreateSecret", "SecretName", "a", "VersionId", "v1", "SecretData", "the-value-of-a", "EncryptionKeyId", key)
	f.ok("CreateSecret", "SecretName", "b", "VersionId", "v1", "SecretData", "the-value-of-b", "EncryptionKeyId", key)
	ctx := context.Background()
	a, err := f.store.GetSecret(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(a.Versions[0].Sealed, []byte("the-value-of-a")) {
		t.Fatal("the store holds the value in the clear")
	}
	b, _ := f.store.GetSecret(ctx, "b")
	b.Versions[0].Sealed = a.Versions[0].Sealed
	b.Revision++
	if err := f.store.UpdateSecret(ctx, b); err != nil {
		t.Fatal(err)
	}
	_, err = f.call("GetSecretValue", "SecretName", "b")
	mustCode(t, err, core.CodeInternalFailure)

	// A disabled key keeps its secrets shut.
	f.ok("DisableKey", "KeyId", key)
	_, err = f.call("GetSecretValue", "SecretName", "a")
	mustCode(t, err, core.CodeDisabled)
	_, err = f.call("PutSecretValue", "SecretName", "a", "VersionId", "v2", "SecretData", "x")
	mustCode(t, err, core.CodeDisabled)
}

// A secret is no way round its key's policy: reading one takes Decrypt on
// its key, storing one Encrypt.
func TestSecretsNeedTheirKeysPermissions(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	f.ok("CreateSecret", "SecretName", "app/token", "VersionId", "v1", "SecretData", "t0k3n", "EncryptionKeyId", key)
	secretARN := "acs:kms:cn-hangzhou:1234567890123456:secret/app/*"
	reader := allowOn("reader", []string{"kms:GetSecretValue", "kms:PutSecretValue", "kms:CreateSecret"}, secretARN)
	_, err := f.as(reader, "GetSecretValue", "SecretName", "app/token")
	mustCode(t, err, core.CodeNoPermission)
	_, err = f.as(reader, "PutSecretValue", "SecretName", "app/token", "VersionId", "v2", "SecretData", "x")
	mustCode(t, err, core.CodeNoPermission)
	_, err = f.as(reader, "CreateSecret", "SecretName", "app/other", "VersionId", "v1", "SecretData", "x", "EncryptionKeyId", key)
	mustCode(t, err, core.CodeNoPermission)

	keyARN := "acs:kms:cn-hangzhou:1234567890123456:key/" + key
	both := &core.Principal{Name: "both", AccessKeyID: "LTAIboth", Secret: core.NewSecret("s"), Policy: core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:GetSecretValue", "kms:PutSecretValue"}, Resource: []string{secretARN}},
		core.Statement{Effect: "Allow", Action: []string{"kms:Decrypt", "kms:Encrypt"}, Resource: []string{keyARN}},
	)}
	r, err := f.as(both, "GetSecretValue", "SecretName", "app/token")
	if err != nil || r.(*alibaba.SecretValueResponse).SecretData != "t0k3n" {
		t.Fatalf("GetSecretValue with both permissions = %+v, %v", r, err)
	}
	if _, err := f.as(both, "PutSecretValue", "SecretName", "app/token", "VersionId", "v2", "SecretData", "x"); err != nil {
		t.Fatalf("PutSecretValue with both permissions: %v", err)
	}
	// Another secret's name is not covered by the pattern.
	_, err = f.as(both, "GetSecretValue", "SecretName", "db/password")
	mustCode(t, err, core.CodeNoPermission)
}

// A secret keeps ten versions: a new one past them drops the oldest that
// carries no stage.
func TestSecretKeepsTenVersions(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	f.ok("CreateSecret", "SecretName", "s", "VersionId", "v0", "SecretData", "0", "EncryptionKeyId", key)
	f.ok("UpdateSecretVersionStage", "SecretName", "s", "VersionStage", "pinned", "MoveToVersion", "v0")
	for i := 1; i <= 12; i++ {
		id := "v" + string(rune('a'+i))
		f.ok("PutSecretValue", "SecretName", "s", "VersionId", id, "SecretData", id)
	}
	got := f.stages("s")
	if len(got) != 10 {
		t.Fatalf("%d versions kept, want 10: %v", len(got), got)
	}
	for _, id := range []string{"v0", "vm", "vl"} {
		if _, ok := got[id]; !ok {
			t.Fatalf("version %s (staged) was dropped: %v", id, got)
		}
	}
	for _, id := range []string{"vb", "vc", "vd"} {
		if _, ok := got[id]; ok {
			t.Fatalf("version %s, among the oldest unstaged, was kept: %v", id, got)
		}
	}
	if v := f.secretValue("s", "VersionStage", "pinned"); v.SecretData != "0" {
		t.Fatalf("pinned = %+v", v)
	}
}

func TestSecretRefusesBadInput(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	f.ok("CreateSecret", "SecretName", "s", "VersionId", "v1", "SecretData", "x", "EncryptionKeyId", key)
	hmac := f.createKey("KeySpec", "HMAC_256", "KeyUsage", "GENERATE/VERIFY_MAC")
	create := func(kv ...string) []string {
		return append([]string{"SecretName", "new", "VersionId", "v1", "SecretData", "x", "EncryptionKeyId", key}, kv...)
	}
	cases := []struct {
		action string
		kv     []string
		code   string
	}{
		{"CreateSecret", create("SecretName", ""), core.CodeMissingParameter},
		{"CreateSecret", create("SecretName", "a b"), core.CodeInvalidParameter},
		{"CreateSecret", create("SecretName", strings.Repeat("a", 193)), core.CodeInvalidParameter},
		{"CreateSecret", create("SecretName", "acs/rds"), core.CodeInvalidParameter},
		{"CreateSecret", create("SecretName", "acs:kms:cn-beijing:1:secret/x"), core.CodeResourceNotFound},
		{"CreateSecret", create("VersionId", "v/1"), core.CodeInvalidParameter},
		{"CreateSecret", create("SecretData", strings.Repeat("x", core.MaxSecretData+1)), core.CodeInvalidParameter},
		{"CreateSecret", create("SecretDataType", "binary", "SecretData", "not base64!"), core.CodeInvalidParameter},
		{"CreateSecret", create("SecretDataType", "json"), core.CodeInvalidParameter},
		{"CreateSecret", create("SecretType", "Rds"), core.CodeInvalidParameter},
		{"CreateSecret", create("EnableAutomaticRotation", "true"), core.CodeInvalidParameter},
		{"CreateSecret", create("EncryptionKeyId", ""), core.CodeMissingParameter},
		{"CreateSecret", create("EncryptionKeyId", hmac), core.CodeInvalidKeyUsage},
		{"CreateSecret", create("EncryptionKeyId", "alias/none"), core.CodeAliasNotFound},
		{"CreateSecret", create("SecretName", "s"), core.CodeResourceExist},
		{"GetSecretValue", []string{"SecretName", "none"}, core.CodeResourceNotFound},
		{"GetSecretValue", []string{"SecretName", "s", "VersionStage", "nope"}, core.CodeResourceNotFound},
		{"GetSecretValue", []string{"SecretName", "s", "VersionId", "v9"}, core.CodeResourceNotFound},
		{"GetSecretValue", []string{"SecretName", "s", "DryRun", "true"}, core.CodeDryRunOperation},
		{"PutSecretValue", []string{"SecretName", "s", "VersionId", "v2", "SecretData", "y", "VersionStages", `ACSCurrent`}, core.CodeInvalidParameter},
		{"PutSecretValue", []string{"SecretName", "s", "VersionId", "v2", "SecretData", "y", "VersionStages", `[]`}, core.CodeInvalidParameter},
		{"PutSecretValue", []string{"SecretName", "s", "VersionId", "v2", "SecretData", "y", "VersionStages", `["a b"]`}, core.CodeInvalidParameter},
		{"PutSecretValue", []string{"SecretName", "s", "SecretData", "y"}, core.CodeMissingParameter},
		{"UpdateSecretVersionStage", []string{"SecretName", "s", "VersionStage", "x"}, core.CodeMissingParameter},
		{"UpdateSecretVersionStage", []string{"SecretName", "s", "VersionStage", "ACSCurrent", "RemoveFromVersion", "v1"}, core.CodeInvalidParameter},
		{"UpdateSecretVersionStage", []string{"SecretName", "s", "VersionStage", "x", "MoveToVersion", "v9"}, core.CodeResourceNotFound},
		{"UpdateSecretVersionStage", []string{"SecretName", "s", "VersionStage", "x", "RemoveFromVersion", "v1"}, core.CodeInvalidParameter},
		{"DeleteSecret", []string{"SecretName", "s", "RecoveryWindowInDays", "6"}, core.CodeInvalidParameter},
		{"DeleteSecret", []string{"SecretName", "s", "RecoveryWindowInDays", "7", "ForceDeleteWithoutRecovery", "true"}, core.CodeInvalidParameter},
		{"ListSecrets", []string{"Filters", `[{"Key":"KeyState","Values":["Enabled"]}]`}, core.CodeInvalidParameter},
		{"ListSecrets", []string{"Filters", `[{"Key":"SecretName","Values":["s"],"Op":"like"}]`}, core.CodeInvalidParameter},
		{"ListSecrets", []string{"Filters", `{"Key":"SecretName","Values":["s"]}`}, core.CodeInvalidParameter},
		{"ListSecrets", []string{"PageSize", "101"}, core.CodeInvalidParameter},
		{"GetRandomPassword", []string{"PasswordLength", "7"}, core.CodeInvalidParameter},
		{"GetRandomPassword", []string{"ExcludeLowercase", "true", "ExcludeUppercase", "true", "ExcludeNumbers", "true", "ExcludePunctuation", "true"}, core.CodeInvalidParameter},
	}
	for _, c := range cases {
		_, err := f.call(c.action, c.kv...)
		e := mustCode(t, err, c.code)
		if strings.Contains(e.Message, "not base64!") || strings.Contains(e.Message, "hunter") {
			t.Fatalf("%s %v: the refusal repeats the secret's data: %s", c.action, c.kv, e.Message)
		}
	}
	// Nothing refused was written.
	if l := f.ok("ListSecrets").(*alibaba.ListSecretsResponse); l.TotalCount != 1 {
		t.Fatalf("%d secrets after refusals, want 1", l.TotalCount)
	}
	if got := f.stages("s"); len(got) != 1 {
		t.Fatalf("versions after refusals: %v", got)
	}
}

func TestGetRandomPassword(t *testing.T) {
	f := newSvcFixture(t)
	pw := func(kv ...string) string {
		return f.ok("GetRandomPassword", kv...).(*alibaba.RandomPasswordResponse).RandomPassword
	}
	if p := pw(); len(p) != 32 {
		t.Fatalf("default password %q is not 32 characters", p)
	}
	for range 50 {
		p := pw("PasswordLength", "8")
		if len(p) != 8 || !strings.ContainsAny(p, "abcdefghijklmnopqrstuvwxyz") || !strings.ContainsAny(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") ||
			!strings.ContainsAny(p, "0123456789") || strings.Trim(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == "" {
			t.Fatalf("password %q lacks a class", p)
		}
	}
	p := pw("PasswordLength", "128", "ExcludePunctuation", "true", "ExcludeCharacters", "0Oo1lI")
	if len(p) != 128 || strings.ContainsAny(p, "0Oo1lI!#$%&") {
		t.Fatalf("password %q holds an excluded character", p)
	}
	if p := pw("PasswordLength", "64", "ExcludeLowercase", "true", "ExcludeUppercase", "true", "ExcludePunctuation", "true"); strings.Trim(p, "0123456789") != "" {
		t.Fatalf("digits-only password %q", p)
	}
	// Every character of the set turns up: the draw covers it.
	seen := map[rune]bool{}
	for range 40 {
		for _, r := range pw("PasswordLength", "128") {
			seen[r] = true
		}
	}
	if len(seen) != 26+26+10+32 {
		t.Fatalf("%d distinct characters drawn, want 94", len(seen))
	}
}

// TagResource and UntagResource take SecretName in place of KeyId.
func TestSecretTags(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	f.ok("CreateSecret", "SecretName", "s", "VersionId", "v1", "SecretData", "x", "EncryptionKeyId", key,
		"Tags", `[{"TagKey":"team","TagValue":"a"}]`)
	tags := func() map[string]string {
		out := map[string]string{}
		d := f.ok("DescribeSecret", "SecretName", "s", "FetchTags", "true").(*alibaba.DescribeSecretResponse)
		for _, tag := range d.Tags.Tag {
			out[tag.TagKey] = tag.TagValue
		}
		return out
	}
	f.ok("TagResource", "SecretName", "s", "Tags", `[{"TagKey":"team","TagValue":"b"},{"TagKey":"env","TagValue":"prod"}]`)
	if got := tags(); len(got) != 2 || got["team"] != "b" || got["env"] != "prod" {
		t.Fatalf("tags after TagResource = %v", got)
	}
	f.ok("UntagResource", "SecretName", "acs:kms:cn-hangzhou:1234567890123456:secret/s", "TagKeys", `["team","absent"]`)
	if got := tags(); len(got) != 1 || got["env"] != "prod" {
		t.Fatalf("tags after UntagResource = %v", got)
	}
	// The same tags again change nothing, not even the revision.
	before, _ := f.store.GetSecret(context.Background(), "s")
	f.ok("TagResource", "SecretName", "s", "Tags", `[{"TagKey":"env","TagValue":"prod"}]`)
	if after, _ := f.store.GetSecret(context.Background(), "s"); after.Revision != before.Revision {
		t.Fatalf("an unchanged tagging wrote revision %d over %d", after.Revision, before.Revision)
	}

	var many []string
	for i := range 20 {
		many = append(many, `{"TagKey":"k`+strings.Repeat("x", i)+`","TagValue":"v"}`)
	}
	_, err := f.call("TagResource", "SecretName", "s", "Tags", "["+strings.Join(many, ",")+"]")
	mustCode(t, err, core.CodeInvalidParameter)
	_, err = f.call("TagResource", "SecretName", "s", "KeyId", key, "Tags", `[{"TagKey":"a","TagValue":"b"}]`)
	mustCode(t, err, core.CodeInvalidParameter)
	_, err = f.call("TagResource", "SecretName", "none", "Tags", `[{"TagKey":"a","TagValue":"b"}]`)
	mustCode(t, err, core.CodeResourceNotFound)
	f.ok("DeleteSecret", "SecretName", "s")
	_, err = f.call("UntagResource", "SecretName", "s", "TagKeys", `["env"]`)
	mustCode(t, err, core.CodePendingDeletion)
	if got := tags(); len(got) != 1 {
		t.Fatalf("tags after refusals = %v", got)
	}

	// Tagging a secret is kms:TagResource on the secret.
	other := allowOn("tagger", []string{"kms:TagResource"}, "acs:kms:cn-hangzhou:1234567890123456:secret/app/*")
	f.ok("CreateSecret", "SecretName", "app/t", "VersionId", "v1", "SecretData", "x", "EncryptionKeyId", key)
	if _, err := f.as(other, "TagResource", "SecretName", "app/t", "Tags", `[{"TagKey":"a","TagValue":"b"}]`); err != nil {
		t.Fatalf("TagResource on a secret the policy names: %v", err)
	}
	_, err = f.as(other, "TagResource", "KeyId", key, "Tags", `[{"TagKey":"a","TagValue":"b"}]`)
	mustCode(t, err, core.CodeNoPermission)
}

// Conditions on kms:tag/ read a secret's own tags, for an Allow and for a
// Deny alike.
func TestSecretPoliciesReadTheSecretsTags(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	for name, team := range map[string]string{"a/one": "a", "b/one": "b"} {
		f.ok("CreateSecret", "SecretName", name, "VersionId", "v1", "SecretData", name, "EncryptionKeyId", key,
			"Tags", `[{"TagKey":"team","TagValue":"`+team+`"}]`)
	}
	keyARN := "acs:kms:cn-hangzhou:1234567890123456:key/" + key
	teamA := &core.Principal{Name: "team-a", AccessKeyID: "LTAIteama", Secret: core.NewSecret("s"), Policy: core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:GetSecretValue"}, Resource: []string{"*"},
			Condition: []core.Condition{{Operator: "StringEquals", Key: "kms:tag/team", Values: []string{"a"}}}},
		core.Statement{Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{keyARN}},
	)}
	if _, err := f.as(teamA, "GetSecretValue", "SecretName", "a/one"); err != nil {
		t.Fatalf("team a reading its secret: %v", err)
	}
	_, err := f.as(teamA, "GetSecretValue", "SecretName", "b/one")
	mustCode(t, err, core.CodeNoPermission)

	notB := &core.Principal{Name: "not-b", AccessKeyID: "LTAInotb", Secret: core.NewSecret("s"), Policy: core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:*"}, Resource: []string{"*"}},
		core.Statement{Effect: "Deny", Action: []string{"kms:GetSecretValue", "kms:TagResource", "kms:UntagResource"}, Resource: []string{"*"},
			Condition: []core.Condition{{Operator: "StringEquals", Key: "kms:tag/team", Values: []string{"b"}}}},
	)}
	if _, err := f.as(notB, "GetSecretValue", "SecretName", "a/one"); err != nil {
		t.Fatalf("reading a secret the Deny does not name: %v", err)
	}
	_, err = f.as(notB, "GetSecretValue", "SecretName", "b/one")
	mustCode(t, err, core.CodeNoPermission)
	// Nor can the tag that the Deny reads be taken off.
	_, err = f.as(notB, "UntagResource", "SecretName", "b/one", "TagKeys", `["team"]`)
	mustCode(t, err, core.CodeNoPermission)
}

// ListSecrets' Filters list the secrets with one of the values of every
// Key, by name, description and tags, and count and page only those.
func TestListSecretsFilters(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	for _, s := range []struct{ name, desc, tags string }{
		{"a/db", "orders", `[{"TagKey":"team","TagValue":"payments"}]`},
		{"a/cache", "orders", `[{"TagKey":"team","TagValue":"search"}]`},
		{"b/db", "billing", `[{"TagKey":"env","TagValue":"payments"}]`},
		{"c/none", "", ""},
	} {
		kv := []string{"SecretName", s.name, "VersionId", "v1", "SecretData", "x", "EncryptionKeyId", key, "Description", s.desc}
		if s.tags != "" {
			kv = append(kv, "Tags", s.tags)
		}
		f.ok("CreateSecret", kv...)
	}
	list := func(filters string, kv ...string) (int, []string) {
		t.Helper()
		r := f.ok("ListSecrets", append([]string{"Filters", filters}, kv...)...).(*alibaba.ListSecretsResponse)
		var names []string
		for _, s := range r.SecretList.Secret {
			names = append(names, s.SecretName)
		}
		return r.TotalCount, names
	}
	for _, c := range []struct {
		filters string
		want    []string
	}{
		{`[{"Key":"SecretName","Values":["b/db","a/db","none"]}]`, []string{"a/db", "b/db"}},
		{`[{"Key":"Description","Values":["orders"]}]`, []string{"a/cache", "a/db"}},
		{`[{"Key":"TagKey","Values":["team"]}]`, []string{"a/cache", "a/db"}},
		{`[{"Key":"TagValue","Values":["payments"]}]`, []string{"a/db", "b/db"}},
		// Every Key must hold; a Key named twice adds to its values.
		{`[{"Key":"TagValue","Values":["payments"]},{"Key":"Description","Values":["orders"]}]`, []string{"a/db"}},
		{`[{"Key":"SecretName","Values":["a/db"]},{"Key":"SecretName","Values":["c/none"]}]`, []string{"a/db", "c/none"}},
		{`[{"Key":"SecretName","Values":["A/DB","a/*","a"]}]`, nil},
		{`[{"Key":"TagKey","Values":[]}]`, []string{"a/cache", "a/db", "b/db", "c/none"}},
	} {
		total, names := list(c.filters, "PageSize", "100")
		if total != len(c.want) || !slices.Equal(names, c.want) {
			t.Errorf("Filters %s: %d %v; want %v", c.filters, total, names, c.want)
		}
	}
	// Paged: TotalCount counts what the filter lists, and the pages split it.
	all := `[{"Key":"SecretName","Values":["a/db","a/cache","b/db"]}]`
	for page, want := range [][]string{{"a/cache", "a/db"}, {"b/db"}, nil} {
		total, names := list(all, "PageSize", "2", "PageNumber", fmt.Sprint(page+1))
		if total != 3 || !slices.Equal(names, want) {
			t.Errorf("page %d: %d %v; want 3 %v", page+1, total, names, want)
		}
	}
	// A secret scheduled for deletion is listed, one past its date is not.
	f.ok("DeleteSecret", "SecretName", "b/db", "RecoveryWindowInDays", "7")
	if total, _ := list(all); total != 3 {
		t.Errorf("with one scheduled for deletion: %d listed, want 3", total)
	}
	f.clock.Advance(8 * 24 * time.Hour)
	if total, _ := list(all); total != 2 {
		t.Errorf("with one past its deletion date: %d listed, want 2", total)
	}
}

// PutSecretValue is idempotent under concurrency too: puts of one new
// version with one value, racing, all succeed and store it once; with
// different values, one succeeds and the others are refused.
func TestConcurrentPutSecretValue(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	f.ok("CreateSecret", "SecretName", "raced", "VersionId", "v0", "SecretData", "x", "EncryptionKeyId", key)
	const racers = 8
	race := func(id string, value func(i int) string) []error {
		start := make(chan struct{})
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				<-start
				_, errs[i] = f.call("PutSecretValue", "SecretName", "raced", "VersionId", id, "SecretData", value(i))
			})
		}
		close(start)
		wg.Wait()
		return errs
	}
	for round := range 10 {
		id := fmt.Sprint("same-", round)
		for i, err := range race(id, func(int) string { return "same value" }) {
			if err != nil {
				t.Fatalf("round %d, racer %d: %v", round, i, err)
			}
		}
		if v := f.secretValue("raced", "VersionId", id); v.SecretData != "same value" {
			t.Fatalf("round %d: %+v", round, v)
		}
	}
	for round := range 5 {
		id := fmt.Sprint("other-", round)
		won := 0
		for _, err := range race(id, func(i int) string { return fmt.Sprint("value ", i) }) {
			if err == nil {
				won++
			} else {
				mustCode(t, err, core.CodeResourceExist)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d racers stored different values under one version", round, won)
		}
	}
}
