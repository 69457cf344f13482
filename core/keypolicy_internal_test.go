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
		k := &Key{ID: fmt.Sprint("key-", i), Policy: doc}
		kp, err := s.compileKeyPolicy(doc)
		if err != nil {
			t.Fatal(err)
		}
		s.keyPolicies.put(k, kp)
		if s.keyPolicies.get(k) != kp {
			t.Fatalf("key %d: its policy is not kept", i)
		}
		if s.keyPolicies.bytes > maxKeyPolicyBytes || s.keyPolicies.bytes != len(s.keyPolicies.m)*len(doc) {
			t.Fatalf("after %d keys: %d bytes kept for %d entries", i+1, s.keyPolicies.bytes, len(s.keyPolicies.m))
		}
	}
	// The same key with another document replaces its entry's bytes.
	k := &Key{ID: "key-0", Policy: doc}
	kp, _ := s.compileKeyPolicy(doc)
	s.keyPolicies.put(k, kp)
	before := s.keyPolicies.bytes
	k.Policy = bigPolicy(s.account, 1000)
	if s.keyPolicies.get(k) != nil {
		t.Fatal("a key's policy compiled for another document was kept for this one")
	}
	kp, _ = s.compileKeyPolicy(k.Policy)
	s.keyPolicies.put(k, kp)
	if got := s.keyPolicies.bytes; got != before-len(doc)+len(k.Policy) {
		t.Fatalf("bytes after a key's policy changed: %d, want %d", got, before-len(doc)+len(k.Policy))
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
				if _, err := s.compileKeyPolicy(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
