package rpc_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
)

// Key policies through the official Alibaba Cloud KMS Go SDK: SetKeyPolicy,
// GetKeyPolicy and CreateKey's Policy, and what a policy put on a key does to
// callers that each use their own SDK client.

const (
	// app's own policy allows nothing on keys: only what a key's policy
	// names it for.
	appID, appSecret = "LTAI5tKeyPolicyApp0001", "app-secret-key-policy"
	// ops has full access of its own.
	opsID, opsSecret = "LTAI5tKeyPolicyOps0001", "ops-secret-key-policy"
)

// withKeyPolicyPrincipals adds app and ops.
func withKeyPolicyPrincipals(s *setup) {
	withPrincipal("app", appID, appSecret, 1000,
		core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:DescribeRegions"}, Resource: []string{"*"}}))(s)
	withPrincipal("ops", opsID, opsSecret, 1000, core.FullAccess())(s)
}

// ramUser is the RAM ARN of a principal of the test account.
func ramUser(name string) string { return "acs:ram::" + testAccount + ":user/" + name }

// ramDoc is a key policy in RAM's language of the given statements.
func ramDoc(statements ...string) string {
	return `{"Version":"1","Statement":[` + strings.Join(statements, ",") + `]}`
}

// stmt is a statement of effect for principal (a RAM principal, or "*" for
// everyone) on actions.
func stmt(effect, principal string, actions ...string) string {
	p := `{"RAM":["` + principal + `"]}`
	if principal == "*" {
		p = `"*"`
	}
	return `{"Effect":"` + effect + `","Principal":` + p + `,"Action":["` + strings.Join(actions, `","`) + `"],"Resource":["*"]}`
}

// accountStmt gives the account every action: callers' own policies decide.
var accountStmt = stmt("Allow", "acs:ram::"+testAccount+":*", "kms:*")

// defaultKeyPolicy is what GetKeyPolicy answers for a key without a policy.
const defaultKeyPolicy = `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + testAccount + `:*"]},"Action":["kms:*"],"Resource":["*"]}]}`

func setKeyPolicy(c *kms.Client, key, doc string) error {
	_, err := c.SetKeyPolicy(&kms.SetKeyPolicyRequest{KeyId: tea.String(key), Policy: tea.String(doc), PolicyName: tea.String("default")})
	return err
}

func getKeyPolicy(t *testing.T, c *kms.Client, key string) string {
	t.Helper()
	r, err := c.GetKeyPolicy(&kms.GetKeyPolicyRequest{KeyId: tea.String(key), PolicyName: tea.String("default")})
	if err != nil {
		t.Fatalf("GetKeyPolicy %s: %v", key, err)
	}
	return tea.StringValue(r.Body.Policy)
}

// generate mints a data key under key with c, answering its blob and
// plaintext.
func generate(c *kms.Client, key string) (blob, plain string, err error) {
	r, err := c.GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String(key)})
	if err != nil {
		return "", "", err
	}
	return tea.StringValue(r.Body.CiphertextBlob), tea.StringValue(r.Body.Plaintext), nil
}

func decrypt(c *kms.Client, blob string) (string, error) {
	r, err := c.Decrypt(&kms.DecryptRequest{CiphertextBlob: tea.String(blob)})
	if err != nil {
		return "", err
	}
	return tea.StringValue(r.Body.Plaintext), nil
}

