package core_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
)

const account = "1234567890123456"

// user is the ARN a grant names principal name by.
func user(name string) string { return "acs:ram::" + account + ":user/" + name }

// nobody is a principal whose policy allows it nothing on keys.
func nobody(name string) *core.Principal {
	return allowOn(name, []string{"kms:DescribeRegions"}, "*")
}

func (f *svcFixture) grant(keyID, grantee string, ops []string, kv ...string) *alibaba.CreateGrantResponse {
	f.t.Helper()
	return f.grantAs(f.admin, keyID, grantee, ops, kv...)
}

func (f *svcFixture) grantAs(p *core.Principal, keyID, grantee string, ops []string, kv ...string) *alibaba.CreateGrantResponse {
	f.t.Helper()
	r, err := f.as(p, "CreateGrant", append([]string{"KeyId", keyID, "GranteePrincipal", user(grantee), "Operations", jsonOf(ops)}, kv...)...)
	if err != nil {
		f.t.Fatalf("CreateGrant for %s: %v", grantee, err)
	}
	return r.(*alibaba.CreateGrantResponse)
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func (f *svcFixture) grantIDs(action string, kv ...string) []string {
	f.t.Helper()
	var ids []string
	for marker := ""; ; {
		r := f.ok(action, append(kv, "PageSize", "2", "Marker", marker)...).(*alibaba.ListGrantsResponse)
		for _, g := range r.Grants.Grant {
			ids = append(ids, g.GrantId)
		}
		if !r.Truncated {
			return ids
		}
		marker = r.NextMarker
	}
}

// TestGrantLetsItsGranteeUseTheKey: a principal whose policy allows it
// nothing on a key uses it for the grant's operations, on that key only,
// until the grant is revoked.
func TestGrantLetsItsGranteeUseTheKey(t *testing.T) {
	f := newSvcFixture(t)
	key, other := f.createKey(), f.createKey()
	bob := nobody("bob")
	_, err := f.as(bob, "GenerateDataKey", "KeyId", key)
	mustCode(t, err, core.CodeNoPermission)

	g := f.grant(key, "bob", []string{"GenerateDataKey", "Decrypt"})
	if len(g.GrantId) != 64 || g.GrantToken == "" {
		t.Fatalf("CreateGrant = %+v", g)
	}
	r, err := f.as(bob, "GenerateDataKey", "KeyId", key)
	if err != nil {
		t.Fatalf("GenerateDataKey under the grant: %v", err)
	}
	blob := r.(*alibaba.DataKeyResponse).CiphertextBlob
	if _, err := f.as(bob, "Decrypt", "CiphertextBlob", blob); err != nil {
		t.Fatalf("Decrypt under the grant: %v", err)
	}
	_, err = f.as(bob, "Encrypt", "KeyId", key, "Plaintext", "aGk=")
	mustCode(t, err, core.CodeNoPermission)
	_, err = f.as(bob, "GenerateDataKey", "KeyId", other)
	mustCode(t, err, core.CodeNoPermission)
	// A key that does not exist looks like one the caller may not use.
	_, err = f.as(bob, "GenerateDataKey", "KeyId", "key-doesnotexist000000000")
	mustCode(t, err, core.CodeNoPermission)
	// Nor does a grant speak for another principal.
	_, err = f.as(nobody("eve"), "GenerateDataKey", "KeyId", key)
	mustCode(t, err, core.CodeNoPermission)

	list := f.ok("ListGrants", "KeyId", key).(*alibaba.ListGrantsResponse)
	if len(list.Grants.Grant) != 1 {
		t.Fatalf("ListGrants = %+v", list)
	}
	e := list.Grants.Grant[0]
	if e.GrantId != g.GrantId || e.KeyId != key || e.GranteePrincipal != user("bob") || e.IssuingAccount != account ||
		!slices.Equal(e.Operations.Operation, []string{"Decrypt", "GenerateDataKey"}) || e.Constraints != nil || list.Truncated {
		t.Fatalf("ListGrants entry = %+v", e)
	}

	f.ok("RevokeGrant", "KeyId", key, "GrantId", g.GrantId)
	_, err = f.as(bob, "Decrypt", "CiphertextBlob", blob)
	mustCode(t, err, core.CodeNoPermission)
	_, err = f.call("RevokeGrant", "KeyId", key, "GrantId", g.GrantId)
	mustCode(t, err, core.CodeResourceNotFound)
}

// TestGrantConstraintsMatchTheContext: keys without regard to case, values
// exactly; Equals wants the very pairs, Subset at least them.
func TestGrantConstraintsMatchTheContext(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	bob, carol := nobody("bob"), nobody("carol")
	f.grant(key, "bob", []string{"GenerateDataKeyWithoutPlaintext", "DescribeKey"}, "EncryptionContextSubset", `{"tenant":"a"}`)
	f.grant(key, "carol", []string{"GenerateDataKeyWithoutPlaintext"}, "EncryptionContextEquals", `{"tenant":"a"}`)
	for _, c := range []struct {
		p       *core.Principal
		context string
		ok      bool
	}{
		{bob, `{"tenant":"a"}`, true},
		{bob, `{"Tenant":"a","other":"x"}`, true},
		{bob, `{"tenant":"A"}`, false},
		{bob, ``, false},
		{carol, `{"TENANT":"a"}`, true},
		{carol, `{"tenant":"a","other":"x"}`, false},
		{carol, `{}`, false},
	} {
		_, err := f.as(c.p, "GenerateDataKeyWithoutPlaintext", "KeyId", key, "EncryptionContext", c.context)
		if c.ok && err != nil || !c.ok && (err == nil || core.AsError(err).Code != core.CodeNoPermission) {
			t.Errorf("%s with context %q: %v, want allowed %v", c.p.Name, c.context, err, c.ok)
		}
	}
	// Constraints do not apply to DescribeKey, which takes no context.
	if _, err := f.as(bob, "DescribeKey", "KeyId", key); err != nil {
		t.Fatalf("DescribeKey under a constrained grant: %v", err)
	}
}

// TestDenyBeatsAGrant: an explicit Deny in the caller's own policy, even a
// conditional one, outweighs any grant.
func TestDenyBeatsAGrant(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey("Tags", `[{"TagKey":"team","TagValue":"red"}]`)
	mallory := &core.Principal{Name: "mallory", AccessKeyID: "LTAImallory", Secret: core.NewSecret("s"), Policy: core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:DescribeRegions"}, Resource: []string{"*"}},
		core.Statement{Effect: "Deny", Action: []string{"kms:GenerateDataKey"}, Resource: []string{"*"},
			Condition: []core.Condition{{Operator: "StringEquals", Key: "kms:tag/team", Values: []string{"red"}}}},
	)}
	f.grant(key, "mallory", []string{"GenerateDataKey", "DescribeKey"})
	_, err := f.as(mallory, "GenerateDataKey", "KeyId", key)
	mustCode(t, err, core.CodeNoPermission)
	if _, err := f.as(mallory, "DescribeKey", "KeyId", key); err != nil {
		t.Fatalf("DescribeKey, which no statement denies: %v", err)
	}
}

