package core_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/inproc"
)

// awsAccount is the AWS spelling of the fixture's account.
var awsAccount = core.AWSAccount(account)

// ramPolicy is a key policy in RAM's language of the given statements.
func ramPolicy(statements ...string) string {
	return `{"Version":"1","Statement":[` + strings.Join(statements, ",") + `]}`
}

// awsPolicy is a key policy in AWS's language of the given statements.
func awsPolicy(statements ...string) string {
	return `{"Version":"2012-10-17","Id":"test","Statement":[` + strings.Join(statements, ",") + `]}`
}

// theAccount is the statement of the default policy: every action to the
// account, so that callers' own policies decide.
var theAccount = `{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + awsAccount + `:root"},"Action":"kms:*","Resource":"*"}`

func (f *svcFixture) setPolicy(key, doc string, kv ...string) {
	f.t.Helper()
	f.ok("SetKeyPolicy", append([]string{"KeyId", key, "Policy", doc}, kv...)...)
}

func (f *svcFixture) policyOf(key string) string {
	f.t.Helper()
	return f.ok("GetKeyPolicy", "KeyId", key).(*alibaba.PolicyResponse).Policy
}

// TestKeyPolicyAllowsByName: a principal whose own policy allows it nothing
// on keys uses a key its policy names it on, for the actions it names, on
// that key only; a key that does not exist looks like one it may not use.
func TestKeyPolicyAllowsByName(t *testing.T) {
	f := newSvcFixture(t)
	key, other := f.createKey(), f.createKey()
	bob := nobody("bob")
	if got := f.policyOf(key); got != alibaba.DefaultPolicy(f.svc) {
		t.Fatalf("GetKeyPolicy of a new key = %s; want the default", got)
	}
	doc := ramPolicy(
		`{"Effect":"Allow","Principal":{"RAM":["acs:ram::`+account+`:*"]},"Action":["kms:*"],"Resource":["*"]}`,
		`{"Effect":"Allow","Principal":{"RAM":"`+user("bob")+`"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*"}`)
	f.setPolicy(key, doc)
	if got := f.policyOf(key); got != doc {
		t.Fatalf("GetKeyPolicy = %s; want the document put", got)
	}
	r, err := f.as(bob, "GenerateDataKey", "KeyId", key)
	if err != nil {
		t.Fatalf("GenerateDataKey allowed by the key policy: %v", err)
	}
	blob := r.(*alibaba.DataKeyResponse).CiphertextBlob
	if _, err := f.as(bob, "Decrypt", "CiphertextBlob", blob); err != nil {
		t.Fatalf("Decrypt allowed by the key policy: %v", err)
	}
	for _, c := range []struct {
		p      *core.Principal
		action string
		kv     []string
	}{
		{bob, "Encrypt", []string{"KeyId", key, "Plaintext", "aGk="}},
		{bob, "GenerateDataKey", []string{"KeyId", other}},
		{bob, "GenerateDataKey", []string{"KeyId", "key-doesnotexist000000000"}},
		{bob, "GenerateDataKey", []string{"KeyId", "alias/none"}},
		{bob, "SetKeyPolicy", []string{"KeyId", key, "Policy", doc}},
		{nobody("eve"), "GenerateDataKey", []string{"KeyId", key}},
		// Not an action on a key: its own policy alone decides.
		{bob, "CreateKey", nil},
	} {
		_, err := f.as(c.p, c.action, c.kv...)
		mustCode(t, err, core.CodeNoPermission)
	}
	// The admin still has every action through the account's statement.
	f.ok("Encrypt", "KeyId", key, "Plaintext", "aGk=")

	// Kept in the store: another instance reads the same.
	f.restart(f.root)
	if _, err := f.as(bob, "GenerateDataKey", "KeyId", key); err != nil {
		t.Fatalf("GenerateDataKey after a restart: %v", err)
	}
}

