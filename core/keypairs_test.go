package core_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
)

// Every spec makes a pair whose halves belong together, in the encodings AWS
// documents (SubjectPublicKeyInfo and PKCS #8, DER), and whose blob Decrypt
// opens, under the same context only, to the same private key. The
// WithoutPlaintext twin returns no private key, and its blob opens to the
// private half of the public key it returned. RSA_3072 and RSA_4096 differ
// from RSA_2048 in size only, and cost seconds under -race: the limit test
// makes a 4096-bit one.
func TestDataKeyPairs(t *testing.T) {
	s, _ := memService(t, core.Config{})
	out, err := do(t, s, "CreateKey", core.Params{})
	if err != nil {
		t.Fatal(err)
	}
	id := out.(core.Key).ID
	ctx := `{"tenant":"a"}`
	for _, spec := range []string{"RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_NIST_EDWARDS25519"} {
		for _, action := range []string{"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"} {
			out, err := do(t, s, action, core.Params{"KeyId": id, "KeyPairSpec": spec, "EncryptionContext": ctx})
			if err != nil {
				t.Fatalf("%s %s: %v", action, spec, err)
			}
			pair := out.(core.DataKeyPair)
			if pair.KeyID != id || pair.VersionID == "" || pair.Spec != spec {
				t.Errorf("%s %s: key %q version %q spec %q", action, spec, pair.KeyID, pair.VersionID, pair.Spec)
			}
			pub, err := x509.ParsePKIXPublicKey(pair.PublicKey)
			if err != nil {
				t.Fatalf("%s %s: public key: %v", action, spec, err)
			}
			if got := keyName(pub); got != spec {
				t.Errorf("%s %s: the public key is %s", action, spec, got)
			}
			opened, err := do(t, s, "Decrypt", core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(pair.Blob), "EncryptionContext": ctx})
			if err != nil {
				t.Fatalf("%s %s: Decrypt: %v", action, spec, err)
			}
			der := opened.(core.Opened).Plaintext
			if action == "GenerateDataKeyPair" && !bytes.Equal(der, pair.PrivateKey) {
				t.Errorf("%s %s: the blob opens to another private key than the one returned", action, spec)
			}
			if action == "GenerateDataKeyPairWithoutPlaintext" && pair.PrivateKey != nil {
				t.Errorf("%s %s returned a private key", action, spec)
			}
			priv, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				t.Fatalf("%s %s: private key: %v", action, spec, err)
			}
			if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(priv.(crypto.Signer).Public()) {
				t.Errorf("%s %s: the private key is not the public key's", action, spec)
			}
			_, err = do(t, s, "Decrypt", core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(pair.Blob)})
			mustCode(t, err, core.CodeInvalidCiphertext)
		}
	}
	for spec, code := range map[string]string{"": core.CodeMissingParameter, "RSA_1024": core.CodeInvalidParameter, "ECC_NIST_P224": core.CodeInvalidParameter} {
		_, err := do(t, s, "GenerateDataKeyPair", core.Params{"KeyId": id, "KeyPairSpec": spec})
		mustCode(t, err, code)
	}
}

// keyName names a public key as a KeyPairSpec does.
func keyName(pub any) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[int]string{2048: "RSA_2048", 3072: "RSA_3072", 4096: "RSA_4096"}[k.N.BitLen()]
	case *ecdsa.PublicKey:
		return map[string]string{"P-256": "ECC_NIST_P256", "P-384": "ECC_NIST_P384", "P-521": "ECC_NIST_P521"}[k.Curve.Params().Name]
	case ed25519.PublicKey:
		return "ECC_NIST_EDWARDS25519"
	}
	return "?"
}

