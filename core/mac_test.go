package core_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// hmacKey makes an HMAC key of spec through s.
func hmacKey(t *testing.T, s *core.Service, spec string, extra core.Params) core.Key {
	t.Helper()
	p := core.Params{"KeySpec": spec, "KeyUsage": core.UsageMAC}
	for k, v := range extra {
		p[k] = v
	}
	out, err := do(t, s, "CreateKey", p)
	if err != nil {
		t.Fatalf("CreateKey %s: %v", spec, err)
	}
	return out.(core.Key)
}

func code(err error) string {
	if err == nil {
		return ""
	}
	return core.AsError(err).Code
}

// Imported material makes the MACs any HMAC of it makes, byte for byte, in
// each spec; VerifyMac takes them and refuses any other MAC, message or
// algorithm. A key made here makes MACs of its spec's length that only it
// verifies.
func TestHMACKeysMakeTheMACsOfTheirMaterial(t *testing.T) {
	s, _ := memService(t, core.Config{})
	for _, c := range []struct {
		spec, alg string
		size      int
		hash      func() hash.Hash
	}{
		{"HMAC_224", "HMAC_SHA_224", 28, sha256.New224},
		{"HMAC_256", "HMAC_SHA_256", 32, sha256.New},
		{"HMAC_384", "HMAC_SHA_384", 48, sha512.New384},
		{"HMAC_512", "HMAC_SHA_512", 64, sha512.New},
	} {
		k := hmacKey(t, s, c.spec, core.Params{"Origin": core.OriginExternal})
		material := make([]byte, c.size)
		for i := range material {
			material[i] = byte(i*7 + len(c.spec))
		}
		if err := importer(t, s, k.ID)(material[:c.size-1]); code(err) != core.CodeInvalidKeyMaterial {
			t.Errorf("%s: material a byte short: %v, want %s", c.spec, err, core.CodeInvalidKeyMaterial)
		}
		if err := importer(t, s, k.ID)(material); err != nil {
			t.Fatalf("%s: import: %v", c.spec, err)
		}
		msg := "tenant=42&user=alice"
		out, err := do(t, s, "GenerateMac", core.Params{"KeyId": k.ID, "Message": b64(msg), "MacAlgorithm": c.alg})
		if err != nil {
			t.Fatalf("%s: GenerateMac: %v", c.spec, err)
		}
		got := out.(core.Mac)
		want := hmac.New(c.hash, material)
		want.Write([]byte(msg))
		if !hmac.Equal(got.Mac, want.Sum(nil)) || got.Algorithm != c.alg || got.KeyID != k.ID || got.VersionID != k.PrimaryVersionID {
			t.Errorf("%s: GenerateMac = %+v, want the HMAC of the material", c.spec, got)
		}
		mac := base64.StdEncoding.EncodeToString(got.Mac)
		if _, err := do(t, s, "VerifyMac", core.Params{"KeyId": k.ID, "Message": b64(msg), "MacAlgorithm": c.alg, "Mac": mac}); err != nil {
			t.Errorf("%s: VerifyMac of its own MAC: %v", c.spec, err)
		}
		for name, p := range map[string]core.Params{
			"another message":   {"KeyId": k.ID, "Message": b64(msg + "!"), "MacAlgorithm": c.alg, "Mac": mac},
			"a truncated MAC":   {"KeyId": k.ID, "Message": b64(msg), "MacAlgorithm": c.alg, "Mac": base64.StdEncoding.EncodeToString(got.Mac[:len(got.Mac)-1])},
			"a MAC of one byte": {"KeyId": k.ID, "Message": b64(msg), "MacAlgorithm": c.alg, "Mac": "AA=="},
		} {
			if _, err := do(t, s, "VerifyMac", p); code(err) != core.CodeInvalidMac {
				t.Errorf("%s: VerifyMac of %s: %v, want %s", c.spec, name, err, core.CodeInvalidMac)
			}
		}
		other := "HMAC_SHA_256"
		if c.alg == other {
			other = "HMAC_SHA_512"
		}
		if _, err := do(t, s, "GenerateMac", core.Params{"KeyId": k.ID, "Message": b64(msg), "MacAlgorithm": other}); code(err) != core.CodeInvalidKeyUsage {
			t.Errorf("%s: GenerateMac with %s: %v, want %s", c.spec, other, err, core.CodeInvalidKeyUsage)
		}

		made := hmacKey(t, s, c.spec, nil)
		out, err = do(t, s, "GenerateMac", core.Params{"KeyId": made.ID, "Message": b64(msg), "MacAlgorithm": c.alg})
		if err != nil {
			t.Fatalf("%s: GenerateMac under a made key: %v", c.spec, err)
		}
		m := out.(core.Mac).Mac
		if len(m) != c.size || hmac.Equal(m, got.Mac) {
			t.Errorf("%s: a made key's MAC is %d bytes, or the imported key's", c.spec, len(m))
		}
		if _, err := do(t, s, "VerifyMac", core.Params{"KeyId": k.ID, "Message": b64(msg), "MacAlgorithm": c.alg, "Mac": base64.StdEncoding.EncodeToString(m)}); code(err) != core.CodeInvalidMac {
			t.Errorf("%s: another key's MAC verified: %v", c.spec, err)
		}
	}
}