// TestKeyPolicyWithoutTheAccountOverrulesOwnPolicies: a key whose policy
// gives the account nothing is closed to every caller it does not name,
// whatever their own policies allow; naming the account opens it to them
// again.
func TestKeyPolicyWithoutTheAccountOverrulesOwnPolicies(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	operator := &core.Principal{Name: "operator", AccessKeyID: "LTAIoperator", Secret: core.NewSecret("s"), Policy: core.FullAccess()}
	f.ok("GenerateDataKey", "KeyId", key)
	f.setPolicy(key, awsPolicy(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+awsAccount+`:user/admin"},"Action":"kms:*","Resource":"*"}`))
	if _, err := f.as(operator, "GenerateDataKey", "KeyId", key); err == nil {
		t.Fatal("a caller the key policy does not name used the key")
	} else {
		mustCode(t, err, core.CodeNoPermission)
	}
	f.ok("GenerateDataKey", "KeyId", key)
	f.setPolicy(key, awsPolicy(theAccount))
	if _, err := f.as(operator, "GenerateDataKey", "KeyId", key); err != nil {
		t.Fatalf("GenerateDataKey with the account's statement back: %v", err)
	}
	// And the account's statement gives no one what their own policy does
	// not: it leaves them to it.
	_, err := f.as(nobody("bob"), "GenerateDataKey", "KeyId", key)
	mustCode(t, err, core.CodeNoPermission)

	// A grant allows what a key policy that does not name its grantee
	// leaves out, as on AWS.
	f.setPolicy(key, awsPolicy(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+awsAccount+`:user/admin"},"Action":"kms:*","Resource":"*"}`))
	f.grant(key, "operator", []string{"GenerateDataKey"})
	if _, err := f.as(operator, "GenerateDataKey", "KeyId", key); err != nil {
		t.Fatalf("GenerateDataKey under a grant on a key whose policy does not name the grantee: %v", err)
	}
	_, err = f.as(operator, "Encrypt", "KeyId", key, "Plaintext", "aGk=")
	mustCode(t, err, core.CodeNoPermission)
}

// TestKeyPolicyDenyBeatsEveryAllow: a Deny in the key policy beats the
// caller's own policy, an Allow of the key policy and a grant; a Deny in
// the caller's own policy beats an Allow of the key policy.
func TestKeyPolicyDenyBeatsEveryAllow(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	bob := nobody("bob")
	f.grant(key, "bob", []string{"Encrypt"})
	f.setPolicy(key, ramPolicy(
		`{"Effect":"Allow","Principal":{"RAM":"acs:ram::`+account+`:*"},"Action":"kms:*","Resource":"*"}`,
		`{"Effect":"Allow","Principal":"*","Action":"kms:GenerateDataKey","Resource":"*"}`,
		`{"Effect":"Deny","Principal":{"RAM":"`+user("bob")+`"},"Action":["kms:Encrypt","kms:GenerateDataKey"],"Resource":"*"}`,
		`{"Effect":"Deny","Principal":{"RAM":"acs:ram::`+account+`:*"},"Action":"kms:DisableKey","Resource":"*"}`))
	for _, action := range []string{"Encrypt", "GenerateDataKey"} {
		_, err := f.as(bob, action, "KeyId", key, "Plaintext", "aGk=")
		mustCode(t, err, core.CodeNoPermission)
	}
	// "*" reaches everyone but bob.
	if _, err := f.as(nobody("carol"), "GenerateDataKey", "KeyId", key); err != nil {
		t.Fatalf("GenerateDataKey allowed to every principal: %v", err)
	}
	// A Deny to the account reaches every principal of it, the admin too.
	_, err := f.call("DisableKey", "KeyId", key)
	mustCode(t, err, core.CodeNoPermission)
	// The caller's own Deny beats the key policy's Allow.
	dave := &core.Principal{Name: "dave", AccessKeyID: "LTAIdave", Secret: core.NewSecret("s"), Policy: core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:DescribeRegions"}, Resource: []string{"*"}},
		core.Statement{Effect: "Deny", Action: []string{"kms:GenerateDataKey"}, Resource: []string{"*"}})}
	_, err = f.as(dave, "GenerateDataKey", "KeyId", key)
	mustCode(t, err, core.CodeNoPermission)
}

