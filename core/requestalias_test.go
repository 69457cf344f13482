package core_test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/store/memory"
)

// withPolicy is a principal named name whose own policy is statements.
func withPolicy(name string, statements ...core.Statement) *core.Principal {
	return &core.Principal{Name: name, AccessKeyID: "LTAI" + name, Secret: core.NewSecret("s"), Policy: core.MustPolicy(statements...)}
}

// on is a statement of effect on action, on every resource, under one
// condition of op on key.
func on(effect, action, op, key string, values ...string) core.Statement {
	return core.Statement{Effect: effect, Action: []string{action}, Resource: []string{"*"},
		Condition: []core.Condition{{Operator: op, Key: key, Values: values}}}
}

// kms:RequestAlias is the alias by which a request names its key: a caller
// allowed a key through one alias only uses it through that alias (in any
// spelling of it), not by its ID or through another alias; a Deny on a
// pattern of aliases refuses those and spares the key by ID. A request that
// names no alias (Decrypt, by its ciphertext) has none: the positive
// operators fail on it, the negated ones hold. Each side of a ReEncrypt is
// held to how it was named, so the destination's alias does not carry over
// to the source.
func TestRequestAliasCondition(t *testing.T) {
	s, _ := memService(t, core.Config{})
	key := createKey(t, s, core.Params{})
	other := createKey(t, s, core.Params{})
	admin := &core.Principal{Name: "admin", AccessKeyID: "LTAIadmin", Secret: core.NewSecret("s"), Policy: core.FullAccess()}
	for alias, id := range map[string]string{"alias/orders": key, "alias/test-orders": key, "alias/other": other} {
		if _, err := s.Handle(t.Context(), &core.Request{ID: "r", Action: "CreateAlias", Params: core.Params{"AliasName": alias, "KeyId": id}, Caller: admin}); err != nil {
			t.Fatal(err)
		}
	}
	ordersOnly := withPolicy("orders",
		on("Allow", "kms:GenerateDataKey", "StringEquals", "kms:RequestAlias", "alias/orders"),
		on("Allow", "kms:Encrypt", "StringEquals", "kms:RequestAlias", "alias/orders"),
		on("Allow", "kms:Decrypt", "StringNotLike", "kms:RequestAlias", "alias/*"),
		on("Allow", "kms:ReEncrypt", "StringLike", "KMS:requestalias", "alias/ord*"))
	notTests := withPolicy("nottests",
		core.Statement{Effect: "Allow", Action: []string{"kms:GenerateDataKey"}, Resource: []string{"*"}},
		on("Deny", "kms:GenerateDataKey", "StringLike", "kms:RequestAlias", "alias/test-*"))
	do := func(p *core.Principal, action string, params core.Params) (any, error) {
		return s.Handle(t.Context(), &core.Request{ID: "r", Action: action, Params: params, Caller: p})
	}
	for _, c := range []struct {
		who     *core.Principal
		keyID   string
		allowed bool
	}{
		{ordersOnly, "alias/orders", true},
		{ordersOnly, s.AliasARN("alias/orders"), true},
		{ordersOnly, key, false},
		{ordersOnly, s.KeyARN(key), false},
		{ordersOnly, "alias/test-orders", false},
		{ordersOnly, "alias/other", false},
		{notTests, key, true},
		{notTests, "alias/orders", true},
		{notTests, "alias/test-orders", false},
	} {
		_, err := do(c.who, "GenerateDataKey", core.Params{"KeyId": c.keyID})
		if c.allowed && err != nil || !c.allowed && code(err) != core.CodeNoPermission {
			t.Errorf("%s: GenerateDataKey of %s: %v; allowed %v", c.who.Name, c.keyID, err, c.allowed)
		}
	}

	sealed, err := do(ordersOnly, "Encrypt", core.Params{"KeyId": "alias/orders", "Plaintext": b64("x")})
	if err != nil {
		t.Fatal(err)
	}
	blob := base64.StdEncoding.EncodeToString(sealed.(core.Sealed).Blob)
	// Decrypt names no alias: StringNotLike on it holds.
	if _, err := do(ordersOnly, "Decrypt", core.Params{"CiphertextBlob": blob}); err != nil {
		t.Errorf("Decrypt, which names no alias, under StringNotLike alias/*: %v", err)
	}
	// ReEncrypt to alias/orders: the destination holds (alias/ord*), the
	// source, named by the ciphertext alone, has no alias and fails it.
	if _, err := do(ordersOnly, "ReEncrypt", core.Params{"CiphertextBlob": blob, "DestinationKeyId": "alias/orders"}); code(err) != core.CodeNoPermission {
		t.Errorf("ReEncrypt whose source names no alias: %v; want it refused", err)
	}
}