// An HMAC key does what its usage says and nothing else: the envelope
// operations refuse it, the MAC operations refuse an encryption key, and it
// does not rotate. Each refusal leaves the key as it was.
func TestHMACKeysKeepToTheirUsage(t *testing.T) {
	s, _ := memService(t, core.Config{})
	k := hmacKey(t, s, "HMAC_256", nil)
	out, err := do(t, s, "CreateKey", core.Params{})
	if err != nil {
		t.Fatal(err)
	}
	aes := out.(core.Key)
	if k.KeySpec != "HMAC_256" || k.KeyUsage != core.UsageMAC || aes.KeySpec != core.SpecAES || aes.KeyUsage != core.UsageEncrypt {
		t.Fatalf("keys made as %s/%s and %s/%s", k.KeySpec, k.KeyUsage, aes.KeySpec, aes.KeyUsage)
	}
	if got := k.MacAlgorithms(); len(got) != 1 || got[0] != "HMAC_SHA_256" {
		t.Errorf("MacAlgorithms = %v", got)
	}
	if got := aes.MacAlgorithms(); got != nil {
		t.Errorf("an AES key's MacAlgorithms = %v", got)
	}
	blob, err := do(t, s, "Encrypt", core.Params{"KeyId": aes.ID, "Plaintext": b64("x")})
	if err != nil {
		t.Fatal(err)
	}
	sealed := base64.StdEncoding.EncodeToString(blob.(core.Sealed).Blob)
	for _, c := range []struct {
		action string
		p      core.Params
		want   string
	}{
		{"Encrypt", core.Params{"KeyId": k.ID, "Plaintext": b64("x")}, core.CodeInvalidKeyUsage},
		{"Encrypt", core.Params{"KeyId": k.ID, "Plaintext": b64("x"), "DryRun": "true"}, core.CodeInvalidKeyUsage},
		{"GenerateDataKey", core.Params{"KeyId": k.ID}, core.CodeInvalidKeyUsage},
		{"GenerateDataKeyWithoutPlaintext", core.Params{"KeyId": k.ID}, core.CodeInvalidKeyUsage},
		{"GenerateDataKeyPair", core.Params{"KeyId": k.ID, "KeyPairSpec": "ECC_NIST_P256"}, core.CodeInvalidKeyUsage},
		{"ReEncrypt", core.Params{"CiphertextBlob": sealed, "DestinationKeyId": k.ID}, core.CodeInvalidKeyUsage},
		{"GenerateMac", core.Params{"KeyId": aes.ID, "Message": b64("m"), "MacAlgorithm": "HMAC_SHA_256"}, core.CodeInvalidKeyUsage},
		{"VerifyMac", core.Params{"KeyId": aes.ID, "Message": b64("m"), "MacAlgorithm": "HMAC_SHA_256", "Mac": "AA=="}, core.CodeInvalidKeyUsage},
		{"GenerateMac", core.Params{"KeyId": k.ID, "Message": b64("m"), "MacAlgorithm": "HMAC_MD5"}, core.CodeInvalidParameter},
		{"GenerateMac", core.Params{"KeyId": k.ID, "Message": b64("m")}, core.CodeMissingParameter},
		{"GenerateMac", core.Params{"KeyId": k.ID, "MacAlgorithm": "HMAC_SHA_256"}, core.CodeMissingParameter},
		{"GenerateMac", core.Params{"KeyId": k.ID, "Message": b64(strings.Repeat("m", core.MaxMacMessage+1)), "MacAlgorithm": "HMAC_SHA_256"}, core.CodeInvalidParameter},
		{"GenerateMac", core.Params{"KeyId": k.ID, "Message": b64("m"), "MacAlgorithm": "HMAC_SHA_256", "DryRun": "true"}, core.CodeDryRunOperation},
		{"VerifyMac", core.Params{"KeyId": k.ID, "Message": b64("m"), "MacAlgorithm": "HMAC_SHA_256"}, core.CodeMissingParameter},
		{"CreateKeyVersion", core.Params{"KeyId": k.ID}, core.CodeUnsupportedKeySpec},
		{"RotateKeyOnDemand", core.Params{"KeyId": k.ID}, core.CodeUnsupportedKeySpec},
		{"EnableKeyRotation", core.Params{"KeyId": k.ID}, core.CodeUnsupportedKeySpec},
		{"GetKeyRotationStatus", core.Params{"KeyId": k.ID}, core.CodeUnsupportedKeySpec},
		{"CreateKey", core.Params{"KeySpec": "HMAC_256", "KeyUsage": core.UsageEncrypt}, core.CodeInvalidParameter},
		{"CreateKey", core.Params{"KeyUsage": core.UsageMAC}, core.CodeInvalidParameter},
		{"CreateKey", core.Params{"KeySpec": "HMAC_256", "EnableAutomaticRotation": "true"}, core.CodeInvalidParameter},
	} {
		if _, err := do(t, s, c.action, c.p); code(err) != c.want {
			t.Errorf("%s %v: %v, want %s", c.action, c.p, err, c.want)
		}
	}
	out, err = do(t, s, "DescribeKey", core.Params{"KeyId": k.ID})
	if err != nil {
		t.Fatal(err)
	}
	if after := out.(core.Key); after.PrimaryVersionID != k.PrimaryVersionID || after.AutomaticRotation || after.Revision != k.Revision {
		t.Errorf("refusals changed the key: %+v", after)
	}
	// The usage is the spec's default: KeySpec alone makes an HMAC key.
	out, err = do(t, s, "CreateKey", core.Params{"KeySpec": "HMAC_512"})
	if err != nil || out.(core.Key).KeyUsage != core.UsageMAC {
		t.Errorf("CreateKey HMAC_512 without a usage: %v, %v", out, err)
	}
}