// TestKeyPolicyConditions: a key policy's conditions read the request's
// facts; one that cannot be told counts against an Allow.
func TestKeyPolicyConditions(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey("Tags", `[{"TagKey":"team","TagValue":"payments"}]`)
	bob := nobody("bob")
	f.setPolicy(key, awsPolicy(theAccount,
		`{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::`+awsAccount+`:user/bob"]},"Action":"kms:GenerateDataKey*","Resource":"*",
		  "Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"a","aws:ResourceTag/team":"payments"}}}`))
	if _, err := f.as(bob, "GenerateDataKeyWithoutPlaintext", "KeyId", key, "EncryptionContext", `{"tenant":"a"}`); err != nil {
		t.Fatalf("GenerateDataKeyWithoutPlaintext meeting the conditions: %v", err)
	}
	for _, ctx := range []string{`{"tenant":"b"}`, ``} {
		_, err := f.as(bob, "GenerateDataKeyWithoutPlaintext", "KeyId", key, "EncryptionContext", ctx)
		mustCode(t, err, core.CodeNoPermission)
	}
}

// TestKeyPolicyInAWSLanguage: a document in AWS's language names actions
// as AWS does, ReEncrypt's two sides apart.
func TestKeyPolicyInAWSLanguage(t *testing.T) {
	f := newSvcFixture(t)
	signing := f.createKey("KeySpec", "EC_P256", "KeyUsage", "SIGN/VERIFY")
	from, to := f.createKey(), f.createKey()
	bob := nobody("bob")
	bobARN := `"arn:aws:iam::` + awsAccount + `:user/bob"`
	f.setPolicy(signing, awsPolicy(theAccount, `{"Effect":"Allow","Principal":{"AWS":`+bobARN+`},"Action":["kms:Sign","kms:GetPublicKey"],"Resource":"*"}`))
	versions := f.ok("ListKeyVersions", "KeyId", signing).(*alibaba.ListKeyVersionsResponse)
	if _, err := f.as(bob, "AsymmetricSign", "KeyId", signing, "KeyVersionId", versions.KeyVersions.KeyVersion[0].KeyVersionId,
		"Algorithm", "ECDSA_SHA_256", "Digest", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="); err != nil {
		t.Fatalf("AsymmetricSign allowed as kms:Sign: %v", err)
	}
	_, err := f.as(bob, "AsymmetricVerify", "KeyId", signing, "KeyVersionId", versions.KeyVersions.KeyVersion[0].KeyVersionId,
		"Algorithm", "ECDSA_SHA_256", "Digest", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "Value", "AA==")
	// The refusal names the action as both languages do.
	if e := mustCode(t, err, core.CodeNoPermission); !strings.Contains(e.Message, "kms:AsymmetricVerify (kms:Verify in AWS's policy language)") {
		t.Errorf("the refusal names the action as %q", e.Message)
	}

	blob := f.encryptUnder(from)
	f.setPolicy(from, awsPolicy(theAccount, `{"Effect":"Allow","Principal":{"AWS":`+bobARN+`},"Action":"kms:ReEncryptFrom","Resource":"*"}`))
	_, err = f.as(bob, "ReEncrypt", "CiphertextBlob", blob, "DestinationKeyId", to)
	if e := mustCode(t, err, core.CodeNoPermission); !strings.Contains(e.Message, "kms:ReEncryptTo in AWS's") {
		t.Errorf("the refusal on the destination names the action as %q", e.Message)
	}
	f.setPolicy(to, awsPolicy(theAccount, `{"Effect":"Allow","Principal":{"AWS":`+bobARN+`},"Action":"kms:ReEncryptTo","Resource":"*"}`))
	if _, err := f.as(bob, "ReEncrypt", "CiphertextBlob", blob, "DestinationKeyId", to); err != nil {
		t.Fatalf("ReEncrypt with ReEncryptFrom on the source and ReEncryptTo on the destination: %v", err)
	}
	// The sides do not stand in for each other.
	_, err = f.as(bob, "ReEncrypt", "CiphertextBlob", f.encryptUnder(to), "DestinationKeyId", from)
	mustCode(t, err, core.CodeNoPermission)
}

