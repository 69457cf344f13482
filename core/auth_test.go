package core_test

import (
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/inproc"
)

// allowOn is a principal allowed actions on resources and nothing else.
func allowOn(name string, actions []string, resources ...string) *core.Principal {
	return &core.Principal{Name: name, AccessKeyID: "LTAI" + name, Secret: core.NewSecret("s"),
		Policy: core.MustPolicy(core.Statement{Effect: "Allow", Action: actions, Resource: resources})}
}

func (f *svcFixture) as(p *core.Principal, action string, kv ...string) (any, error) {
	return respond(f.svc)(f.svc.Handle(background, &core.Request{ID: "REQ", Action: action, Params: svcParams(kv...), Caller: p}))
}

func (f *svcFixture) encryptUnder(keyID string) string {
	f.t.Helper()
	return f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", keyID).(*alibaba.CiphertextResponse).CiphertextBlob
}

// TestDecryptIsAuthorizedAgainstTheKeyInTheBlob: Decrypt takes no KeyId, so
// the only key it can be authorized against is the one the blob names. A
// KeyId parameter naming an allowed key changes nothing.
func TestDecryptIsAuthorizedAgainstTheKeyInTheBlob(t *testing.T) {
	f := newSvcFixture(t)
	a, b := f.createKey(), f.createKey()
	blobA, blobB := f.encryptUnder(a), f.encryptUnder(b)
	onlyA := allowOn("decrypt-a", []string{"kms:Decrypt"}, f.svc.KeyARN(a))

	r, err := f.as(onlyA, "Decrypt", "CiphertextBlob", blobA)
	if err != nil {
		t.Fatalf("Decrypt of key A's blob: %v", err)
	}
	if got := r.(*alibaba.DecryptResponse).KeyId; got != a {
		t.Errorf("KeyId = %s, want %s", got, a)
	}
	_, err = f.as(onlyA, "Decrypt", "CiphertextBlob", blobB)
	mustCode(t, err, core.CodeNoPermission)
	_, err = f.as(onlyA, "Decrypt", "CiphertextBlob", blobB, "KeyId", a)
	mustCode(t, err, core.CodeNoPermission)
	_, err = f.as(onlyA, "Decrypt", "CiphertextBlob", blobB, "DryRun", "true")
	mustCode(t, err, core.CodeAccessDenied)
	_, err = f.as(onlyA, "Decrypt", "CiphertextBlob", blobA, "DryRun", "true")
	mustCode(t, err, core.CodeDryRunOperation)
}

// TestReEncryptIsAuthorizedOnSourceAndDestination: moving a blob needs
// ReEncrypt on the key inside it as well as on the destination.
func TestReEncryptIsAuthorizedOnSourceAndDestination(t *testing.T) {
	f := newSvcFixture(t)
	a, b := f.createKey(), f.createKey()
	blobB := f.encryptUnder(b)
	destOnly := allowOn("reencrypt-a", []string{"kms:ReEncrypt"}, f.svc.KeyARN(a))
	_, err := f.as(destOnly, "ReEncrypt", "CiphertextBlob", blobB, "DestinationKeyId", a)
	mustCode(t, err, core.CodeNoPermission)

	both := allowOn("reencrypt-ab", []string{"kms:ReEncrypt"}, f.svc.KeyARN(a), f.svc.KeyARN(b))
	r, err := f.as(both, "ReEncrypt", "CiphertextBlob", blobB, "DestinationKeyId", a)
	if err != nil {
		t.Fatalf("ReEncrypt with both keys allowed: %v", err)
	}
	if got := r.(*alibaba.CiphertextResponse).KeyId; got != a {
		t.Errorf("KeyId = %s, want %s", got, a)
	}
}

