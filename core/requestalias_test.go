package core_test

import (
	"encoding/base64"
	"testing"

	"github.com/kmsless/kmsless/core"
)

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
	ordersOnly := &core.Principal{Name: "orders", AccessKeyID: "LTAIorders", Secret: core.NewSecret("s"), Policy: core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:GenerateDataKey", "kms:Encrypt"}, Resource: []string{"*"},
			Condition: []core.Condition{{Operator: "StringEquals", Key: "kms:RequestAlias", Values: []string{"alias/orders"}}}},
		core.Statement{Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{"*"},
			Condition: []core.Condition{{Operator: "StringNotLike", Key: "kms:RequestAlias", Values: []string{"alias/*"}}}},
		core.Statement{Effect: "Allow", Action: []string{"kms:ReEncrypt"}, Resource: []string{"*"},
			Condition: []core.Condition{{Operator: "StringLike", Key: "KMS:requestalias", Values: []string{"alias/ord*"}}}},
	)}
	notTests := &core.Principal{Name: "nottests", AccessKeyID: "LTAInottests", Secret: core.NewSecret("s"), Policy: core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:GenerateDataKey"}, Resource: []string{"*"}},
		core.Statement{Effect: "Deny", Action: []string{"kms:GenerateDataKey"}, Resource: []string{"*"},
			Condition: []core.Condition{{Operator: "StringLike", Key: "kms:RequestAlias", Values: []string{"alias/test-*"}}}},
	)}
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
