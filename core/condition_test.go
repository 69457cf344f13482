package core_test

import (
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
)

// refAllowed is a reference evaluator written from the rules as the README
// states them, sharing no code with the policy engine: statements on one
// resource, * actions only, conditions ANDed, values ORed, negated operators
// true when nothing matches, a missing source IP failing an Allow and holding
// a Deny.
func refAllowed(sts []core.Statement, f core.Facts) bool {
	allowed := false
	for _, st := range sts {
		applies := true
		for _, c := range st.Condition {
			ok, known := refCondition(c, f)
			if !known {
				ok = st.Effect == "Deny"
			}
			if !ok {
				applies = false
			}
		}
		if !applies {
			continue
		}
		if st.Effect == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}

func refCondition(c core.Condition, f core.Facts) (ok, known bool) {
	op := c.Operator
	quant := ""
	if i := strings.Index(op, ":"); i > 0 {
		quant, op = op[:i], op[i+1:]
	}
	negate := strings.HasPrefix(op, "StringNot") || op == "NotIpAddress"
	var vals []string
	key := strings.ToLower(c.Key)
	switch {
	case key == "acs:sourceip":
		if net.ParseIP(f.SourceIP) == nil {
			return false, false
		}
		vals = []string{f.SourceIP}
	case key == "kms:encryptioncontextkeys":
		for k := range f.Context {
			vals = append(vals, k)
		}
	case strings.HasPrefix(key, "kms:encryptioncontext:"):
		if v, has := f.Context[c.Key[len("kms:EncryptionContext:"):]]; has {
			vals = []string{v}
		}
	case strings.HasPrefix(key, "kms:tag/"):
		if v, has := f.Tags[c.Key[len("kms:tag/"):]]; has {
			vals = []string{v}
		}
	case key == "kms:requestalias":
		if f.RequestAlias != "" {
			vals = []string{f.RequestAlias}
		}
	}
	one := func(v string) bool {
		m := false
		for _, w := range c.Values {
			switch op {
			case "StringEquals", "StringNotEquals":
				m = m || v == w
			case "StringLike", "StringNotLike":
				re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(w)) + "$"
				m = m || regexp.MustCompile(re).MatchString(v)
			case "Bool":
				m = m || strings.EqualFold(v, w)
			case "IpAddress", "NotIpAddress":
				if !strings.Contains(w, "/") {
					m = m || net.ParseIP(w).Equal(net.ParseIP(v))
					continue
				}
				_, n, _ := net.ParseCIDR(w)
				m = m || n.Contains(net.ParseIP(v))
			}
		}
		return m != negate
	}
	switch quant {
	case "ForAllValues":
		for _, v := range vals {
			if !one(v) {
				return false, true
			}
		}
		return true, true
	case "ForAnyValue":
		for _, v := range vals {
			if one(v) {
				return true, true
			}
		}
		return false, true
	}
	if len(vals) == 0 {
		return negate, true
	}
	return one(vals[0]), true
}

func cond(op, key string, values ...string) core.Condition {
	return core.Condition{Operator: op, Key: key, Values: values}
}