// TestKeyPolicyLockoutCheck: a policy that would not let its caller put
// another is refused, on SetKeyPolicy and on CreateKey, unless the request
// bypasses the check; the key keeps its policy.
func TestKeyPolicyLockoutCheck(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	onlyBob := awsPolicy(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + awsAccount + `:user/bob"},"Action":"kms:*","Resource":"*"}`)
	_, err := f.call("SetKeyPolicy", "KeyId", key, "Policy", onlyBob)
	mustCode(t, err, core.CodeMalformedPolicy)
	if got := f.policyOf(key); got != alibaba.DefaultPolicy(f.svc) {
		t.Fatalf("a refused policy was put: %s", got)
	}
	_, err = f.call("CreateKey", "Policy", onlyBob)
	mustCode(t, err, core.CodeMalformedPolicy)
	if n := len(f.allKeys()); n != 1 {
		t.Fatalf("a refused CreateKey left a key: %d keys", n)
	}
	// A Deny of PutKeyPolicy to the caller locks it out too.
	_, err = f.call("SetKeyPolicy", "KeyId", key, "Policy", awsPolicy(theAccount, `{"Effect":"Deny","Principal":"*","Action":"kms:PutKeyPolicy","Resource":"*"}`))
	mustCode(t, err, core.CodeMalformedPolicy)

	f.setPolicy(key, onlyBob, "BypassPolicyLockoutSafetyCheck", "true")
	_, err = f.call("DescribeKey", "KeyId", key)
	mustCode(t, err, core.CodeNoPermission)
	bob := nobody("bob")
	// Nor may bob, whom the policy names, give the key to the account alone:
	// his own policy would not let him put another.
	_, err = f.as(bob, "SetKeyPolicy", "KeyId", key, "Policy", awsPolicy(theAccount))
	mustCode(t, err, core.CodeMalformedPolicy)
	if _, err := f.as(bob, "SetKeyPolicy", "KeyId", key, "Policy", awsPolicy(theAccount,
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+awsAccount+`:user/bob"},"Action":"kms:PutKeyPolicy","Resource":"*"}`)); err != nil {
		t.Fatalf("bob, whom the policy names, puts another: %v", err)
	}
	f.ok("DescribeKey", "KeyId", key)

	made := f.ok("CreateKey", "Policy", onlyBob, "BypassPolicyLockoutSafetyCheck", "true").(*alibaba.KeyMetadataResponse).KeyMetadata.KeyId
	if _, err := f.as(bob, "GetKeyPolicy", "KeyId", made); err != nil {
		t.Fatalf("GetKeyPolicy of a key made with a policy: %v", err)
	}
}