// TestRetireGrant: the retiring principal retires a grant by its token, the
// grantee only when the grant gives RetireGrant, and nobody else.
func TestRetireGrant(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	bob, carol, eve := nobody("bob"), nobody("carol"), nobody("eve")
	g := f.grant(key, "bob", []string{"Decrypt"}, "RetiringPrincipal", user("carol"))
	_, err := f.as(eve, "RetireGrant", "GrantToken", g.GrantToken)
	mustCode(t, err, core.CodeNoPermission)
	_, err = f.as(bob, "RetireGrant", "GrantToken", g.GrantToken)
	mustCode(t, err, core.CodeNoPermission)

	retirable := f.ok("ListRetirableGrants", "RetiringPrincipal", user("carol")).(*alibaba.ListGrantsResponse)
	if len(retirable.Grants.Grant) != 1 || retirable.Grants.Grant[0].GrantId != g.GrantId ||
		retirable.Grants.Grant[0].RetiringPrincipal != user("carol") {
		t.Fatalf("ListRetirableGrants = %+v", retirable)
	}
	if _, err := f.as(carol, "RetireGrant", "GrantToken", g.GrantToken); err != nil {
		t.Fatalf("RetireGrant by the retiring principal: %v", err)
	}
	_, err = f.as(carol, "RetireGrant", "GrantToken", g.GrantToken)
	mustCode(t, err, core.CodeResourceNotFound)
	if ids := f.grantIDs("ListGrants", "KeyId", key); len(ids) != 0 {
		t.Fatalf("after RetireGrant, ListGrants = %v", ids)
	}

	own := f.grant(key, "bob", []string{"Decrypt", "RetireGrant"})
	if _, err := f.as(bob, "RetireGrant", "KeyId", f.svc.KeyARN(key), "GrantId", own.GrantId); err != nil {
		t.Fatalf("RetireGrant by a grantee the grant lets: %v", err)
	}

	// A forged token names a key; whether it exists is not told.
	for _, keyID := range []string{key, "key-doesnotexist000000000"} {
		forged := base64.RawURLEncoding.EncodeToString([]byte("kmsless-grant-1/" + keyID + "/" + g.GrantId + "/00"))
		_, err = f.as(eve, "RetireGrant", "GrantToken", forged)
		mustCode(t, err, core.CodeResourceNotFound)
	}
	_, err = f.call("RetireGrant", "GrantToken", "bm90IGEgdG9rZW4")
	mustCode(t, err, core.CodeInvalidGrantToken)
	// Nor is a token whose key is no key ID, such as one too long to be.
	for _, keyID := range []string{strings.Repeat("k", 4000), key + "é", "key doesnotexist"} {
		forged := base64.RawURLEncoding.EncodeToString([]byte("kmsless-grant-1/" + keyID + "/" + g.GrantId + "/00"))
		_, err = f.as(eve, "RetireGrant", "GrantToken", forged)
		mustCode(t, err, core.CodeInvalidGrantToken)
		if len(err.Error()) > 200 {
			t.Fatalf("RetireGrant of a forged token: a %d-byte refusal", len(err.Error()))
		}
	}
	_, err = f.call("RetireGrant", "KeyId", key)
	mustCode(t, err, core.CodeMissingParameter)
	other := f.grant(key, "bob", []string{"Decrypt"})
	_, err = f.call("RetireGrant", "GrantToken", other.GrantToken, "GrantId", g.GrantId)
	mustCode(t, err, core.CodeInvalidParameter)
}