// TestRequestByAliasIsAuthorizedAgainstAliasAndKey: a request naming an alias
// is allowed by an Allow on the alias or on its key, and refused by a Deny on
// either; a request naming the key directly is judged on the key alone.
func TestRequestByAliasIsAuthorizedAgainstAliasAndKey(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	f.ok("CreateAlias", "AliasName", "alias/partitions", "KeyId", id)
	const action = "GenerateDataKeyWithoutPlaintext"
	aliasARN, keyARN := f.svc.AliasARN("alias/partitions"), f.svc.KeyARN(id)
	// deny is a principal allowed the action on allowed and denied it on denied.
	deny := func(name, allowed, denied string) *core.Principal {
		p := allowOn(name, []string{"kms:" + action}, allowed)
		p.Policy = core.MustPolicy(
			core.Statement{Effect: "Allow", Action: []string{"kms:" + action}, Resource: []string{allowed}},
			core.Statement{Effect: "Deny", Action: []string{"kms:" + action}, Resource: []string{denied}})
		return p
	}
	cases := []struct {
		name             string
		caller           *core.Principal
		byAlias, byKeyID string // "" = allowed, else the error code
	}{
		{"alias allowed", allowOn("alias-only", []string{"kms:" + action}, "acs:kms:*:*:alias/partitions"), "", core.CodeNoPermission},
		{"key allowed", allowOn("key-only", []string{"kms:" + action}, keyARN), "", ""},
		{"other alias allowed", allowOn("other-alias", []string{"kms:" + action}, "acs:kms:*:*:alias/other"), core.CodeNoPermission, core.CodeNoPermission},
		{"keys allowed, alias denied", deny("alias-denied", "acs:kms:*:*:key/*", aliasARN), core.CodeNoPermission, ""},
		{"aliases allowed, key denied", deny("key-denied", "acs:kms:*:*:alias/*", keyARN), core.CodeNoPermission, core.CodeNoPermission},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, try := range []struct{ ref, want string }{
				{"alias/partitions", c.byAlias}, {aliasARN, c.byAlias}, {id, c.byKeyID}, {keyARN, c.byKeyID},
			} {
				r, err := f.as(c.caller, action, "KeyId", try.ref)
				if try.want == "" {
					if err != nil {
						t.Errorf("KeyId %s: %v, want success", try.ref, err)
					} else if got := r.(*alibaba.CiphertextResponse).KeyId; got != id {
						t.Errorf("KeyId %s answered with key %s, want %s", try.ref, got, id)
					}
					continue
				}
				if code := core.AsError(err); err == nil || code.Code != try.want {
					t.Errorf("KeyId %s: %v, want %s", try.ref, err, try.want)
				}
			}
		})
	}
}

// TestRefusedCallerCannotTellWhichKeysExist: a caller not allowed the action on
// a key gets the same answer whether the key exists or not.
func TestRefusedCallerCannotTellWhichKeysExist(t *testing.T) {
	f := newSvcFixture(t)
	a, b := f.createKey(), f.createKey()
	onlyA := allowOn("gen-a", []string{"kms:GenerateDataKeyWithoutPlaintext"}, f.svc.KeyARN(a))
	noGen := allowOn("decrypt-only", []string{"kms:Decrypt"}, "*")
	missing := "key-hzz00000000000000000000"
	for _, c := range []struct {
		caller *core.Principal
		key    string
	}{{onlyA, b}, {onlyA, missing}, {noGen, a}, {noGen, missing}} {
		_, err := f.as(c.caller, "GenerateDataKeyWithoutPlaintext", "KeyId", c.key)
		mustCode(t, err, core.CodeNoPermission)
	}
}

func TestRefusedCallerCannotTellWhichAliasesExist(t *testing.T) {
	f := newSvcFixture(t)
	a := f.createKey()
	for _, name := range []string{"alias/present", "alias/other"} {
		if _, err := f.as(f.admin, "CreateAlias", "AliasName", name, "KeyId", a); err != nil {
			t.Fatal(err)
		}
	}
	onlyOther := allowOn("gen-other", []string{"kms:GenerateDataKeyWithoutPlaintext"}, f.svc.AliasARN("alias/other"))
	for _, name := range []string{"alias/present", "alias/missing"} {
		_, err := f.as(onlyOther, "GenerateDataKeyWithoutPlaintext", "KeyId", name)
		mustCode(t, err, core.CodeNoPermission)
	}
	// A caller allowed on the alias is told it is missing.
	anyAlias := allowOn("gen-aliases", []string{"kms:GenerateDataKeyWithoutPlaintext"}, f.svc.AliasARN("alias/*"))
	_, err := f.as(anyAlias, "GenerateDataKeyWithoutPlaintext", "KeyId", "alias/missing")
	mustCode(t, err, core.CodeAliasNotFound)
}