// An RSA key costs far more CPU than a request, so RSA data key pairs spend
// the caller's bucket for their size, which wrapping keys share at 2048 bits:
// past it the caller is throttled, while its ECC pairs and other requests go
// on. A request refused for any reason spends nothing: a DryRun, a key the
// caller may not use, a context its policy denies, a disabled key. With a
// burst of one, the first pair made after all of those proves it.
func TestRSADataKeyPairsAreLimitedPerCaller(t *testing.T) {
	s, _ := memService(t, core.Config{Limiter: inproc.NewLimiter()})
	newKey := func() string {
		out, err := do(t, s, "CreateKey", core.Params{})
		if err != nil {
			t.Fatal(err)
		}
		return out.(core.Key).ID
	}
	id, denied, off := newKey(), newKey(), newKey()
	if _, err := do(t, s, "DisableKey", core.Params{"KeyId": off}); err != nil {
		t.Fatal(err)
	}
	a := &core.Principal{Name: "a", AccessKeyID: "a", QPS: 1000, Policy: core.MustPolicy(core.Statement{
		Effect: "Allow", Action: []string{"kms:*"}, Resource: []string{"*"},
	}, core.Statement{
		Effect: "Deny", Action: []string{"kms:GenerateDataKeyPair*"}, Resource: []string{s.KeyARN(denied)},
	}, core.Statement{
		Effect: "Deny", Action: []string{"kms:GenerateDataKeyPair*"}, Resource: []string{"*"},
		Condition: []core.Condition{{Operator: "StringEquals", Key: "kms:EncryptionContext:tenant", Values: []string{"b"}}},
	})}
	ask := func(who *core.Principal, action string, p core.Params) (any, error) {
		return s.Handle(context.Background(), &core.Request{ID: "r", Action: action, Params: p, Caller: who})
	}
	rsa4096 := core.Params{"KeyId": id, "KeyPairSpec": "RSA_4096"}
	lim := core.RSAKeyLimits[4096]
	if lim.Burst != 1 {
		t.Fatalf("the test makes one key for a burst of 1, not %d", lim.Burst)
	}
	for _, c := range []struct {
		what string
		p    core.Params
		code string
	}{
		{"a DryRun", core.Params{"KeyId": id, "KeyPairSpec": "RSA_4096", "DryRun": "true"}, core.CodeDryRunOperation},
		{"a key the caller may not use", core.Params{"KeyId": denied, "KeyPairSpec": "RSA_4096"}, core.CodeNoPermission},
		{"a context the policy denies", core.Params{"KeyId": id, "KeyPairSpec": "RSA_4096", "EncryptionContext": `{"tenant":"b"}`}, core.CodeNoPermission},
		{"a disabled key", core.Params{"KeyId": off, "KeyPairSpec": "RSA_4096"}, core.CodeDisabled},
		{"PEM", core.Params{"KeyId": id, "KeyPairSpec": "RSA_4096", "KeyFormat": "PEM"}, core.CodeInvalidParameter},
	} {
		_, err := ask(a, "GenerateDataKeyPair", c.p)
		if err == nil {
			t.Fatalf("%s: a pair was made", c.what)
		}
		mustCode(t, err, c.code)
	}
	out, err := ask(a, "GenerateDataKeyPairWithoutPlaintext", core.Params{"KeyId": id, "KeyPairSpec": "RSA_4096", "KeyFormat": "DER"})
	if err != nil {
		t.Fatalf("the first RSA_4096 pair: %v", err)
	}
	// The largest blob a pair makes opens through Decrypt, whose AWS form
	// takes blobs of at most 6144 bytes.
	blob := out.(core.DataKeyPair).Blob
	opened, err := ask(a, "Decrypt", core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(blob)})
	if err != nil || len(blob) > 6144 {
		t.Fatalf("Decrypt of the RSA_4096 pair's blob of %d bytes: %v", len(blob), err)
	}
	if priv, err := x509.ParsePKCS8PrivateKey(opened.(core.Opened).Plaintext); err != nil || keyName(priv.(crypto.Signer).Public()) != "RSA_4096" {
		t.Fatalf("the RSA_4096 pair's private key: %v", err)
	}
	_, err = ask(a, "GenerateDataKeyPair", rsa4096)
	if e := mustCode(t, err, core.CodeThrottling); e.RetryAfter <= 0 {
		t.Errorf("throttled with RetryAfter %v", e.RetryAfter)
	}
	if _, err := ask(a, "GenerateDataKeyPair", core.Params{"KeyId": id, "KeyPairSpec": "ECC_NIST_P384"}); err != nil {
		t.Errorf("the caller's ECC pair: %v", err)
	}
	if _, err := ask(a, "GenerateDataKeyWithoutPlaintext", core.Params{"KeyId": id}); err != nil {
		t.Errorf("the caller's other requests: %v", err)
	}
}