// TestGrantMadeUnderAGrantStaysWithinIt: a grantee given CreateGrant makes
// grants of no operation its own lacks and with constraints at least as
// strict as its own.
func TestGrantMadeUnderAGrantStaysWithinIt(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	bob := nobody("bob")
	f.grant(key, "bob", []string{"CreateGrant", "Decrypt", "Encrypt"}, "EncryptionContextSubset", `{"tenant":"a"}`)
	f.grantAs(bob, key, "dave", []string{"Decrypt"}, "EncryptionContextSubset", `{"tenant":"a","app":"x"}`)
	f.grantAs(bob, key, "dave", []string{"Encrypt"}, "EncryptionContextEquals", `{"TENANT":"a"}`)
	for _, c := range []struct {
		ops []string
		kv  []string
	}{
		{[]string{"Decrypt"}, nil},
		{[]string{"Decrypt"}, []string{"EncryptionContextSubset", `{"tenant":"b"}`}},
		{[]string{"GenerateDataKey"}, []string{"EncryptionContextSubset", `{"tenant":"a"}`}},
	} {
		_, err := f.as(bob, "CreateGrant", append([]string{"KeyId", key, "GranteePrincipal", user("dave"), "Operations", jsonOf(c.ops)}, c.kv...)...)
		mustCode(t, err, core.CodeNoPermission)
	}
}

// TestCreateGrantRefusesWhatTheKeyCannotDo: operations of another kind of
// key, constraints on a key that takes no context, principals of another
// account or none.
func TestCreateGrantRefusesWhatTheKeyCannotDo(t *testing.T) {
	f := newSvcFixture(t)
	aes, mac := f.createKey(), f.createKey("KeySpec", "HMAC_256", "KeyUsage", "GENERATE/VERIFY_MAC")
	for _, c := range []struct {
		key string
		kv  []string
	}{
		{aes, []string{"GranteePrincipal", user("bob"), "Operations", `["Sign"]`}},
		{aes, []string{"GranteePrincipal", user("bob"), "Operations", `["Fly"]`}},
		{aes, []string{"GranteePrincipal", user("bob"), "Operations", `[]`}},
		{mac, []string{"GranteePrincipal", user("bob"), "Operations", `["GenerateMac"]`, "EncryptionContextSubset", `{"a":"b"}`}},
		{aes, []string{"GranteePrincipal", "acs:ram::999999999999:user/bob", "Operations", `["Decrypt"]`}},
		{aes, []string{"GranteePrincipal", "arn:aws:iam::" + account + ":user/bob", "Operations", `["Decrypt"]`}},
		{aes, []string{"GranteePrincipal", user(""), "Operations", `["Decrypt"]`}},
		{aes, []string{"GranteePrincipal", user("bob"), "Operations", `["Decrypt"]`, "RetiringPrincipal", "bob"}},
		{aes, []string{"GranteePrincipal", user("bob"), "Operations", `["Decrypt"]`, "Name", "no spaces"}},
		{aes, []string{"GranteePrincipal", user("bob"), "Operations", `["Decrypt"]`, "EncryptionContextSubset", `{"1":"","2":"","3":"","4":"","5":"","6":"","7":"","8":"","9":""}`}},
	} {
		_, err := f.call("CreateGrant", append([]string{"KeyId", c.key}, c.kv...)...)
		mustCode(t, err, core.CodeInvalidParameter)
	}
	f.grant(mac, "bob", []string{"GenerateMac", "VerifyMac", "DescribeKey"})
	if ids := f.grantIDs("ListGrants", "KeyId", aes); len(ids) != 0 {
		t.Fatalf("refused grants were stored: %v", ids)
	}
}