// authService is a service with the in-process limiter and nonce memory, as
// the local endpoint wires it.
func authService(t *testing.T, qps int) *core.Service {
	t.Helper()
	svc, _ := memService(t, core.Config{Limiter: inproc.NewLimiter(), Nonces: inproc.NewNonces(nil), QPS: qps,
		NonceTTL: 15 * time.Minute, NonceWindow: 30 * time.Minute})
	return svc
}

func TestThrottlingIsPerPrincipal(t *testing.T) {
	svc := authService(t, 1000)
	slow := allowOn("slow", []string{"kms:ListKeys"}, "*")
	slow.QPS, slow.Burst = 1, 2
	fast := allowOn("fast", []string{"kms:ListKeys"}, "*")
	list := func(p *core.Principal) error {
		_, err := svc.Handle(background, &core.Request{Action: "ListKeys", Params: core.Params{}, Caller: p})
		return err
	}
	for i := range 2 {
		if err := list(slow); err != nil {
			t.Fatalf("slow call %d within its burst: %v", i, err)
		}
	}
	ke := mustCode(t, list(slow), core.CodeThrottling)
	if ke.RetryAfter <= 0 || ke.RetryAfter > time.Second {
		t.Errorf("RetryAfter = %v, want in (0, 1s]", ke.RetryAfter)
	}
	if ke.Message != "QPS Limit Exceeded" {
		t.Errorf("throttling message = %q", ke.Message)
	}
	for i := range 20 {
		if err := list(fast); err != nil {
			t.Fatalf("fast call %d while slow is throttled: %v", i, err)
		}
	}
}

func TestNonceReplayIsRefusedPerAccessKey(t *testing.T) {
	svc := authService(t, 1000)
	alice := allowOn("alice", []string{"kms:ListKeys"}, "*")
	bob := allowOn("bob", []string{"kms:ListKeys"}, "*")
	call := func(p *core.Principal, nonce string) error {
		_, err := svc.Handle(background, &core.Request{Action: "ListKeys", Params: core.Params{}, Caller: p, Nonce: nonce})
		return err
	}
	if err := call(alice, "n-1"); err != nil {
		t.Fatal(err)
	}
	mustCode(t, call(alice, "n-1"), core.CodeSignatureNonceUsed)
	if err := call(bob, "n-1"); err != nil {
		t.Errorf("bob's first use of a nonce alice used: %v", err)
	}
	if err := call(alice, "n-2"); err != nil {
		t.Errorf("alice with a fresh nonce: %v", err)
	}
	for range 3 {
		if err := call(alice, ""); err != nil {
			t.Errorf("a platform-authenticated call without a nonce: %v", err)
		}
	}
}

// TestReplaysDoNotSpendTheSignersBudget: whoever holds a captured request can
// send it again, but each replay is refused as one and leaves the signer's
// bucket as it was, so the signer's own next request is served.
func TestReplaysDoNotSpendTheSignersBudget(t *testing.T) {
	svc := authService(t, 1000)
	signer := allowOn("signer", []string{"kms:ListKeys"}, "*")
	signer.QPS, signer.Burst = 1, 2
	call := func(nonce string) error {
		_, err := svc.Handle(background, &core.Request{Action: "ListKeys", Params: core.Params{}, Caller: signer, Nonce: nonce})
		return err
	}
	if err := call("captured"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		mustCode(t, call("captured"), core.CodeSignatureNonceUsed)
	}
	if err := call("fresh"); err != nil {
		t.Errorf("the signer's own request after five replays: %v", err)
	}
}