// TestSDKKeyPolicyRoundTrip: a new key's policy is RAM's default; the
// document SetKeyPolicy puts, whitespace, order and non-ASCII Sid as they
// are, is the one GetKeyPolicy answers, with PolicyName given or not; a
// document at the 32 KiB bound round-trips too, one past it is malformed;
// a policy name other than "default" is not found.
func TestSDKKeyPolicyRoundTrip(t *testing.T) {
	e := newEnv(t)
	key := e.createKey()
	if got := getKeyPolicy(t, e.client, key); got != defaultKeyPolicy {
		t.Fatalf("GetKeyPolicy of a new key:\n got %s\nwant %s", got, defaultKeyPolicy)
	}
	doc := "{\n  \"Statement\": [\n    {\"Sid\": \"账户 & \\\"all\\\" + 100%\", \"Resource\": \"*\", \"Action\": \"kms:*\",\n" +
		"     \"Principal\": {\"RAM\": \"acs:ram::" + testAccount + ":*\"}, \"Effect\": \"Allow\"}\n  ],\n  \"Version\": \"1\"\n}"
	if err := setKeyPolicy(e.client, key, doc); err != nil {
		t.Fatalf("SetKeyPolicy: %v", err)
	}
	if got := getKeyPolicy(t, e.client, key); got != doc {
		t.Fatalf("GetKeyPolicy after SetKeyPolicy:\n got %q\nwant %q", got, doc)
	}
	r, err := e.client.GetKeyPolicy(&kms.GetKeyPolicyRequest{KeyId: tea.String(key)})
	if err != nil {
		t.Fatalf("GetKeyPolicy without PolicyName: %v", err)
	}
	if got := tea.StringValue(r.Body.Policy); got != doc {
		t.Errorf("GetKeyPolicy without PolicyName: %q", got)
	}
	// Putting the same document again changes nothing and is no error.
	if err := setKeyPolicy(e.client, key, doc); err != nil {
		t.Errorf("SetKeyPolicy of the same document: %v", err)
	}
	// By alias and by ARN, as any key parameter.
	if _, err := e.client.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/policied"), KeyId: tea.String(key)}); err != nil {
		t.Fatal(err)
	}
	if got := getKeyPolicy(t, e.client, "alias/policied"); got != doc {
		t.Errorf("GetKeyPolicy by alias: %q", got)
	}
	if got := getKeyPolicy(t, e.client, keyARN(key)); got != doc {
		t.Errorf("GetKeyPolicy by ARN: %q", got)
	}
	// Another key keeps the default.
	if got := getKeyPolicy(t, e.client, e.createKey()); got != defaultKeyPolicy {
		t.Errorf("another key's policy: %s", got)
	}

	// At the bound, through the query string the SDK signs.
	// pad is a document of size bytes, its Sid padded.
	pad := func(size int) string {
		doc := func(n int) string {
			return ramDoc(`{"Sid":"` + strings.Repeat("x", n) + `","Effect":"Allow","Principal":{"RAM":"acs:ram::` + testAccount + `:*"},"Action":"kms:*","Resource":"*"}`)
		}
		return doc(size - len(doc(0)))
	}
	big := pad(core.MaxKeyPolicySize)
	if len(big) != core.MaxKeyPolicySize {
		t.Fatalf("the big document is %d bytes", len(big))
	}
	if err := setKeyPolicy(e.client, key, big); err != nil {
		t.Fatalf("SetKeyPolicy of %d bytes: %v", len(big), err)
	}
	if got := getKeyPolicy(t, e.client, key); got != big {
		t.Errorf("GetKeyPolicy of the %d-byte document answered %d bytes", len(big), len(got))
	}
	sdkError(t, setKeyPolicy(e.client, key, pad(core.MaxKeyPolicySize+1)), core.CodeMalformedPolicy, http.StatusBadRequest)

	_, err = e.client.SetKeyPolicy(&kms.SetKeyPolicyRequest{KeyId: tea.String(key), Policy: tea.String(doc), PolicyName: tea.String("other")})
	sdkError(t, err, core.CodeResourceNotFound, http.StatusNotFound)
	_, err = e.client.GetKeyPolicy(&kms.GetKeyPolicyRequest{KeyId: tea.String(key), PolicyName: tea.String("other")})
	sdkError(t, err, core.CodeResourceNotFound, http.StatusNotFound)
	if got := getKeyPolicy(t, e.client, key); got != big {
		t.Errorf("a refused SetKeyPolicy changed the policy: %d bytes", len(got))
	}
	_, err = e.client.SetKeyPolicy(&kms.SetKeyPolicyRequest{KeyId: tea.String(key), PolicyName: tea.String("default")})
	sdkError(t, err, core.CodeMissingParameter, http.StatusBadRequest)
}

