package core

import (
	"fmt"
	"strings"
	"testing"
)

// bigPolicy is a key policy of about size bytes: the account's statement
// and statements naming users, each with a condition.
func bigPolicy(account string, size int) string {
	var b strings.Builder
	b.WriteString(`{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + account + `:*"},"Action":"kms:*","Resource":"*"}`)
	for i := 0; b.Len() < size-300; i++ {
		fmt.Fprintf(&b, `,{"Effect":"Allow","Principal":{"RAM":"acs:ram::%s:user/u%d"},"Action":["kms:GenerateDataKey*","kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:t":"%d"}}}`, account, i, i)
	}
	b.WriteString(`]}`)
	return b.String()
}

// TestKeyPoliciesKeptWithinBounds: the compiled policies an instance keeps
// start over before their documents pass maxKeyPolicyBytes, so keys with
// large policies cannot grow it without end.
func TestKeyPoliciesKeptWithinBounds(t *testing.T) {
	s := &Service{account: "1234567890123456"}
	doc := bigPolicy(s.account, MaxKeyPolicySize)
	if len(doc) > MaxKeyPolicySize {
		t.Fatalf("the policy is %d bytes", len(doc))
	}
	for i := range 3 * maxKeyPolicyBytes / len(doc) {
		id := fmt.Sprint("key-", i)
		kp, err := s.compileDocument("key", doc)
		if err != nil {
			t.Fatal(err)
		}
		s.keyPolicies.put(id, doc, kp)
		if s.keyPolicies.get(id, doc) != kp {
			t.Fatalf("key %d: its policy is not kept", i)
		}
		if s.keyPolicies.bytes > maxKeyPolicyBytes || s.keyPolicies.bytes != len(s.keyPolicies.m)*len(doc) {
			t.Fatalf("after %d keys: %d bytes kept for %d entries", i+1, s.keyPolicies.bytes, len(s.keyPolicies.m))
		}
	}
	// The same key with another document replaces its entry's bytes.
	kp, _ := s.compileDocument("key", doc)
	s.keyPolicies.put("key-0", doc, kp)
	before := s.keyPolicies.bytes
	other := bigPolicy(s.account, 1000)
	if s.keyPolicies.get("key-0", other) != nil {
		t.Fatal("a key's policy compiled for another document was kept for this one")
	}
	kp, _ = s.compileDocument("key", other)
	s.keyPolicies.put("key-0", other, kp)
	if got := s.keyPolicies.bytes; got != before-len(doc)+len(other) {
		t.Fatalf("bytes after a key's policy changed: %d, want %d", got, before-len(doc)+len(other))
	}
}

// BenchmarkCompileKeyPolicy: what a request on a key pays when its
// instance does not keep the key's policy compiled, for a typical policy
// and one of the largest.
func BenchmarkCompileKeyPolicy(b *testing.B) {
	s := &Service{account: "1234567890123456"}
	for _, size := range []int{1024, MaxKeyPolicySize} {
		doc := bigPolicy(s.account, size)
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.compileDocument("key", doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