// kms:ResourceAliases is the set of aliases a key has, read from the store
// when a condition asks: a caller allowed keys with an alias of its project
// uses them by any name, and no other key; a key that loses the alias is
// refused at once, and one that gains it allowed. It is multi-valued: a
// single-valued operator on it refuses the policy. A Deny on a pattern of
// aliases refuses the keys that have one, and a key with none meets
// ForAllValues and fails ForAnyValue.
func TestResourceAliasesCondition(t *testing.T) {
	s, _ := memService(t, core.Config{})
	projectKey, otherKey, bareKey := createKey(t, s, core.Params{}), createKey(t, s, core.Params{}), createKey(t, s, core.Params{})
	admin := &core.Principal{Name: "admin", AccessKeyID: "LTAIadmin", Secret: core.NewSecret("s"), Policy: core.FullAccess()}
	do := func(p *core.Principal, action string, params core.Params) (any, error) {
		return s.Handle(t.Context(), &core.Request{ID: "r", Action: action, Params: params, Caller: p})
	}
	for alias, id := range map[string]string{"alias/project-a/db": projectKey, "alias/shared-name": projectKey, "alias/project-b/db": otherKey, "alias/restricted-1": otherKey} {
		if _, err := do(admin, "CreateAlias", core.Params{"AliasName": alias, "KeyId": id}); err != nil {
			t.Fatal(err)
		}
	}
	projectA := withPolicy("a", on("Allow", "kms:GenerateDataKey", "ForAnyValue:StringLike", "kms:ResourceAliases", "alias/project-a/*"))
	unrestricted := withPolicy("u",
		core.Statement{Effect: "Allow", Action: []string{"kms:GenerateDataKey"}, Resource: []string{"*"}},
		on("Deny", "kms:GenerateDataKey", "ForAnyValue:StringLike", "kms:ResourceAliases", "alias/restricted-*"))
	onlyBare := withPolicy("b", on("Allow", "kms:GenerateDataKey", "ForAllValues:StringEquals", "kms:ResourceAliases", "alias/none-such"))
	check := func(who *core.Principal, keyID string, allowed bool) {
		t.Helper()
		_, err := do(who, "GenerateDataKey", core.Params{"KeyId": keyID})
		if allowed && err != nil || !allowed && code(err) != core.CodeNoPermission {
			t.Errorf("%s: GenerateDataKey of %s: %v; allowed %v", who.Name, keyID, err, allowed)
		}
	}
	check(projectA, projectKey, true)
	check(projectA, "alias/shared-name", true)
	check(projectA, otherKey, false)
	check(projectA, bareKey, false)
	check(unrestricted, projectKey, true)
	check(unrestricted, bareKey, true)
	check(unrestricted, otherKey, false)
	check(onlyBare, bareKey, true)
	check(onlyBare, projectKey, false)

	// Aliases move: the condition follows the store.
	if _, err := do(admin, "DeleteAlias", core.Params{"AliasName": "alias/project-a/db"}); err != nil {
		t.Fatal(err)
	}
	check(projectA, projectKey, false)
	if _, err := do(admin, "CreateAlias", core.Params{"AliasName": "alias/project-a/cache", "KeyId": bareKey}); err != nil {
		t.Fatal(err)
	}
	check(projectA, bareKey, true)

	if _, err := core.NewPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{"*"},
		Condition: []core.Condition{{Operator: "StringLike", Key: "kms:ResourceAliases", Values: []string{"alias/*"}}}}); err == nil {
		t.Error("a single-valued operator on kms:ResourceAliases was taken")
	}
}