// Every RSA spec has a bucket: newRSAKey refuses a size without one rather
// than make it unbounded, so a spec added without its limit would fail here
// and not in production.
func TestEveryRSASpecHasABucket(t *testing.T) {
	for _, spec := range core.KeyPairSpecs() {
		var bits int
		if _, err := fmt.Sscanf(spec, "RSA_%d", &bits); err != nil {
			continue
		}
		if lim, ok := core.RSAKeyLimits[bits]; !ok || lim.Rate <= 0 || lim.Burst <= 0 {
			t.Errorf("%s has no bucket: %+v", spec, lim)
		}
	}
}

// kms:DataKeyPairSpec lets a policy say which pairs a caller may have made:
// an Allow on ECC_NIST_P256 alone refuses RSA, before any key is made, and
// a Deny on RSA_* takes them from a caller with full access. Other actions
// have no such value, so the Allow does not apply to them.
func TestDataKeyPairSpecCondition(t *testing.T) {
	s, _ := memService(t, core.Config{})
	out, err := do(t, s, "CreateKey", core.Params{})
	if err != nil {
		t.Fatal(err)
	}
	id := out.(core.Key).ID
	eccOnly := &core.Principal{Name: "ecc", AccessKeyID: "ecc", Policy: core.MustPolicy(core.Statement{
		Effect: "Allow", Action: []string{"kms:GenerateDataKey*"}, Resource: []string{"*"},
		Condition: []core.Condition{{Operator: "StringEquals", Key: "kms:DataKeyPairSpec", Values: []string{"ECC_NIST_P256"}}},
	})}
	noRSA := &core.Principal{Name: "no-rsa", AccessKeyID: "no-rsa", Policy: core.MustPolicy(core.Statement{
		Effect: "Allow", Action: []string{"kms:*"}, Resource: []string{"*"},
	}, core.Statement{
		Effect: "Deny", Action: []string{"kms:GenerateDataKeyPair*"}, Resource: []string{"*"},
		Condition: []core.Condition{{Operator: "StringLike", Key: "kms:DataKeyPairSpec", Values: []string{"RSA_*"}}},
	})}
	for _, c := range []struct {
		who    *core.Principal
		action string
		spec   string
		code   string
	}{
		{eccOnly, "GenerateDataKeyPair", "ECC_NIST_P256", ""},
		{eccOnly, "GenerateDataKeyPairWithoutPlaintext", "ECC_NIST_P256", ""},
		{eccOnly, "GenerateDataKeyPair", "ECC_NIST_P384", core.CodeNoPermission},
		{eccOnly, "GenerateDataKeyPairWithoutPlaintext", "RSA_4096", core.CodeNoPermission},
		{eccOnly, "GenerateDataKey", "", core.CodeNoPermission},
		{noRSA, "GenerateDataKeyPair", "RSA_2048", core.CodeNoPermission},
		{noRSA, "GenerateDataKeyPair", "ECC_NIST_EDWARDS25519", ""},
		{noRSA, "GenerateDataKey", "", ""},
	} {
		p := core.Params{"KeyId": id}
		if c.spec != "" {
			p["KeyPairSpec"] = c.spec
		}
		_, err := s.Handle(context.Background(), &core.Request{ID: "r", Action: c.action, Params: p, Caller: c.who})
		if c.code == "" {
			if err != nil {
				t.Errorf("%s %s %s: %v", c.who.Name, c.action, c.spec, err)
			}
			continue
		}
		mustCode(t, err, c.code)
	}
}
