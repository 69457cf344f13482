package core_test

import (
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
)

func (f *svcFixture) secretPolicy(name string) string {
	f.t.Helper()
	return f.ok("GetSecretPolicy", "SecretName", name).(*alibaba.PolicyResponse).Policy
}

// newSecret makes a secret under key, as the admin, and returns its name.
func (f *svcFixture) newSecret(name, key string, kv ...string) string {
	f.t.Helper()
	f.ok("CreateSecret", append([]string{"SecretName", name, "VersionId", "v1", "SecretData", "s3cr3t", "EncryptionKeyId", key}, kv...)...)
	return name
}

// toAccount is the default statement in RAM's language: every action to
// the account, so that callers' own policies decide.
var toAccount = `{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + account + `:*"]},"Action":["kms:*"],"Resource":["*"]}`

// TestSecretPolicyAllowsByName: a principal whose own policy allows it
// nothing on secrets reads a secret whose policy names it, for the actions
// named, on that secret only; a secret that does not exist looks like one
// it may not read. Reading the value still takes Decrypt on the secret's
// key.
func TestSecretPolicyAllowsByName(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	sec, other := f.newSecret("app/token", key), f.newSecret("app/other", key)
	if got := f.secretPolicy(sec); got != alibaba.DefaultPolicy(f.svc) {
		t.Fatalf("GetSecretPolicy of a new secret = %s; want the default", got)
	}
	doc := ramPolicy(toAccount,
		`{"Effect":"Allow","Principal":{"RAM":"`+user("bob")+`"},"Action":["kms:GetSecretValue","kms:DescribeSecret"],"Resource":"*"}`)
	f.ok("SetSecretPolicy", "SecretName", sec, "Policy", doc)
	if got := f.secretPolicy(sec); got != doc {
		t.Fatalf("GetSecretPolicy = %s; want the document put", got)
	}
	bob := allowOn("bob", []string{"kms:Decrypt"}, "acs:kms:cn-hangzhou:"+account+":key/"+key)
	r, err := f.as(bob, "GetSecretValue", "SecretName", sec)
	if err != nil || r.(*alibaba.SecretValueResponse).SecretData != "s3cr3t" {
		t.Fatalf("GetSecretValue allowed by the secret policy = %+v, %v", r, err)
	}
	if _, err := f.as(bob, "DescribeSecret", "SecretName", "acs:kms:cn-hangzhou:"+account+":secret/"+sec); err != nil {
		t.Fatalf("DescribeSecret by ARN allowed by the secret policy: %v", err)
	}
	for _, c := range []struct {
		p      *core.Principal
		action string
		kv     []string
	}{
		{bob, "PutSecretValue", []string{"SecretName", sec, "VersionId", "v2", "SecretData", "x"}},
		{bob, "GetSecretValue", []string{"SecretName", other}},
		{bob, "GetSecretValue", []string{"SecretName", "app/none"}},
		{bob, "DeleteSecret", []string{"SecretName", sec}},
		{bob, "SetSecretPolicy", []string{"SecretName", sec, "Policy", doc}},
		{bob, "GetSecretPolicy", []string{"SecretName", sec}},
		{bob, "TagResource", []string{"SecretName", sec, "Tags", `[{"TagKey":"a","TagValue":"b"}]`}},
		// Not an action on a secret that exists: its own policy alone decides.
		{bob, "CreateSecret", []string{"SecretName", "app/new", "VersionId", "v1", "SecretData", "x", "EncryptionKeyId", key}},
		{bob, "ListSecrets", nil},
		// Named, but without Decrypt on the secret's key.
		{nobody("bob"), "GetSecretValue", []string{"SecretName", sec}},
		{nobody("eve"), "GetSecretValue", []string{"SecretName", sec}},
	} {
		_, err := f.as(c.p, c.action, c.kv...)
		mustCode(t, err, core.CodeNoPermission)
	}
	// The admin keeps every action through the account's statement.
	f.secretValue(sec)

	// Kept in the store: another instance reads the same.
	f.restart(f.root)
	if _, err := f.as(bob, "GetSecretValue", "SecretName", sec); err != nil {
		t.Fatalf("GetSecretValue after a restart: %v", err)
	}
}

// TestSecretPolicyOverrulesOwnPolicies: a secret whose policy gives the
// account nothing is closed to every caller it does not name, whatever
// their own policies allow, and a Deny in it beats them all.
func TestSecretPolicyOverrulesOwnPolicies(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	sec := f.newSecret("db/password", key)
	operator := &core.Principal{Name: "operator", AccessKeyID: "LTAIoperator", Secret: core.NewSecret("s"), Policy: core.FullAccess()}
	f.ok("SetSecretPolicy", "SecretName", sec, "Policy", ramPolicy(
		`{"Effect":"Allow","Principal":{"RAM":"`+user("admin")+`"},"Action":["kms:*"],"Resource":["*"]}`))
	_, err := f.as(operator, "GetSecretValue", "SecretName", sec)
	mustCode(t, err, core.CodeNoPermission)
	f.secretValue(sec)

	// The account's statement back, and a Deny of one action to all.
	f.ok("SetSecretPolicy", "SecretName", sec, "Policy", ramPolicy(toAccount,
		`{"Effect":"Deny","Principal":{"RAM":["*"]},"Action":["kms:PutSecretValue"],"Resource":["*"]}`))
	if _, err := f.as(operator, "GetSecretValue", "SecretName", sec); err != nil {
		t.Fatalf("GetSecretValue with the account's statement back: %v", err)
	}
	for _, p := range []*core.Principal{operator, f.admin} {
		_, err := f.as(p, "PutSecretValue", "SecretName", sec, "VersionId", "v2", "SecretData", "x")
		mustCode(t, err, core.CodeNoPermission)
	}
	// And the account's statement gives no one what their own policy does
	// not: it leaves them to it.
	_, err = f.as(nobody("bob"), "DescribeSecret", "SecretName", sec)
	mustCode(t, err, core.CodeNoPermission)
}