func TestConditionsAgreeWithTheReference(t *testing.T) {
	allow := func(cs ...core.Condition) core.Statement {
		return core.Statement{Effect: "Allow", Action: list("kms:Decrypt"), Resource: list("*"), Condition: cs}
	}
	deny := func(cs ...core.Condition) core.Statement {
		return core.Statement{Effect: "Deny", Action: list("kms:Decrypt"), Resource: list("*"), Condition: cs}
	}
	tenantA := core.Facts{Context: core.EncryptionContext{"PartitionId": "tenant-a-0001"}, SourceIP: "10.0.0.7"}
	tenantB := core.Facts{Context: core.EncryptionContext{"PartitionId": "tenant-b-0001"}, SourceIP: "10.0.0.7"}
	none := core.Facts{}
	direct := core.Facts{Context: core.EncryptionContext{"PartitionId": "tenant-a-0001"}}
	tagged := core.Facts{Tags: map[string]string{"team": "payments"}, SourceIP: "2001:db8::1"}
	twoKeys := core.Facts{Context: core.EncryptionContext{"PartitionId": "p", "Purpose": "orders"}, SourceIP: "192.168.1.1"}
	tenantLike := cond("StringLike", "kms:EncryptionContext:PartitionId", "tenant-a-*")
	cases := []struct {
		name  string
		sts   []core.Statement
		facts core.Facts
		want  bool
	}{
		{"like matches tenant A", list2(allow(tenantLike)), tenantA, true},
		{"like refuses tenant B", list2(allow(tenantLike)), tenantB, false},
		{"like refuses no context", list2(allow(tenantLike)), none, false},
		{"prefix key is case-insensitive", list2(allow(cond("StringLike", "KMS:encryptionContext:PartitionId", "tenant-a-*"))), tenantA, true},
		{"context name is exact", list2(allow(cond("StringLike", "kms:EncryptionContext:partitionid", "tenant-a-*"))), tenantA, false},
		{"equals one of two values", list2(allow(cond("StringEquals", "kms:EncryptionContext:PartitionId", "x", "tenant-b-0001"))), tenantB, true},
		{"not equals holds on another value", list2(allow(cond("StringNotEquals", "kms:EncryptionContext:PartitionId", "tenant-b-0001"))), tenantA, true},
		{"not equals fails on any listed value", list2(allow(cond("StringNotEquals", "kms:EncryptionContext:PartitionId", "x", "tenant-b-0001"))), tenantB, false},
		{"not equals holds when missing", list2(allow(cond("StringNotEquals", "kms:EncryptionContext:PartitionId", "x"))), none, true},
		{"not like denies tenant B", list2(allow(), deny(cond("StringNotLike", "kms:EncryptionContext:PartitionId", "tenant-a-*"))), tenantB, false},
		{"not like spares tenant A", list2(allow(), deny(cond("StringNotLike", "kms:EncryptionContext:PartitionId", "tenant-a-*"))), tenantA, true},
		{"? is one character", list2(allow(cond("StringLike", "kms:EncryptionContext:PartitionId", "tenant-?-0001"))), tenantB, true},
		{"two conditions both hold", list2(allow(tenantLike, cond("IpAddress", "acs:SourceIp", "10.0.0.0/8"))), tenantA, true},
		{"two conditions, one fails", list2(allow(tenantLike, cond("IpAddress", "acs:SourceIp", "172.16.0.0/12"))), tenantA, false},
		{"ip in block", list2(allow(cond("IpAddress", "acs:SourceIp", "10.0.0.0/24"))), tenantA, true},
		{"single ip", list2(allow(cond("IpAddress", "acs:SourceIp", "10.0.0.7"))), tenantA, true},
		{"ipv6 block", list2(allow(cond("IpAddress", "acs:SourceIp", "2001:db8::/32"))), tagged, true},
		{"not ip allows outside", list2(allow(cond("NotIpAddress", "acs:SourceIp", "192.168.0.0/16"))), tenantA, true},
		{"deny outside the network", list2(allow(), deny(cond("NotIpAddress", "acs:SourceIp", "10.0.0.0/8"))), twoKeys, false},
		{"no ip: an allow on the ip does not apply", list2(allow(cond("IpAddress", "acs:SourceIp", "0.0.0.0/0"))), direct, false},
		{"no ip: a not-ip allow does not apply", list2(allow(cond("NotIpAddress", "acs:SourceIp", "10.0.0.0/8"))), direct, false},
		{"no ip: a deny on the ip applies", list2(allow(), deny(cond("IpAddress", "acs:SourceIp", "10.0.0.0/8"))), direct, false},
		{"tag equals", list2(allow(cond("StringEquals", "kms:tag/team", "payments"))), tagged, true},
		{"tag missing", list2(allow(cond("StringEquals", "kms:tag/team", "payments"))), tenantA, false},
		{"bool on a context value", list2(allow(cond("Bool", "kms:EncryptionContext:Audited", "true"))), core.Facts{Context: core.EncryptionContext{"Audited": "TRUE"}}, true},
		{"bool false", list2(allow(cond("Bool", "kms:EncryptionContext:Audited", "true"))), core.Facts{Context: core.EncryptionContext{"Audited": "false"}}, false},
		{"for all keys within a set", list2(allow(cond("ForAllValues:StringEquals", "kms:EncryptionContextKeys", "PartitionId", "Purpose"))), twoKeys, true},
		{"for all keys, one outside", list2(allow(cond("ForAllValues:StringEquals", "kms:EncryptionContextKeys", "PartitionId"))), twoKeys, false},
		{"for all over no keys holds", list2(allow(cond("ForAllValues:StringEquals", "kms:EncryptionContextKeys", "PartitionId"))), none, true},
		{"for any key", list2(allow(cond("ForAnyValue:StringLike", "kms:EncryptionContextKeys", "Purp*"))), twoKeys, true},
		{"for any over no keys fails", list2(allow(cond("ForAnyValue:StringLike", "kms:EncryptionContextKeys", "*"))), none, false},
		{"for any not equals", list2(allow(cond("ForAnyValue:StringNotEquals", "kms:EncryptionContextKeys", "PartitionId"))), twoKeys, true},
		{"conditional deny that fails leaves the allow", list2(allow(), deny(cond("StringEquals", "kms:tag/team", "payments"))), tenantA, true},
		{"conditional deny that holds", list2(allow(), deny(cond("StringEquals", "kms:tag/team", "payments"))), tagged, false},
		{"request alias like", list2(allow(cond("StringLike", "kms:RequestAlias", "alias/orders-*"))), core.Facts{RequestAlias: "alias/orders-eu"}, true},
		{"request alias missing", list2(allow(cond("StringLike", "kms:RequestAlias", "alias/*"))), none, false},
		{"request alias not equals when missing", list2(allow(cond("StringNotEquals", "kms:RequestAlias", "alias/x"))), none, true},
		{"deny on a request alias", list2(allow(), deny(cond("StringEquals", "kms:RequestAlias", "alias/test"))), core.Facts{RequestAlias: "alias/test"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := core.NewPolicy(c.sts...)
			if err != nil {
				t.Fatal(err)
			}
			f := c.facts
			got := p.AllowedWith("kms:Decrypt", &f, "acs:kms:cn-hangzhou:1:key/key-a")
			if ref := refAllowed(c.sts, c.facts); ref != c.want {
				t.Fatalf("the reference says %v, the table %v", ref, c.want)
			}
			if got != c.want {
				t.Errorf("AllowedWith = %v, want %v", got, c.want)
			}
		})
	}
}