// TestCreateGrantByNameIsIdempotent: the same name and terms return the
// first grant; other terms under the name make another.
func TestCreateGrantByNameIsIdempotent(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	a := f.grant(key, "bob", []string{"Encrypt", "Decrypt"}, "Name", "app/orders")
	b := f.grant(key, "bob", []string{"Decrypt", "Encrypt", "Decrypt"}, "Name", "app/orders")
	c := f.grant(key, "bob", []string{"Decrypt"}, "Name", "app/orders")
	d := f.grant(key, "bob", []string{"Encrypt", "Decrypt"})
	if a.GrantId != b.GrantId || a.GrantToken == b.GrantToken || c.GrantId == a.GrantId || d.GrantId == a.GrantId {
		t.Fatalf("grants: %s %s %s %s", a.GrantId, b.GrantId, c.GrantId, d.GrantId)
	}
	if ids := f.grantIDs("ListGrants", "KeyId", key); len(ids) != 3 {
		t.Fatalf("ListGrants = %v, want 3", ids)
	}
	if _, err := f.call("RetireGrant", "GrantToken", a.GrantToken); err != nil {
		t.Fatalf("RetireGrant by the first token: %v", err)
	}
	_, err := f.call("RetireGrant", "GrantToken", b.GrantToken)
	mustCode(t, err, core.CodeResourceNotFound)
}

// TestReEncryptUnderGrants: ReEncryptFrom on the source key and ReEncryptTo
// on the destination, each from its own grant.
func TestReEncryptUnderGrants(t *testing.T) {
	f := newSvcFixture(t)
	from, to := f.createKey(), f.createKey()
	blob := f.encryptUnder(from)
	bob := nobody("bob")
	f.grant(from, "bob", []string{"ReEncryptFrom"})
	_, err := f.as(bob, "ReEncrypt", "CiphertextBlob", blob, "DestinationKeyId", to)
	mustCode(t, err, core.CodeNoPermission)
	f.grant(to, "bob", []string{"ReEncryptFrom"})
	_, err = f.as(bob, "ReEncrypt", "CiphertextBlob", blob, "DestinationKeyId", to)
	mustCode(t, err, core.CodeNoPermission)
	f.grant(to, "bob", []string{"ReEncryptTo"})
	if _, err := f.as(bob, "ReEncrypt", "CiphertextBlob", blob, "DestinationKeyId", to); err != nil {
		t.Fatalf("ReEncrypt under both grants: %v", err)
	}
}

// TestGrantsListAndPage: ListGrants pages by grant ID and narrows by
// grantee or ID; ListRetirableGrants pages across keys.
func TestGrantsListAndPage(t *testing.T) {
	f := newSvcFixture(t)
	k1, k2 := f.createKey(), f.createKey()
	var all []string
	for i := range 5 {
		key := []string{k1, k2}[i%2]
		g := f.grant(key, fmt.Sprintf("p%d", i%3), []string{"Decrypt"}, "RetiringPrincipal", user("ops"))
		all = append(all, g.GrantId)
	}
	got := f.grantIDs("ListGrants", "KeyId", k1)
	if len(got) != 3 || !slices.IsSorted(got) {
		t.Fatalf("ListGrants of k1 = %v", got)
	}
	if ids := f.grantIDs("ListGrants", "KeyId", k1, "GranteePrincipal", user("p0")); len(ids) != 1 {
		t.Fatalf("ListGrants for p0 = %v", ids)
	}
	if ids := f.grantIDs("ListGrants", "KeyId", k1, "GrantId", got[1]); !slices.Equal(ids, got[1:2]) {
		t.Fatalf("ListGrants by ID = %v", ids)
	}
	retirable := f.grantIDs("ListRetirableGrants", "RetiringPrincipal", user("ops"))
	slices.Sort(retirable)
	slices.Sort(all)
	if !slices.Equal(retirable, all) {
		t.Fatalf("ListRetirableGrants = %v, want %v", retirable, all)
	}
	_, err := f.call("ListGrants", "KeyId", k1, "Marker", "nope")
	mustCode(t, err, core.CodeInvalidParameter)
	_, err = f.call("ListRetirableGrants", "RetiringPrincipal", user("ops"), "Marker", "nope")
	mustCode(t, err, core.CodeInvalidParameter)
}

