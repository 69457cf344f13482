package core_test

import (
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
)

const (
	keyA   = "acs:kms:cn-hangzhou:1234567890123456:key/key-hzz62f1cb66fa42qo0001"
	keyB   = "acs:kms:cn-hangzhou:1234567890123456:key/key-hzz62f1cb66fa42qo0002"
	keyBJ  = "acs:kms:cn-beijing:1234567890123456:key/key-bjj62f1cb66fa42qo0001"
	aliasP = "acs:kms:cn-hangzhou:1234567890123456:alias/partitions"
	aliasQ = "acs:kms:cn-hangzhou:1234567890123456:alias/other"
)

func stmt(effect string, actions, resources []string) core.Statement {
	return core.Statement{Effect: effect, Action: actions, Resource: resources}
}

func pol(sts ...core.Statement) *core.Policy {
	p, err := core.NewPolicy(sts...)
	if err != nil {
		panic(err)
	}
	return p
}

func list(s ...string) []string { return s }

func TestPolicyEvaluation(t *testing.T) {
	allowAll := stmt("Allow", list("kms:*"), list("*"))
	cases := []struct {
		name      string
		policy    *core.Policy
		action    string
		resources []string
		want      bool
	}{
		// Nothing matching means deny.
		{"nil policy", nil, "kms:Decrypt", list(keyA), false},
		{"empty policy", pol(), "kms:Decrypt", list(keyA), false},
		{"only other actions allowed", pol(stmt("Allow", list("kms:Encrypt"), list("*"))), "kms:Decrypt", list(keyA), false},
		{"only other keys allowed", pol(stmt("Allow", list("kms:Decrypt"), list(keyB))), "kms:Decrypt", list(keyA), false},
		{"exact action and resource", pol(stmt("Allow", list("kms:Decrypt"), list(keyA))), "kms:Decrypt", list(keyA), true},

		// Action wildcards, and no implicit prefix match.
		{"kms:* allows any action", pol(allowAll), "kms:GenerateDataKeyWithoutPlaintext", list(keyA), true},
		{"* alone allows any action", pol(stmt("Allow", list("*"), list("*"))), "kms:Decrypt", list(keyA), true},
		{"kms:Generate* allows GenerateDataKey", pol(stmt("Allow", list("kms:Generate*"), list("*"))), "kms:GenerateDataKey", list(keyA), true},
		{"kms:Generate* does not allow Decrypt", pol(stmt("Allow", list("kms:Generate*"), list("*"))), "kms:Decrypt", list(keyA), false},
		{"an exact action is not a prefix", pol(stmt("Allow", list("kms:GenerateDataKey"), list("*"))), "kms:GenerateDataKeyWithoutPlaintext", list(keyA), false},
		{"*Encrypt allows ReEncrypt", pol(stmt("Allow", list("kms:*Encrypt"), list("*"))), "kms:ReEncrypt", list(keyA), true},
		{"? is one character", pol(stmt("Allow", list("kms:?ncrypt"), list("*"))), "kms:Encrypt", list(keyA), true},
		{"? is exactly one character", pol(stmt("Allow", list("kms:?ncrypt"), list("*"))), "kms:ReEncrypt", list(keyA), false},
		{"another service's wildcard", pol(stmt("Allow", list("oss:*"), list("*"))), "kms:Decrypt", list(keyA), false},

		// Actions compare case-insensitively, resources do not.
		{"action case folded", pol(stmt("Allow", list("KMS:decrypt"), list(keyA))), "kms:Decrypt", list(keyA), true},
		{"action wildcard case folded", pol(stmt("Allow", list("kms:generate*"), list("*"))), "kms:GenerateDataKey", list(keyA), true},
		{"resource case matters", pol(stmt("Allow", list("kms:Decrypt"), list(strings.ToUpper(keyA)))), "kms:Decrypt", list(keyA), false},

		// Resource wildcards.
		{"any region and account", pol(stmt("Allow", list("kms:Decrypt"), list("acs:kms:*:*:key/*"))), "kms:Decrypt", list(keyBJ), true},
		{"one region only", pol(stmt("Allow", list("kms:Decrypt"), list("acs:kms:cn-hangzhou:*:key/*"))), "kms:Decrypt", list(keyBJ), false},
		{"key pattern does not cover aliases", pol(stmt("Allow", list("kms:Decrypt"), list("acs:kms:*:*:key/*"))), "kms:Decrypt", list(aliasP), false},
		{"? in resource", pol(stmt("Allow", list("kms:Decrypt"), list("acs:kms:*:*:key/key-hzz62f1cb66fa42qo000?"))), "kms:Decrypt", list(keyB), true},
		{"? does not match nothing", pol(stmt("Allow", list("kms:Decrypt"), list("acs:kms:*:*:key/key-hzz62f1cb66fa42qo0001?"))), "kms:Decrypt", list(keyA), false},
		{"several resources in one statement", pol(stmt("Allow", list("kms:Decrypt"), list(keyB, keyA))), "kms:Decrypt", list(keyA), true},

		// Deny beats Allow, in either order.
		{"deny after allow", pol(allowAll, stmt("Deny", list("kms:Decrypt"), list(keyA))), "kms:Decrypt", list(keyA), false},
		{"deny before allow", pol(stmt("Deny", list("kms:Decrypt"), list(keyA)), allowAll), "kms:Decrypt", list(keyA), false},
		{"deny on another key leaves this one", pol(allowAll, stmt("Deny", list("kms:Decrypt"), list(keyB))), "kms:Decrypt", list(keyA), true},
		{"deny of another action leaves this one", pol(allowAll, stmt("Deny", list("kms:GenerateDataKey"), list("*"))), "kms:GenerateDataKeyWithoutPlaintext", list(keyA), true},
		{"deny by wildcard action", pol(allowAll, stmt("Deny", list("kms:Generate*"), list("*"))), "kms:GenerateDataKey", list(keyA), false},
		{"deny alone", pol(stmt("Deny", list("kms:*"), list("*"))), "kms:Decrypt", list(keyA), false},

		// A request by alias carries the alias and the key it names: one Allow
		// on either suffices, a Deny on either refuses.
		{"alias allowed, via alias", pol(stmt("Allow", list("kms:Encrypt"), list("acs:kms:*:*:alias/partitions"))), "kms:Encrypt", list(aliasP, keyA), true},
		{"alias allowed, key named directly", pol(stmt("Allow", list("kms:Encrypt"), list("acs:kms:*:*:alias/partitions"))), "kms:Encrypt", list(keyA), false},
		{"key allowed, via alias", pol(stmt("Allow", list("kms:Encrypt"), list(keyA))), "kms:Encrypt", list(aliasP, keyA), true},
		{"other alias allowed, via this alias", pol(stmt("Allow", list("kms:Encrypt"), list(aliasQ))), "kms:Encrypt", list(aliasP, keyA), false},
		{"alias denied, key allowed, via alias", pol(stmt("Allow", list("kms:Encrypt"), list("acs:kms:*:*:key/*")), stmt("Deny", list("kms:Encrypt"), list(aliasP))), "kms:Encrypt", list(aliasP, keyA), false},
		{"alias denied, key named directly", pol(stmt("Allow", list("kms:Encrypt"), list("acs:kms:*:*:key/*")), stmt("Deny", list("kms:Encrypt"), list(aliasP))), "kms:Encrypt", list(keyA), true},
		{"key denied, alias allowed, via alias", pol(stmt("Allow", list("kms:Encrypt"), list("acs:kms:*:*:alias/*")), stmt("Deny", list("kms:Encrypt"), list(keyA))), "kms:Encrypt", list(aliasP, keyA), false},

		// With no resources: could the action be allowed anywhere? (The
		// service asks this before reading the store.)
		{"pre-check: allowed on some key", pol(stmt("Allow", list("kms:Decrypt"), list(keyA))), "kms:Decrypt", nil, true},
		{"pre-check: action never allowed", pol(stmt("Allow", list("kms:Encrypt"), list("*"))), "kms:Decrypt", nil, false},
		{"pre-check: denied on some key only", pol(allowAll, stmt("Deny", list("kms:Decrypt"), list(keyA))), "kms:Decrypt", nil, true},
		{"pre-check: denied everywhere", pol(allowAll, stmt("Deny", list("kms:Decrypt"), list("*"))), "kms:Decrypt", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.policy.Allowed(c.action, c.resources...); got != c.want {
				t.Errorf("Allowed(%s, %v) = %v, want %v", c.action, c.resources, got, c.want)
			}
		})
	}
}