// TestKeyPolicyMalformed: documents that cannot be read, or that name what
// no caller can be, are refused with MalformedPolicyDocument and change
// nothing.
func TestKeyPolicyMalformed(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	stmt := func(s string) string { return awsPolicy(theAccount, s) }
	for what, doc := range map[string]string{
		"not JSON":                 `{"Statement":`,
		"not an object":            `[]`,
		"null":                     `null`,
		"no statement":             `{"Version":"2012-10-17"}`,
		"a null statement":         `{"Version":"2012-10-17","Statement":null}`,
		"no statements":            `{"Version":"2012-10-17","Statement":[]}`,
		"an unknown member":        `{"Version":"2012-10-17","Statement":[],"Extra":1}`,
		"a member named twice":     `{"Version":"2012-10-17","Version":"1","Statement":[]}`,
		"an unknown version":       `{"Version":"2","Statement":[]}`,
		"no principal":             stmt(`{"Effect":"Allow","Action":"kms:*","Resource":"*"}`),
		"NotPrincipal":             stmt(`{"Effect":"Allow","NotPrincipal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}`),
		"NotAction":                stmt(`{"Effect":"Allow","Principal":"*","NotAction":"kms:Decrypt","Resource":"*"}`),
		"a principal of no kind":   stmt(`{"Effect":"Allow","Principal":{"Federated":"x"},"Action":"kms:*","Resource":"*"}`),
		"a principal string":       stmt(`{"Effect":"Allow","Principal":"bob","Action":"kms:*","Resource":"*"}`),
		"an empty principal":       stmt(`{"Effect":"Allow","Principal":{},"Action":"kms:*","Resource":"*"}`),
		"no AWS principal":         stmt(`{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"kms:*","Resource":"*"}`),
		"no RAM principal":         stmt(`{"Effect":"Allow","Principal":{"RAM":"bob"},"Action":"kms:*","Resource":"*"}`),
		"a nameless user":          stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + awsAccount + `:user/"},"Action":"kms:*","Resource":"*"}`),
		"another service's action": stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`),
		"a resource not the key":   stmt(`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"arn:aws:kms:*"}`),
		"no resource":              stmt(`{"Effect":"Allow","Principal":"*","Action":"kms:*"}`),
		"no action":                stmt(`{"Effect":"Allow","Principal":"*","Resource":"*"}`),
		"an unknown effect":        stmt(`{"Effect":"Permit","Principal":"*","Action":"kms:*","Resource":"*"}`),
		"an unknown condition key": stmt(`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"a"}}}`),
		"a static key's operator":  stmt(`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"ArnLike":{"kms:CallerAccount":"a"}}}`),
		// Whatever order a map is read in: the condition that never holds
		// does not hide the one that cannot be read.
		"a static key's operator beside a failing one": stmt(`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"ArnLike":{"kms:CallerAccount":"a"},"StringEquals":{"kms:ViaService":"s3"}}}`),
		"an unknown operator":                          stmt(`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"DateEquals":{"kms:KeySpec":"x"}}}`),
		"a condition of objects":                       stmt(`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:KeySpec":{"a":1}}}}`),
		"too long":                                     awsPolicy(theAccount) + strings.Repeat(" ", core.MaxKeyPolicySize),
	} {
		// Malformed whether or not the lockout check is made.
		_, err := f.call("SetKeyPolicy", "KeyId", key, "Policy", doc, "BypassPolicyLockoutSafetyCheck", "true")
		if err == nil || core.AsError(err).Code != core.CodeMalformedPolicy {
			t.Errorf("%s: %v; want %s", what, err, core.CodeMalformedPolicy)
		}
		if strings.Contains(what, "principal") && err != nil && len(err.Error()) > 400 {
			t.Errorf("%s: a message of %d bytes", what, len(err.Error()))
		}
	}
	if got := f.policyOf(key); got != alibaba.DefaultPolicy(f.svc) {
		t.Fatalf("a refused policy was put: %s", got)
	}
	_, err := f.call("SetKeyPolicy", "KeyId", key, "PolicyName", "other", "Policy", awsPolicy(theAccount))
	mustCode(t, err, core.CodeResourceNotFound)
	_, err = f.call("SetKeyPolicy", "KeyId", key)
	mustCode(t, err, core.CodeMissingParameter)

	// Other accounts, roles and services are no callers here, and are
	// accepted as naming none.
	f.setPolicy(key, stmt(`{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:root","arn:aws:iam::`+awsAccount+`:role/r","arn:aws:sts::`+awsAccount+`:assumed-role/r/s"],
		"RAM":"acs:ram::1:role/r","Service":"logs.amazonaws.com"},"Action":"kms:*","Resource":"*"}`))
	_, err = f.as(nobody("bob"), "DescribeKey", "KeyId", key)
	mustCode(t, err, core.CodeNoPermission)
}