// TestSDKKeyPolicyAllowsByName: app, whose own policy allows nothing on
// keys, uses a key whose policy names it, for the actions named, with its
// own SDK client; on any other key, on a key ID or alias that does not
// exist, and for the actions not named, it is refused alike.
func TestSDKKeyPolicyAllowsByName(t *testing.T) {
	e := newEnv(t, withKeyPolicyPrincipals)
	key, other := e.createKey(), e.createKey()
	if _, err := e.client.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/app"), KeyId: tea.String(key)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/not-app"), KeyId: tea.String(other)}); err != nil {
		t.Fatal(err)
	}
	app := e.sdk(appID, appSecret)
	_, _, err := generate(app, key)
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)

	if err := setKeyPolicy(e.client, key, ramDoc(accountStmt, stmt("Allow", ramUser("app"), "kms:GenerateDataKey", "kms:Decrypt"))); err != nil {
		t.Fatalf("SetKeyPolicy: %v", err)
	}
	for _, name := range []string{key, "alias/app", keyARN(key)} {
		blob, plain, err := generate(app, name)
		if err != nil {
			t.Fatalf("app's GenerateDataKey under %s, which the key policy names it for: %v", name, err)
		}
		got, err := decrypt(app, blob)
		if err != nil {
			t.Fatalf("app's Decrypt of its blob: %v", err)
		}
		if got != plain {
			t.Fatalf("Decrypt gave another plaintext")
		}
	}

	// The admin's blob of the other key does not open for app.
	otherBlob, _, err := generate(e.client, other)
	if err != nil {
		t.Fatal(err)
	}
	_, err = decrypt(app, otherBlob)
	denied := sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	refusals := map[string]error{}
	for _, name := range []string{other, "alias/not-app", "key-doesnotexist00000000000", "alias/none", keyARN("key-doesnotexist00000000000")} {
		_, _, err := generate(app, name)
		refusals["GenerateDataKey "+name] = err
	}
	_, err = app.Encrypt(&kms.EncryptRequest{KeyId: tea.String(key), Plaintext: tea.String("aGk=")})
	refusals["Encrypt, not named"] = err
	_, err = app.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(key)})
	refusals["DescribeKey, not named"] = err
	_, err = app.GetKeyPolicy(&kms.GetKeyPolicyRequest{KeyId: tea.String(key)})
	refusals["GetKeyPolicy, not named"] = err
	refusals["SetKeyPolicy, not named"] = setKeyPolicy(app, key, ramDoc(stmt("Allow", "*", "kms:*")))
	// A key that does not exist is refused in the same words as one that
	// does: the caller learns nothing of which keys there are.
	words := func(se *tea.SDKError) string {
		m := tea.StringValue(se.Message)
		return m[:max(strings.Index(m, " request id:"), 0)]
	}
	want := strings.Replace(words(denied), "kms:Decrypt", "kms:GenerateDataKey", 1)
	if !strings.Contains(want, "kms:GenerateDataKey") {
		t.Fatalf("the denial of Decrypt says %q", words(denied))
	}
	for what, err := range refusals {
		se := sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
		if strings.HasPrefix(what, "GenerateDataKey") && words(se) != want {
			t.Errorf("%s: message %q, unlike %q", what, words(se), want)
		}
	}
	if got := getKeyPolicy(t, e.client, key); !strings.Contains(got, ramUser("app")) {
		t.Errorf("app's refused SetKeyPolicy changed the policy: %s", got)
	}
	// The admin, through the account statement, still uses both.
	for _, k := range []string{key, other} {
		if _, _, err := generate(e.client, k); err != nil {
			t.Errorf("admin on %s: %v", k, err)
		}
	}
}