func list2(sts ...core.Statement) []core.Statement { return sts }

func TestNewPolicyRefusesConditionsItCannotEvaluate(t *testing.T) {
	cases := map[string]core.Condition{
		"unknown operator":            cond("StringEqualsIgnoreCase", "kms:EncryptionContext:a", "b"),
		"unknown key":                 cond("StringEquals", "acs:CurrentTime", "b"),
		"unknown kms key":             cond("StringEquals", "kms:RecipientAttestation", "b"),
		"context without a name":      cond("StringEquals", "kms:EncryptionContext:", "b"),
		"tag without a name":          cond("StringEquals", "kms:tag/", "b"),
		"set key without a set op":    cond("StringEquals", "kms:EncryptionContextKeys", "b"),
		"set op on a single key":      cond("ForAnyValue:StringEquals", "kms:EncryptionContext:a", "b"),
		"unknown set op":              cond("ForSomeValues:StringEquals", "kms:EncryptionContextKeys", "b"),
		"ip operator on a string":     cond("IpAddress", "kms:tag/net", "10.0.0.0/8"),
		"string operator on the ip":   cond("StringLike", "acs:SourceIp", "10.*"),
		"bad cidr":                    cond("IpAddress", "acs:SourceIp", "10.0.0.0/33"),
		"not an ip":                   cond("NotIpAddress", "acs:SourceIp", "intranet"),
		"bool that is not a bool":     cond("Bool", "kms:EncryptionContext:a", "yes"),
		"no values":                   cond("StringEquals", "kms:EncryptionContext:a"),
		"IfExists is not implemented": cond("StringEqualsIfExists", "kms:EncryptionContext:a", "b"),
	}
	for name, c := range cases {
		st := core.Statement{Effect: "Allow", Action: list("kms:Decrypt"), Resource: list("*"), Condition: []core.Condition{c}}
		if _, err := core.NewPolicy(st); err == nil {
			t.Errorf("%s: NewPolicy accepted %+v", name, c)
		}
	}
}

// Before a key is read its tags are unknown, and the early check must neither
// refuse a caller whom a conditional Allow may admit nor admit one whom an
// unconditional Deny refuses.
func TestPolicyWithoutFactsAnswersStrictly(t *testing.T) {
	p := pol(core.Statement{Effect: "Allow", Action: list("kms:Decrypt"), Resource: list("*"),
		Condition: []core.Condition{cond("StringEquals", "kms:tag/team", "payments")}})
	if p.Allowed("kms:Decrypt", keyA) {
		t.Error("Allowed with no facts admits a tag-conditioned Allow")
	}
	if !p.AllowedWith("kms:Decrypt", &core.Facts{Tags: map[string]string{"team": "payments"}}, keyA) {
		t.Error("AllowedWith the tag refuses")
	}
}