// TestSecretPolicyReadsTheSecretsTags: a secret policy's conditions read
// the secret's tags, as the caller's own policy's do.
func TestSecretPolicyReadsTheSecretsTags(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	sec := f.newSecret("tagged", key, "Tags", `[{"TagKey":"stage","TagValue":"test"}]`)
	f.ok("SetSecretPolicy", "SecretName", sec, "Policy", ramPolicy(toAccount,
		`{"Effect":"Allow","Principal":{"RAM":"`+user("bob")+`"},"Action":"kms:DescribeSecret","Resource":"*",
		  "Condition":{"StringEquals":{"kms:tag/stage":"test"}}}`))
	bob := nobody("bob")
	if _, err := f.as(bob, "DescribeSecret", "SecretName", sec); err != nil {
		t.Fatalf("DescribeSecret while the tag holds: %v", err)
	}
	f.ok("TagResource", "SecretName", sec, "Tags", `[{"TagKey":"stage","TagValue":"prod"}]`)
	_, err := f.as(bob, "DescribeSecret", "SecretName", sec)
	mustCode(t, err, core.CodeNoPermission)
}

// TestSecretPolicyLockoutCheck: a secret policy that would not let its
// caller put another is refused, changing nothing, unless the request
// bypasses the check; CreateSecret checks the policy it is given alike and
// keeps it.
func TestSecretPolicyLockoutCheck(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	sec := f.newSecret("locked", key)
	onlyBob := ramPolicy(`{"Effect":"Allow","Principal":{"RAM":"` + user("bob") + `"},"Action":"kms:*","Resource":"*"}`)
	_, err := f.call("SetSecretPolicy", "SecretName", sec, "Policy", onlyBob)
	if e := mustCode(t, err, core.CodeMalformedPolicy); !strings.Contains(e.Message, "secret policy") {
		t.Fatalf("the refusal says %q", e.Message)
	}
	if got := f.secretPolicy(sec); got != alibaba.DefaultPolicy(f.svc) {
		t.Fatalf("after a refused put, GetSecretPolicy = %s", got)
	}
	f.ok("SetSecretPolicy", "SecretName", sec, "Policy", onlyBob, "BypassPolicyLockoutSafetyCheck", "true")
	_, err = f.call("GetSecretPolicy", "SecretName", sec)
	mustCode(t, err, core.CodeNoPermission)

	_, err = f.call("CreateSecret", "SecretName", "born-locked", "VersionId", "v1", "SecretData", "x", "EncryptionKeyId", key, "Policy", onlyBob)
	mustCode(t, err, core.CodeMalformedPolicy)
	_, err = f.call("DescribeSecret", "SecretName", "born-locked")
	mustCode(t, err, core.CodeResourceNotFound)
	doc := ramPolicy(toAccount)
	f.newSecret("born-with-policy", key, "Policy", doc)
	if got := f.secretPolicy("born-with-policy"); got != doc {
		t.Fatalf("GetSecretPolicy of a secret made with one = %s", got)
	}
}

// TestSecretPolicyRefusesBadInput: what a key policy refuses, a secret
// policy refuses too, in its own words, and nothing changes; a policy of
// another name is not found; a secret scheduled for deletion takes none.
func TestSecretPolicyRefusesBadInput(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	sec := f.newSecret("strict", key)
	for _, doc := range []string{
		`not json`,
		`{"Version":"1","Statement":[]}`,
		ramPolicy(`{"Effect":"Allow","Principal":{"RAM":["*"]},"Action":["kms:*"],"Resource":["acs:kms:*:*:secret/strict"]}`),
		ramPolicy(`{"Effect":"Allow","Principal":{"RAM":["*"]},"Action":["oss:*"],"Resource":["*"]}`),
		`{"Version":"3","Statement":[` + toAccount + `]}`,
		ramPolicy(toAccount)[:30],
	} {
		_, err := f.call("SetSecretPolicy", "SecretName", sec, "Policy", doc)
		if e := mustCode(t, err, core.CodeMalformedPolicy); !strings.HasPrefix(e.Message, "The secret policy is malformed") {
			t.Fatalf("SetSecretPolicy %s: the refusal says %q", doc, e.Message)
		}
	}
	if got := f.secretPolicy(sec); got != alibaba.DefaultPolicy(f.svc) {
		t.Fatalf("after refused puts, GetSecretPolicy = %s", got)
	}
	_, err := f.call("SetSecretPolicy", "SecretName", sec)
	mustCode(t, err, core.CodeMissingParameter)
	for _, action := range []string{"GetSecretPolicy", "SetSecretPolicy"} {
		_, err := f.call(action, "SecretName", sec, "PolicyName", "other", "Policy", ramPolicy(toAccount))
		mustCode(t, err, core.CodeResourceNotFound)
	}
	_, err = f.call("GetSecretPolicy", "SecretName", "none")
	mustCode(t, err, core.CodeResourceNotFound)

	f.ok("DeleteSecret", "SecretName", sec)
	_, err = f.call("SetSecretPolicy", "SecretName", sec, "Policy", ramPolicy(toAccount))
	mustCode(t, err, core.CodePendingDeletion)
	if got := f.secretPolicy(sec); got != alibaba.DefaultPolicy(f.svc) {
		t.Fatalf("GetSecretPolicy of a secret scheduled for deletion = %s", got)
	}
}