func TestMatchWildcards(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"", "", true},
		{"", "a", false},
		{"?", "", false},
		{"?", "a", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"a**c", "abc", true},
		{"*c", "abcabc", true},
		{"*c*", "ab", false},
		{"key/*", "key/", true},
		{"key/?*", "key/", false},
		{"Key/*", "key/x", false},
	}
	for _, c := range cases {
		if got := core.Match(c.pattern, c.s); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestNewPolicyRefusesWhatItCannotEvaluate(t *testing.T) {
	if _, err := core.NewPolicy(stmt("Allow", list("kms:Decrypt"), list("*")), stmt("Deny", list("kms:Encrypt"), list(keyA))); err != nil {
		t.Fatalf("valid policy refused: %v", err)
	}
	cases := map[string][]core.Statement{
		"lower-case effect":  {stmt("allow", list("kms:Decrypt"), list("*"))},
		"unknown effect":     {stmt("Permit", list("kms:Decrypt"), list("*"))},
		"missing effect":     {stmt("", list("kms:Decrypt"), list("*"))},
		"no action":          {stmt("Allow", nil, list("*"))},
		"no resource":        {stmt("Allow", list("kms:Decrypt"), nil)},
		"one bad among good": {stmt("Allow", list("kms:Decrypt"), list("*")), stmt("Maybe", list("kms:Decrypt"), list("*"))},
	}
	for name, sts := range cases {
		if _, err := core.NewPolicy(sts...); err == nil {
			t.Errorf("%s: NewPolicy accepted %+v", name, sts)
		}
	}
}

// BenchmarkPolicyAllowed is the authorization of one data-key request on its
// key's ARN, for full access and for a policy scoped by patterns.
func BenchmarkPolicyAllowed(b *testing.B) {
	arn := "acs:kms:cn-hangzhou:1234567890123456:key/key-hzz6f2b8e0e8c0d1a2b3c4d5e6f7a8b9"
	for _, c := range []struct {
		name   string
		policy *core.Policy
	}{
		{"full", core.FullAccess()},
		{"scoped", core.MustPolicy(core.Statement{Effect: "Allow",
			Action:   []string{"kms:CreateKey", "kms:GenerateDataKeyWithoutPlaintext"},
			Resource: []string{"acs:kms:*:*:key", "acs:kms:*:*:key/*", "acs:kms:*:*:alias/*"}})},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if !c.policy.Allowed("kms:GenerateDataKeyWithoutPlaintext", arn) {
					b.Fatal("refused")
				}
			}
		})
	}
}