// TestSDKKeyPolicyWithoutTheAccount: a policy that names only the admin
// shuts out ops, whose own policy allows everything, from every action on
// the key; the admin keeps it, and other keys are ops' as before.
func TestSDKKeyPolicyWithoutTheAccount(t *testing.T) {
	e := newEnv(t, withKeyPolicyPrincipals)
	key, other := e.createKey(), e.createKey()
	ops := e.sdk(opsID, opsSecret)
	blob, _, err := generate(ops, key)
	if err != nil {
		t.Fatalf("ops before the policy: %v", err)
	}
	if err := setKeyPolicy(e.client, key, ramDoc(stmt("Allow", ramUser("admin"), "kms:*"))); err != nil {
		t.Fatalf("SetKeyPolicy: %v", err)
	}
	calls := map[string]func() error{
		"GenerateDataKey": func() error { _, _, err := generate(ops, key); return err },
		"Decrypt":         func() error { _, err := decrypt(ops, blob); return err },
		"DescribeKey": func() error {
			_, err := ops.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(key)})
			return err
		},
		"GetKeyPolicy": func() error {
			_, err := ops.GetKeyPolicy(&kms.GetKeyPolicyRequest{KeyId: tea.String(key)})
			return err
		},
		"SetKeyPolicy": func() error { return setKeyPolicy(ops, key, defaultKeyPolicy) },
		"DisableKey": func() error {
			_, err := ops.DisableKey(&kms.DisableKeyRequest{KeyId: tea.String(key)})
			return err
		},
		"ScheduleKeyDeletion": func() error {
			_, err := ops.ScheduleKeyDeletion(&kms.ScheduleKeyDeletionRequest{KeyId: tea.String(key), PendingWindowInDays: tea.Int32(7)})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { sdkError(t, call(), core.CodeNoPermission, http.StatusForbidden) })
	}
	d, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(key)})
	if err != nil {
		t.Fatalf("admin's DescribeKey: %v", err)
	}
	if s := tea.StringValue(d.Body.KeyMetadata.KeyState); s != "Enabled" {
		t.Errorf("the key is %s after ops' refused calls", s)
	}
	if _, err := decrypt(e.client, blob); err != nil {
		t.Errorf("admin's Decrypt: %v", err)
	}
	if _, _, err := generate(ops, other); err != nil {
		t.Errorf("ops on another key: %v", err)
	}
	// The admin gives the key back to the account.
	if err := setKeyPolicy(e.client, key, ramDoc(accountStmt)); err != nil {
		t.Fatal(err)
	}
	if _, err := decrypt(ops, blob); err != nil {
		t.Errorf("ops after the account is back in the policy: %v", err)
	}
}

