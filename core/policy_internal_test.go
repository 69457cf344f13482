package core

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// A compiled policy answers for the service's actions from the statements it
// indexed; the answer must be the one a plain walk of all statements gives.
func TestCompiledPolicyAnswersAsTheStatements(t *testing.T) {
	const key = "acs:kms:cn-hangzhou:1:key/key-a"
	const alias = "acs:kms:cn-hangzhou:1:alias/a"
	st := func(effect string, actions, resources []string) Statement {
		return Statement{Effect: effect, Action: actions, Resource: resources}
	}
	all := []string{"*"}
	policies := map[string][]Statement{
		"full access":              {st("Allow", []string{"kms:*"}, all)},
		"one action on any key":    {st("Allow", []string{"kms:GenerateDataKeyWithoutPlaintext"}, all)},
		"one action on keys only":  {st("Allow", []string{"kms:GenerateDataKeyWithoutPlaintext"}, []string{"acs:kms:*:*:key/*"})},
		"deny one key":             {st("Allow", []string{"kms:*"}, all), st("Deny", []string{"kms:Decrypt"}, []string{key})},
		"deny everywhere":          {st("Allow", []string{"kms:*"}, all), st("Deny", []string{"kms:Generate*"}, all)},
		"deny before allow":        {st("Deny", []string{"kms:describe*"}, []string{alias}), st("Allow", []string{"KMS:*"}, all)},
		"allow star and a pattern": {st("Allow", []string{"kms:?ncrypt"}, []string{key}), st("Allow", []string{"*"}, all)},
		"nothing":                  nil,
	}
	resourceSets := [][]string{nil, {key}, {alias, key}, {"acs:kms:cn-hangzhou:1:key"}}
	for name, sts := range policies {
		p, err := NewPolicy(sts...)
		if err != nil {
			t.Fatal(err)
		}
		walk := &Policy{statements: sts}
		for id, action := range ramActions {
			if got, want := p.mayAllow(actionID(id)), walk.Allowed(action); got != want {
				t.Errorf("%s: early check of %s = %v, statements say %v", name, action, got, want)
			}
			for _, rs := range resourceSets {
				want := walk.Allowed(action, rs...)
				if got := p.Allowed(action, rs...); got != want {
					t.Errorf("%s: %s on %q = %v, statements say %v", name, action, rs, got, want)
				}
				if got := p.allows(actionID(id), &Facts{}, rs...); got != want {
					t.Errorf("%s: a request's check of %s on %q = %v, statements say %v", name, action, rs, got, want)
				}
			}
		}
	}
}

// A policy that says it reads no resource for an action must answer as if
// none were given, with any facts: callers then build no ARNs. A Deny or an
// Allow on some resources only makes it read them.
func TestPolicyReadsResourcesWhereTheyMatter(t *testing.T) {
	const key = "acs:kms:cn-hangzhou:1:key/key-a"
	all := []string{"*"}
	tenantB := []Condition{{Operator: "StringEquals", Key: "kms:EncryptionContext:t", Values: []string{"b"}}}
	cases := []struct {
		name  string
		sts   []Statement
		reads []string // the actions whose verdicts resources can change
	}{
		{"full access", []Statement{{Effect: "Allow", Action: []string{"kms:*"}, Resource: all}}, nil},
		{"star among patterns", []Statement{{Effect: "Allow", Action: []string{"kms:*"}, Resource: []string{key, "*"}}}, nil},
		{"deny one key", []Statement{{Effect: "Allow", Action: []string{"kms:*"}, Resource: all},
			{Effect: "Deny", Action: []string{"kms:Decrypt"}, Resource: []string{key}}}, []string{"kms:Decrypt"}},
		{"allow keys only", []Statement{{Effect: "Allow", Action: []string{"kms:GenerateDataKey*"}, Resource: []string{"acs:kms:*:*:key/*"}},
			{Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: all}}, []string{"kms:GenerateDataKey", "kms:GenerateDataKeyPair",
			"kms:GenerateDataKeyPairWithoutPlaintext", "kms:GenerateDataKeyWithoutPlaintext"}},
		{"conditions everywhere", []Statement{{Effect: "Allow", Action: []string{"kms:*"}, Resource: all},
			{Effect: "Deny", Action: []string{"kms:Decrypt"}, Resource: all, Condition: tenantB}}, nil},
	}
	resourceSets := [][]string{{key}, {"acs:kms:cn-hangzhou:1:alias/a", key}, {"acs:kms:cn-hangzhou:1:key"}}
	factSets := []*Facts{nil, {}, {Context: EncryptionContext{"t": "b"}}}
	for _, tc := range cases {
		p := MustPolicy(tc.sts...)
		for id, action := range ramActions {
			reads := p.readsResources(actionID(id))
			if want := slices.Contains(tc.reads, action); reads != want {
				t.Errorf("%s: reads resources for %s = %v, want %v", tc.name, action, reads, want)
			}
			if reads {
				continue
			}
			for _, rs := range resourceSets {
				for _, f := range factSets {
					if p.allows(actionID(id), f, rs...) != p.allows(actionID(id), f) {
						t.Errorf("%s: reads no resource for %s, but %q changes its verdict with facts %+v", tc.name, action, rs, f)
					}
				}
				if p.mayAllowOn(actionID(id), rs...) != p.mayAllowOn(actionID(id)) {
					t.Errorf("%s: reads no resource for %s, but %q changes its early verdict", tc.name, action, rs)
				}
			}
		}
	}
}

// refMatch is glob matching by its definition, slow and plain: the oracle for
// the matcher's shortcuts.
func refMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if refMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && refMatch(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && refMatch(pattern[1:], s[1:])
}

func TestMatchAgreesWithTheDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func(alphabet string, max int) string {
		b := make([]byte, r.IntN(max+1))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 50000 {
		p, s := word("ab:*?", 8), word("ab:", 10)
		want := refMatch(p, s)
		if got := match(p, s, false); got != want {
			t.Fatalf("match(%q, %q) = %v, want %v", p, s, got, want)
		}
		if got := match(strings.ToUpper(p), s, true); got != want {
			t.Fatalf("folded match(%q, %q) = %v, want %v", strings.ToUpper(p), s, got, want)
		}
	}
}

// A Policy that NewPolicy did not make, such as a zero one, refuses every
// check a request makes rather than failing it.
func TestZeroPolicyAllowsNothing(t *testing.T) {
	var zero Policy
	for id, action := range ramActions {
		if zero.mayAllow(actionID(id)) || zero.mayAllowOn(actionID(id), "*") || zero.allows(actionID(id), &Facts{}) || zero.Allowed(action) {
			t.Fatalf("a zero policy allows %s", action)
		}
	}
}

// A name the action table lacks is refused loudly: a plain map lookup
// would answer action 0 and authorize another action in its place.
func TestIDOfRefusesAnUnknownAction(t *testing.T) {
	if ramActions[idOf("kms:Decrypt")] != "kms:Decrypt" {
		t.Fatal("idOf(kms:Decrypt) names another action")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("idOf of an unknown action returned")
		}
	}()
	idOf("Decrypt")
}