// kms:MacAlgorithm holds a caller to the algorithms a policy names.
func TestMacAlgorithmCondition(t *testing.T) {
	s, _ := memService(t, core.Config{})
	k256, k512 := hmacKey(t, s, "HMAC_256", nil), hmacKey(t, s, "HMAC_512", nil)
	caller := &core.Principal{Name: "tokens", AccessKeyID: "LTAItokens", Secret: core.NewSecret("s"),
		Policy: core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:GenerateMac"}, Resource: []string{"*"},
			Condition: []core.Condition{{Operator: "StringEquals", Key: "kms:MacAlgorithm", Values: []string{"HMAC_SHA_512"}}}})}
	call := func(k core.Key, alg string) error {
		_, err := s.Handle(t.Context(), &core.Request{ID: "r", Action: "GenerateMac", Caller: caller,
			Params: core.Params{"KeyId": k.ID, "Message": b64("m"), "MacAlgorithm": alg}})
		return err
	}
	if err := call(k512, "HMAC_SHA_512"); err != nil {
		t.Errorf("allowed algorithm: %v", err)
	}
	if err := call(k256, "HMAC_SHA_256"); code(err) != core.CodeNoPermission {
		t.Errorf("algorithm the policy does not name: %v, want %s", err, core.CodeNoPermission)
	}
}