// TestKeyPolicyNamesAWholeName: a principal's name is all that follows
// user/ in either spelling, as grants read it, so a name with a slash (a
// function's) is named whole and no other principal by its last part.
func TestKeyPolicyNamesAWholeName(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	f.setPolicy(key, awsPolicy(theAccount, `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+awsAccount+`:user/function/orders"},"Action":"kms:DescribeKey","Resource":"*"}`))
	if _, err := f.as(nobody("function/orders"), "DescribeKey", "KeyId", key); err != nil {
		t.Fatalf("DescribeKey as the principal named whole: %v", err)
	}
	_, err := f.as(nobody("orders"), "DescribeKey", "KeyId", key)
	mustCode(t, err, core.CodeNoPermission)
}

// TestSeededKeyPolicy: a seed file's key may carry a policy, which decides
// from the key's first request.
func TestSeededKeyPolicy(t *testing.T) {
	f := newSvcFixture(t)
	doc := ramPolicy(`{"Effect":"Allow","Principal":{"RAM":"` + user("bob") + `"},"Action":"kms:DescribeKey","Resource":"*"}`)
	if _, err := f.svc.Seed(background, []core.SeedKey{{ID: "key-seeded", Policy: doc}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.as(nobody("bob"), "DescribeKey", "KeyId", "key-seeded"); err != nil {
		t.Fatalf("DescribeKey as the principal the seeded policy names: %v", err)
	}
	_, err := f.call("DescribeKey", "KeyId", "key-seeded")
	mustCode(t, err, core.CodeNoPermission)
}

// TestKeyPolicyConditionsSettledAtOnce: kms:CallerAccount is the service's
// account in either spelling and kms:ViaService is never set, so AWS's
// documented statements read as they would for a request made here; and a
// statement that names no caller here is kept whatever its conditions.
func TestKeyPolicyConditionsSettledAtOnce(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	bob := nobody("bob")
	f.setPolicy(key, awsPolicy(theAccount,
		`{"Sid":"Through EC2 only","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:GenerateDataKey*","Resource":"*",
		  "Condition":{"StringEquals":{"kms:CallerAccount":"`+awsAccount+`","kms:ViaService":"ec2.us-east-1.amazonaws.com"}}}`,
		`{"Sid":"The account, in RAM's spelling","Effect":"Allow","Principal":"*","Action":"kms:DescribeKey","Resource":"*",
		  "Condition":{"StringEquals":{"kms:CallerAccount":"`+account+`"}}}`,
		`{"Sid":"Another account","Effect":"Allow","Principal":"*","Action":"kms:Encrypt","Resource":"*",
		  "Condition":{"StringLike":{"kms:CallerAccount":"1111*"}}}`,
		`{"Sid":"Not through a service","Effect":"Deny","Principal":"*","Action":"kms:ReEncrypt*","Resource":"*",
		  "Condition":{"StringNotEquals":{"kms:ViaService":"rds.us-east-1.amazonaws.com"}}}`,
		`{"Sid":"CloudWatch Logs","Effect":"Allow","Principal":{"Service":"logs.us-east-1.amazonaws.com"},"Action":"kms:Encrypt*","Resource":"*",
		  "Condition":{"ArnLike":{"kms:EncryptionContext:aws:logs:arn":"arn:aws:logs:us-east-1:`+awsAccount+`:*"}}}`))
	_, err := f.as(bob, "GenerateDataKey", "KeyId", key)
	mustCode(t, err, core.CodeNoPermission)
	if _, err := f.as(bob, "DescribeKey", "KeyId", key); err != nil {
		t.Fatalf("DescribeKey allowed to the caller's account: %v", err)
	}
	_, err = f.as(bob, "Encrypt", "KeyId", key, "Plaintext", "aGk=")
	mustCode(t, err, core.CodeNoPermission)
	_, err = f.call("ReEncrypt", "CiphertextBlob", f.encryptUnder(key), "DestinationKeyId", key)
	mustCode(t, err, core.CodeNoPermission)
	f.ok("GenerateDataKey", "KeyId", key)
}

// TestKeyPolicyCompilesSpendTheirOwnBudget: compiling a document costs up
// to milliseconds, so a caller putting policies as fast as its request
// rate allows is throttled on its own bucket (KeyPolicyLimit) first, and
// another caller is not.
func TestKeyPolicyCompilesSpendTheirOwnBudget(t *testing.T) {
	svc, _ := memService(t, core.Config{Limiter: inproc.NewLimiter(), AccountID: account})
	owner := &core.Principal{Name: "owner", AccessKeyID: "LTAIowner", Secret: core.NewSecret("s"), QPS: 1 << 30, Policy: core.FullAccess()}
	other := &core.Principal{Name: "other", AccessKeyID: "LTAIother", Secret: core.NewSecret("s"), QPS: 1 << 30, Policy: core.FullAccess()}
	run := func(p *core.Principal, action string, params core.Params) (any, error) {
		return svc.Handle(background, &core.Request{ID: "REQ", Action: action, Params: params, Caller: p})
	}
	made, err := run(owner, "CreateKey", core.Params{})
	if err != nil {
		t.Fatal(err)
	}
	key := made.(core.Key).ID
	throttled := false
	for i := range 2 * core.KeyPolicyLimit.Burst {
		doc := awsPolicy(theAccount, fmt.Sprintf(`{"Sid":"%d","Effect":"Allow","Principal":"*","Action":"kms:DescribeKey","Resource":"*"}`, i))
		if _, err := run(owner, "SetKeyPolicy", core.Params{"KeyId": key, "Policy": doc}); err != nil {
			mustCode(t, err, core.CodeThrottling)
			throttled = i >= core.KeyPolicyLimit.Burst
			break
		}
	}
	if !throttled {
		t.Fatalf("%d policies put in a burst without a throttle, or throttled before the burst", 2*core.KeyPolicyLimit.Burst)
	}
	if _, err := run(other, "SetKeyPolicy", core.Params{"KeyId": key, "Policy": awsPolicy(theAccount)}); err != nil {
		t.Fatalf("another caller's SetKeyPolicy: %v", err)
	}
}

// TestKeyPolicyAsTheAWSConsoleWritesIt: the policy AWS's console writes for
// a new key, administrators as roles and users by ARN, is taken whole and
// decides as it would on AWS for the callers that exist here.
func TestKeyPolicyAsTheAWSConsoleWritesIt(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	role := `"arn:aws:iam::` + awsAccount + `:role/KeyAdmins"`
	users := `["arn:aws:iam::` + awsAccount + `:user/orders","arn:aws:iam::` + awsAccount + `:role/Lambda"]`
	f.setPolicy(key, `{
    "Id": "key-consolepolicy-3",
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::`+awsAccount+`:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Allow access for Key Administrators", "Effect": "Allow", "Principal": {"AWS": `+role+`},
         "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
                    "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
                    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand"],
         "Resource": "*"},
        {"Sid": "Allow use of the key", "Effect": "Allow", "Principal": {"AWS": `+users+`},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
         "Resource": "*"},
        {"Sid": "Allow attachment of persistent resources", "Effect": "Allow", "Principal": {"AWS": `+users+`},
         "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
    ]
}`)
	orders := nobody("orders")
	if _, err := f.as(orders, "Encrypt", "KeyId", key, "Plaintext", "aGk="); err != nil {
		t.Fatalf("Encrypt as a key user: %v", err)
	}
	// No AWS resource makes grants here, so the attachment statement allows
	// a user none.
	_, err := f.as(orders, "CreateGrant", "KeyId", key, "GranteePrincipal", user("orders"), "Operations", `["Decrypt"]`)
	mustCode(t, err, core.CodeNoPermission)
	_, err = f.as(orders, "DisableKey", "KeyId", key)
	mustCode(t, err, core.CodeNoPermission)
	f.ok("DisableKey", "KeyId", key)
}