// TestSDKKeyPolicyDenyBeatsAll: a Deny in the key policy refuses a caller
// whose own policy allows everything, and one a grant allows; a Deny to
// everyone refuses the admin too; what it does not name stays allowed.
func TestSDKKeyPolicyDenyBeatsAll(t *testing.T) {
	e := newEnv(t, withKeyPolicyPrincipals)
	key := e.createKey()
	ops, app := e.sdk(opsID, opsSecret), e.sdk(appID, appSecret)
	blob, _, err := generate(e.client, key)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.kms.Handle(context.Background(), &core.Request{ID: "grant", Action: "CreateGrant", Caller: e.dir.Lookup(adminID),
		Params: core.Params{"KeyId": key, "GranteePrincipal": e.kms.PrincipalARN("app"), "Operations": `["Decrypt"]`}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decrypt(app, blob); err != nil {
		t.Fatalf("app's Decrypt under its grant: %v", err)
	}
	if err := setKeyPolicy(e.client, key, ramDoc(accountStmt,
		stmt("Deny", ramUser("ops"), "kms:Decrypt"), stmt("Deny", ramUser("app"), "kms:Decrypt"),
		stmt("Deny", "*", "kms:Encrypt"))); err != nil {
		t.Fatalf("SetKeyPolicy: %v", err)
	}
	_, err = decrypt(ops, blob)
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	_, err = decrypt(app, blob)
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	for _, c := range []*kms.Client{e.client, ops} {
		_, err = c.Encrypt(&kms.EncryptRequest{KeyId: tea.String(key), Plaintext: tea.String("aGk=")})
		sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	}
	if _, _, err := generate(ops, key); err != nil {
		t.Errorf("ops' GenerateDataKey, which no Deny names: %v", err)
	}
	if _, err := decrypt(e.client, blob); err != nil {
		t.Errorf("admin's Decrypt, which no Deny names for it: %v", err)
	}
}

// TestSDKKeyPolicyMalformed: a document that cannot be read, or that would
// lock the caller out of putting another, is MalformedPolicyDocument (400),
// and the key keeps its policy; BypassPolicyLockoutSafetyCheck, which the
// SDK's request has no field for, is sent through its generic call and lets
// the lockout through.
func TestSDKKeyPolicyMalformed(t *testing.T) {
	e := newEnv(t, withKeyPolicyPrincipals)
	key, fresh := e.createKey(), e.createKey()
	kept := ramDoc(accountStmt, stmt("Allow", ramUser("app"), "kms:Decrypt"))
	if err := setKeyPolicy(e.client, key, kept); err != nil {
		t.Fatal(err)
	}
	account := "acs:ram::" + testAccount + ":*"
	bad := map[string]string{
		"not JSON":         `{"Version":"1","Statement":[`,
		"not an object":    `["kms:*"]`,
		"unknown member":   `{"Version":"1","Statement":[],"Extra":1}`,
		"unknown version":  `{"Version":"3","Statement":[` + accountStmt + `]}`,
		"no principal":     ramDoc(`{"Effect":"Allow","Action":["kms:*"],"Resource":["*"]}`),
		"a key's resource": ramDoc(`{"Effect":"Allow","Principal":{"RAM":["` + account + `"]},"Action":["kms:*"],"Resource":["` + keyARN(key) + `"]}`),
		"not KMS's action": ramDoc(`{"Effect":"Allow","Principal":{"RAM":["` + account + `"]},"Action":["ecs:*"],"Resource":["*"]}`),
		"NotPrincipal":     ramDoc(`{"Effect":"Allow","NotPrincipal":{"RAM":["` + account + `"]},"Action":["kms:*"],"Resource":["*"]}`),
		"bad effect":       ramDoc(`{"Effect":"Maybe","Principal":{"RAM":["` + account + `"]},"Action":["kms:*"],"Resource":["*"]}`),
		"no RAM principal": ramDoc(`{"Effect":"Allow","Principal":{"RAM":["admin"]},"Action":["kms:*"],"Resource":["*"]}`),
		// Lockouts: the admin could not put another policy.
		"lockout: the admin named for less": ramDoc(stmt("Allow", ramUser("admin"), "kms:Encrypt", "kms:Decrypt")),
		"lockout: only app named":           ramDoc(stmt("Allow", ramUser("app"), "kms:*")),
		"lockout: a Deny to all":            ramDoc(accountStmt, stmt("Deny", "*", "kms:SetKeyPolicy")),
		"lockout: a Deny to the admin":      ramDoc(accountStmt, stmt("Deny", ramUser("admin"), "kms:*")),
		"lockout: nothing allowed":          ramDoc(stmt("Allow", account, "kms:Decrypt")),
	}
	for name, doc := range bad {
		t.Run(name, func(t *testing.T) {
			sdkError(t, setKeyPolicy(e.client, key, doc), core.CodeMalformedPolicy, http.StatusBadRequest)
			sdkError(t, setKeyPolicy(e.client, fresh, doc), core.CodeMalformedPolicy, http.StatusBadRequest)
			_, err := callAPI(t, e.client, "SetKeyPolicy", map[string]any{"KeyId": key, "Policy": doc, "BypassPolicyLockoutSafetyCheck": "false"})
			sdkError(t, err, core.CodeMalformedPolicy, http.StatusBadRequest)
			if got := getKeyPolicy(t, e.client, key); got != kept {
				t.Errorf("the policy after a refused SetKeyPolicy: %s", got)
			}
			if got := getKeyPolicy(t, e.client, fresh); got != defaultKeyPolicy {
				t.Errorf("the default policy after a refused SetKeyPolicy: %s", got)
			}
		})
	}
	// A malformed document is malformed with the bypass too.
	_, err := callAPI(t, e.client, "SetKeyPolicy", map[string]any{"KeyId": key, "Policy": bad["not JSON"], "BypassPolicyLockoutSafetyCheck": "true"})
	sdkError(t, err, core.CodeMalformedPolicy, http.StatusBadRequest)

	// ops, who may do anything of its own, cannot put a policy that leaves
	// it out either.
	sdkError(t, setKeyPolicy(e.sdk(opsID, opsSecret), key, ramDoc(stmt("Allow", ramUser("admin"), "kms:*"))), core.CodeMalformedPolicy, http.StatusBadRequest)
	// Nor app, which the key's policy names for Decrypt only: it is refused
	// before its document is judged.
	sdkError(t, setKeyPolicy(e.sdk(appID, appSecret), key, ramDoc(stmt("Allow", ramUser("app"), "kms:*"))), core.CodeNoPermission, http.StatusForbidden)

	// With the bypass, the lockout goes through and the admin is out.
	locked := bad["lockout: a Deny to the admin"]
	if _, err := callAPI(t, e.client, "SetKeyPolicy", map[string]any{"KeyId": key, "Policy": locked, "PolicyName": "default", "BypassPolicyLockoutSafetyCheck": "true"}); err != nil {
		t.Fatalf("SetKeyPolicy with BypassPolicyLockoutSafetyCheck: %v", err)
	}
	_, err = e.client.GetKeyPolicy(&kms.GetKeyPolicyRequest{KeyId: tea.String(key)})
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	sdkError(t, setKeyPolicy(e.client, key, kept), core.CodeNoPermission, http.StatusForbidden)
	// ops, through the account, can still read and mend it.
	ops := e.sdk(opsID, opsSecret)
	if got := getKeyPolicy(t, ops, key); got != locked {
		t.Errorf("the policy put with the bypass: %s", got)
	}
	if err := setKeyPolicy(ops, key, kept); err != nil {
		t.Errorf("ops mends the policy: %v", err)
	}
}

// TestSDKCreateKeyWithPolicy: CreateKey's Policy is the new key's policy,
// which names app at once; a malformed one, or one that locks the creator
// out, creates no key.
func TestSDKCreateKeyWithPolicy(t *testing.T) {
	e := newEnv(t, withKeyPolicyPrincipals)
	doc := ramDoc(accountStmt, stmt("Allow", ramUser("app"), "kms:GenerateDataKey", "kms:Decrypt"))
	r, err := e.client.CreateKey(&kms.CreateKeyRequest{Policy: tea.String(doc), Description: tea.String("with a policy")})
	if err != nil {
		t.Fatalf("CreateKey with Policy: %v", err)
	}
	key := tea.StringValue(r.Body.KeyMetadata.KeyId)
	if got := getKeyPolicy(t, e.client, key); got != doc {
		t.Fatalf("GetKeyPolicy of a key created with a policy:\n got %s\nwant %s", got, doc)
	}
	app := e.sdk(appID, appSecret)
	blob, plain, err := generate(app, key)
	if err != nil {
		t.Fatalf("app's GenerateDataKey: %v", err)
	}
	if got, err := decrypt(app, blob); err != nil || got != plain {
		t.Fatalf("app's Decrypt: %v", err)
	}
	count := func() int32 {
		l, err := e.client.ListKeys(&kms.ListKeysRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return tea.Int32Value(l.Body.TotalCount)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d keys", n)
	}
	for name, doc := range map[string]string{
		"malformed": `{"Version":"1","Statement":{}`,
		"lockout":   ramDoc(stmt("Allow", ramUser("app"), "kms:*")),
	} {
		_, err := e.client.CreateKey(&kms.CreateKeyRequest{Policy: tea.String(doc)})
		sdkError(t, err, core.CodeMalformedPolicy, http.StatusBadRequest)
		if n := count(); n != 1 {
			t.Errorf("a CreateKey with a %s policy left %d keys", name, n)
		}
	}
	// The SDK's CreateKeyRequest has no BypassPolicyLockoutSafetyCheck; its
	// generic call sends it.
	body, err := callAPI(t, e.client, "CreateKey", map[string]any{"Policy": ramDoc(stmt("Allow", ramUser("app"), "kms:*")), "BypassPolicyLockoutSafetyCheck": "true"})
	if err != nil {
		t.Fatalf("CreateKey with a lockout and the bypass: %v", err)
	}
	meta, _ := body["KeyMetadata"].(map[string]any)
	locked, _ := meta["KeyId"].(string)
	if locked == "" {
		t.Fatalf("CreateKey answered %v", body)
	}
	_, err = e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(locked)})
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	if got := getKeyPolicy(t, app, locked); !strings.Contains(got, ramUser("app")) {
		t.Errorf("app reads the policy of the key it was given: %s", got)
	}
}

// TestSetKeyPolicyIsAudited: SetKeyPolicy is recorded as a read-write event
// keeping the policy name, the document (bounded) and the bypass; a refused
// one is recorded with its error code; GetKeyPolicy is read-only.
func TestSetKeyPolicyIsAudited(t *testing.T) {
	a := newAudited(t, filepath.Join(t.TempDir(), "audit.jsonl"))
	key := a.createKey()
	doc := ramDoc(accountStmt)
	set, err := a.client.SetKeyPolicy(&kms.SetKeyPolicyRequest{KeyId: tea.String(key), Policy: tea.String(doc), PolicyName: tea.String("default")})
	if err != nil {
		t.Fatal(err)
	}
	long := ramDoc(accountStmt, `{"Sid":"`+strings.Repeat("s", 400)+`","Effect":"Allow","Principal":"*","Action":"kms:DescribeKey","Resource":"*"}`)
	bypass, err := callAPI(t, a.client, "SetKeyPolicy", map[string]any{"KeyId": key, "Policy": long, "BypassPolicyLockoutSafetyCheck": "true"})
	if err != nil {
		t.Fatal(err)
	}
	_, refusedErr := a.client.SetKeyPolicy(&kms.SetKeyPolicyRequest{KeyId: tea.String(key), Policy: tea.String("{")})
	refused := sdkError(t, refusedErr, core.CodeMalformedPolicy, http.StatusBadRequest)
	get, err := a.client.GetKeyPolicy(&kms.GetKeyPolicyRequest{KeyId: tea.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if got := tea.StringValue(get.Body.Policy); got != long {
		t.Fatalf("GetKeyPolicy: %s", got)
	}

	recs, text := a.records(t)
	if strings.Contains(text, strings.Repeat("s", 300)) {
		t.Errorf("the trail keeps a long policy whole")
	}
	byID := map[string]int{}
	for i, r := range recs {
		byID[r.RequestID] = i
	}
	find := func(id string) (int, bool) {
		i, ok := byID[id]
		if !ok {
			t.Errorf("no record of request %s", id)
		}
		return i, ok
	}
	if i, ok := find(tea.StringValue(set.Body.RequestId)); ok {
		r := recs[i]
		p := r.RequestParameters
		if r.EventName != "SetKeyPolicy" || r.ReadOnly || r.ErrorCode != "" || r.UserIdentity.Principal != "admin" {
			t.Errorf("SetKeyPolicy's record: eventName %q readOnly %v errorCode %q principal %q", r.EventName, r.ReadOnly, r.ErrorCode, r.UserIdentity.Principal)
		}
		if p["policyName"] != "default" || p["policy"] != doc || p["keyId"] != key {
			t.Errorf("SetKeyPolicy's requestParameters: %v", p)
		}
		if len(r.Resources) != 1 || r.Resources[0].ARN != keyARN(key) {
			t.Errorf("SetKeyPolicy's resources: %+v", r.Resources)
		}
	}
	if i, ok := find(fmt.Sprint(bypass["RequestId"])); ok {
		r := recs[i]
		p := r.RequestParameters
		pol, _ := p["policy"].(string)
		if r.EventName != "SetKeyPolicy" || r.ReadOnly || pol != long[:256]+"…" {
			t.Errorf("the record of a long SetKeyPolicy: readOnly %v policy %q", r.ReadOnly, pol)
		}
		if p["bypassPolicyLockoutSafetyCheck"] != true {
			t.Errorf("bypassPolicyLockoutSafetyCheck not kept as a boolean: %v", p)
		}
	}
	if i, ok := find(requestIDOf(refused)); ok {
		r := recs[i]
		if r.EventName != "SetKeyPolicy" || r.ReadOnly || r.ErrorCode != core.CodeMalformedPolicy || r.RequestParameters["policy"] != "{" {
			t.Errorf("the refused SetKeyPolicy's record: %+v", r)
		}
	}
	if i, ok := find(tea.StringValue(get.Body.RequestId)); ok {
		if r := recs[i]; r.EventName != "GetKeyPolicy" || !r.ReadOnly {
			t.Errorf("GetKeyPolicy's record: eventName %q readOnly %v", r.EventName, r.ReadOnly)
		}
	}
}

// requestIDOf is the RequestId of a refusal, which the SDK keeps in the
// error's Data.
func requestIDOf(se *tea.SDKError) string {
	if m := requestIDIn.FindStringSubmatch(tea.StringValue(se.Data)); m != nil {
		return m[1]
	}
	return ""
}