// A seed describes an encryption key: an HMAC key stored under its ID is a
// conflict, even where the seed names no material to compare.
func TestSeedIsNoHMACKey(t *testing.T) {
	s, _ := memService(t, core.Config{})
	k := hmacKey(t, s, "HMAC_256", nil)
	_, err := s.Seed(t.Context(), []core.SeedKey{{ID: k.ID}})
	var conflict *core.SeedConflict
	if !errors.As(err, &conflict) || !strings.Contains(err.Error(), "HMAC_256") {
		t.Fatalf("seeding an HMAC key's ID: %v", err)
	}
}

// kms:KeySpec and kms:KeyUsage, in AWS's names, hold a caller to the kinds
// of key it may make (CreateKey's request) and use (the key's own).
func TestKeySpecAndUsageConditions(t *testing.T) {
	s, _ := memService(t, core.Config{})
	maker := &core.Principal{Name: "maker", AccessKeyID: "LTAImaker", Secret: core.NewSecret("s"),
		Policy: core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:CreateKey"}, Resource: []string{"*"},
			Condition: []core.Condition{{Operator: "StringEquals", Key: "kms:KeySpec", Values: []string{"SYMMETRIC_DEFAULT", "HMAC_256"}}}})}
	user := &core.Principal{Name: "user", AccessKeyID: "LTAIuser", Secret: core.NewSecret("s"),
		Policy: core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:GenerateMac", "kms:Encrypt"}, Resource: []string{"*"},
			Condition: []core.Condition{{Operator: "StringEquals", Key: "kms:KeyUsage", Values: []string{"GENERATE_VERIFY_MAC"}}}})}
	as := func(p *core.Principal, action string, params core.Params) (any, error) {
		return s.Handle(t.Context(), &core.Request{ID: "r", Action: action, Params: params, Caller: p})
	}
	if _, err := as(maker, "CreateKey", core.Params{}); err != nil {
		t.Errorf("a symmetric key: %v", err)
	}
	out, err := as(maker, "CreateKey", core.Params{"KeySpec": "HMAC_256"})
	if err != nil {
		t.Fatalf("an HMAC_256 key: %v", err)
	}
	for _, spec := range []string{"HMAC_512", "ECC_NIST_P256", "EC_P256"} {
		if _, err := as(maker, "CreateKey", core.Params{"KeySpec": spec}); code(err) != core.CodeNoPermission {
			t.Errorf("a %s key: %v, want %s", spec, err, core.CodeNoPermission)
		}
	}
	if _, err := as(user, "GenerateMac", core.Params{"KeyId": out.(core.Key).ID, "Message": b64("m"), "MacAlgorithm": "HMAC_SHA_256"}); err != nil {
		t.Errorf("a MAC under an HMAC key: %v", err)
	}
	aes, _ := do(t, s, "CreateKey", core.Params{})
	if _, err := as(user, "Encrypt", core.Params{"KeyId": aes.(core.Key).ID, "Plaintext": b64("x")}); code(err) != core.CodeNoPermission {
		t.Errorf("Encrypt under a key of another usage: %v, want %s", err, core.CodeNoPermission)
	}
}