// A store that cannot list a key's aliases leaves kms:ResourceAliases
// unknown, and the request is refused either way: an Allow that needs them
// does not apply, a Deny that names them does. The refusal says the store
// is unavailable, for the caller to retry, not that it lacks permission.
func TestResourceAliasesUnreadableFailClosed(t *testing.T) {
	f := newSvcFixture(t)
	key := f.createKey()
	f.ok("CreateAlias", "AliasName", "alias/project-a/db", "KeyId", key)
	allowA := withPolicy("a", on("Allow", "kms:GenerateDataKey", "ForAnyValue:StringLike", "kms:ResourceAliases", "alias/project-a/*"))
	denyB := withPolicy("b",
		core.Statement{Effect: "Allow", Action: []string{"kms:GenerateDataKey"}, Resource: []string{"*"}},
		on("Deny", "kms:GenerateDataKey", "ForAnyValue:StringLike", "kms:ResourceAliases", "alias/project-b/*"))
	for _, p := range []*core.Principal{allowA, denyB} {
		if _, err := f.as(p, "GenerateDataKey", "KeyId", key); err != nil {
			t.Fatalf("%s with the store up: %v", p.Name, err)
		}
	}
	f.store.aliasesDown.Store(true)
	for _, p := range []*core.Principal{allowA, denyB} {
		if _, err := f.as(p, "GenerateDataKey", "KeyId", key); code(err) != core.CodeServiceUnavailableTemporary {
			t.Errorf("%s with the aliases unreadable: %v; want it refused as unavailable", p.Name, err)
		}
	}
}

// Each key's verdict answers for itself: a ReEncrypt whose source a grant
// allows though its aliases could not be read, and whose destination the
// caller's policy does not cover at all, is refused for the destination,
// whether or not it exists, not told to retry.
func TestResourceAliasesUnreadableAnswerForTheirKey(t *testing.T) {
	f := newSvcFixture(t)
	from, to := f.createKey(), f.createKey()
	blob := f.encryptUnder(from)
	carol := withPolicy("carol", core.Statement{Effect: "Allow", Action: []string{"kms:ReEncrypt"}, Resource: []string{"acs:kms:*:*:key/" + from},
		Condition: []core.Condition{{Operator: "ForAnyValue:StringLike", Key: "kms:ResourceAliases", Values: []string{"alias/project-a/*"}}}})
	f.grant(from, "carol", []string{"ReEncryptFrom"})
	f.store.aliasesDown.Store(true)
	for _, dest := range []string{to, "key-nonexistent"} {
		_, err := f.as(carol, "ReEncrypt", "CiphertextBlob", blob, "DestinationKeyId", dest)
		if code(err) != core.CodeNoPermission {
			t.Errorf("ReEncrypt to %s, a key the caller may not use: %v; want it refused", dest, err)
		}
	}
}

// An instance keeps each key's aliases for CacheTTL, as it keeps grants: a
// warm request that a condition on kms:ResourceAliases decides lists no
// aliases; a change made through the instance is seen at once, for the key
// an alias left as for the one it joined, and one made through another
// instance within CacheTTL.
func TestResourceAliasesAreKeptForCacheTTL(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	store := &countingStore{Store: memory.New()}
	root := randomRoot(t)
	instance := func() *core.Service {
		s, err := core.New(core.Config{Store: store, Root: root, Clock: clock, CacheTTL: time.Second, Cache: inproc.NewCache(time.Second, 100)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	one, two := instance(), instance()
	a, b := createKey(t, one, core.Params{}), createKey(t, one, core.Params{})
	projectA := withPolicy("a", on("Allow", "kms:GenerateDataKey", "ForAnyValue:StringLike", "kms:ResourceAliases", "alias/project-a/*"))
	allowed := func(s *core.Service, key string) bool {
		t.Helper()
		_, err := s.Handle(t.Context(), &core.Request{ID: "r", Action: "GenerateDataKey", Params: core.Params{"KeyId": key}, Caller: projectA})
		if err != nil && code(err) != core.CodeNoPermission {
			t.Fatal(err)
		}
		return err == nil
	}
	alias := func(s *core.Service, action string, params core.Params) {
		t.Helper()
		if _, err := do(t, s, action, params); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
	}

	alias(one, "CreateAlias", core.Params{"AliasName": "alias/project-a/db", "KeyId": a})
	for range 2 {
		if !allowed(one, a) {
			t.Fatal("a key with its project's alias is refused")
		}
	}
	if n := store.aliasListings.Load(); n != 1 {
		t.Fatalf("two requests on a key with its alias: %d listings; want one", n)
	}
	alias(one, "UpdateAlias", core.Params{"AliasName": "alias/project-a/db", "KeyId": b})
	if allowed(one, a) || !allowed(one, b) {
		t.Fatal("the instance that moved the alias still reads the keys' aliases as they were")
	}

	alias(two, "DeleteAlias", core.Params{"AliasName": "alias/project-a/db"})
	if !allowed(one, b) {
		t.Fatal("another instance's deletion was seen before CacheTTL passed")
	}
	clock.Advance(time.Second)
	if allowed(one, b) {
		t.Fatal("another instance's deletion is not seen once CacheTTL has passed")
	}
}