// TestGrantsGoWithTheirKey: a key purged past its deletion date takes its
// grants with it, and a grant recorded for an earlier key of the same ID
// gives nothing on the key there now.
func TestGrantsGoWithTheirKey(t *testing.T) {
	f := newSvcFixture(t)
	key, kept := f.createKey(), f.createKey()
	f.grant(key, "bob", []string{"Decrypt"}, "RetiringPrincipal", user("ops"))
	f.pastDeletion(key)
	f.ok("DescribeKey", "KeyId", kept)
	if ids := f.grantIDs("ListRetirableGrants", "RetiringPrincipal", user("ops")); len(ids) != 0 {
		t.Fatalf("ListRetirableGrants after the key's deletion date = %v", ids)
	}

	stale := core.Grant{ID: fmt.Sprintf("%064x", 1), KeyID: kept, KeyCreated: 1, Grantee: user("bob"), GranteeName: "bob",
		Operations: []string{"Encrypt"}, Issuer: "admin"}
	if err := f.store.CreateGrant(context.Background(), stale); err != nil {
		t.Fatal(err)
	}
	_, err := f.as(nobody("bob"), "Encrypt", "KeyId", kept, "Plaintext", "aGk=")
	mustCode(t, err, core.CodeNoPermission)
	if ids := f.grantIDs("ListGrants", "KeyId", kept); len(ids) != 0 {
		t.Fatalf("ListGrants lists a grant of an earlier key: %v", ids)
	}
}

// TestGrantsPerGranteeAreBounded: every request a grant allows reads the
// grantee's grants on the key, so there are at most 500 of them.
func TestGrantsPerGranteeAreBounded(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	for range 500 {
		f.grant(key, "bob", []string{"Decrypt"})
	}
	_, err := f.call("CreateGrant", "KeyId", key, "GranteePrincipal", user("bob"), "Operations", `["Decrypt"]`)
	mustCode(t, err, core.CodeLimitExceeded)
	f.grant(key, "carol", []string{"Decrypt"})
}

// TestGrantsAreKeptForCacheTTL: what the store says of a grantee's grants is
// kept for CacheTTL, so a grant made or revoked by another instance is seen
// here within it; a change made here is seen at once, and a request naming
// grant tokens reads the store.
func TestGrantsAreKeptForCacheTTL(t *testing.T) {
	f := newSvcFixture(t)
	rk, err := core.NewRootKey(f.root)
	if err != nil {
		t.Fatal(err)
	}
	f.svc, err = core.New(core.Config{Store: f.store, Grants: f.store, Root: rk, Clock: f.clock, Rand: f.rand,
		Region: "cn-hangzhou", AccountID: account, CacheTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	key := f.createKey()
	bob := nobody("bob")
	use := func(kv ...string) error {
		_, err := f.as(bob, "GenerateDataKeyWithoutPlaintext", append([]string{"KeyId", key}, kv...)...)
		return err
	}
	// Another instance's grant: unseen while "none" is kept, seen with a
	// token, and by all once the second is up.
	mustCode(t, use(), core.CodeNoPermission)
	other := core.Grant{ID: fmt.Sprintf("%064x", 7), KeyID: key, KeyCreated: f.clock.Now().Unix(), Grantee: user("bob"), GranteeName: "bob",
		Operations: []string{"GenerateDataKeyWithoutPlaintext"}, Issuer: "admin", CreatedAt: f.clock.Now()}
	if err := f.store.CreateGrant(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	mustCode(t, use(), core.CodeNoPermission)
	if err := use("GrantTokens", `["token"]`); err != nil {
		t.Fatalf("with a grant token: %v", err)
	}
	if err := use(); err != nil {
		t.Fatalf("after a token's read: %v", err)
	}
	// Revoked by another instance: still allowed within the second.
	if err := f.store.DeleteGrant(context.Background(), key, other.ID); err != nil {
		t.Fatal(err)
	}
	if err := use(); err != nil {
		t.Fatalf("within CacheTTL of a revocation elsewhere: %v", err)
	}
	f.clock.Advance(time.Second)
	mustCode(t, use(), core.CodeNoPermission)

	// Made and revoked here: seen at once.
	g := f.grant(key, "bob", []string{"GenerateDataKeyWithoutPlaintext"})
	if err := use(); err != nil {
		t.Fatalf("a grant made here: %v", err)
	}
	f.ok("RevokeGrant", "KeyId", key, "GrantId", g.GrantId)
	mustCode(t, use(), core.CodeNoPermission)
}
