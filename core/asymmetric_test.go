package core_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/store/bolt"
)

// A signing key signs digests that its public key, handed out by
// GetPublicKey, verifies outside the service, in every algorithm its spec
// takes; AsymmetricVerify agrees, and says false of another digest.
func TestSigningKeysSignWhatTheirPublicKeyVerifies(t *testing.T) {
	s, _ := memService(t, core.Config{})
	d256, d384, d512 := sha256.Sum256([]byte("m")), sha512.Sum384([]byte("m")), sha512.Sum512([]byte("m"))
	digests := map[crypto.Hash][]byte{crypto.SHA256: d256[:], crypto.SHA384: d384[:], crypto.SHA512: d512[:]}
	for _, c := range []struct {
		spec string
		algs map[string]crypto.Hash
	}{
		{"EC_P256", map[string]crypto.Hash{"ECDSA_SHA_256": crypto.SHA256}},
		{"ECC_NIST_P384", map[string]crypto.Hash{"ECDSA_SHA_384": crypto.SHA384}},
		{"ECC_NIST_P521", map[string]crypto.Hash{"ECDSA_SHA_512": crypto.SHA512}},
		{"RSA_2048", map[string]crypto.Hash{"RSA_PSS_SHA_256": crypto.SHA256, "RSA_PSS_SHA_512": crypto.SHA512, "RSA_PKCS1_SHA_256": crypto.SHA256, "RSA_PKCS1_SHA_384": crypto.SHA384}},
	} {
		out, err := do(t, s, "CreateKey", core.Params{"KeySpec": c.spec, "KeyUsage": core.UsageSign})
		if err != nil {
			t.Fatalf("CreateKey %s: %v", c.spec, err)
		}
		k := out.(core.Key)
		if k.KeyUsage != core.UsageSign || core.AlibabaKeySpec(k.KeySpec) != c.spec && k.KeySpec != c.spec {
			t.Errorf("%s: made %s for %s", c.spec, k.KeySpec, k.KeyUsage)
		}
		out, err = do(t, s, "GetPublicKey", core.Params{"KeyId": k.ID})
		if err != nil {
			t.Fatalf("%s: GetPublicKey: %v", c.spec, err)
		}
		pk := out.(core.PublicKey)
		pub, err := x509.ParsePKIXPublicKey(pk.DER)
		if err != nil || pk.VersionID != k.PrimaryVersionID {
			t.Fatalf("%s: public key: %v, version %q", c.spec, err, pk.VersionID)
		}
		for alg, h := range c.algs {
			digest := base64.StdEncoding.EncodeToString(digests[h])
			out, err := do(t, s, "AsymmetricSign", core.Params{"KeyId": k.ID, "KeyVersionId": k.PrimaryVersionID, "Algorithm": alg, "Digest": digest})
			if err != nil {
				t.Fatalf("%s %s: AsymmetricSign: %v", c.spec, alg, err)
			}
			sig := out.(core.Signature).Value
			var ok bool
			switch p := pub.(type) {
			case *ecdsa.PublicKey:
				ok = ecdsa.VerifyASN1(p, digests[h], sig)
			case *rsa.PublicKey:
				if alg[:7] == "RSA_PSS" {
					ok = rsa.VerifyPSS(p, h, digests[h], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
				} else {
					ok = rsa.VerifyPKCS1v15(p, h, digests[h], sig) == nil
				}
			}
			if !ok {
				t.Errorf("%s %s: the public key does not verify the signature", c.spec, alg)
			}
			value := base64.StdEncoding.EncodeToString(sig)
			out, err = do(t, s, "AsymmetricVerify", core.Params{"KeyId": k.ID, "Algorithm": alg, "Digest": digest, "Value": value})
			if err != nil || !out.(core.SignatureChecked).Valid {
				t.Errorf("%s %s: AsymmetricVerify of its signature: %v %v", c.spec, alg, out, err)
			}
			other := make([]byte, h.Size())
			out, err = do(t, s, "AsymmetricVerify", core.Params{"KeyId": k.ID, "Algorithm": alg, "Digest": base64.StdEncoding.EncodeToString(other), "Value": value})
			if err != nil || out.(core.SignatureChecked).Valid {
				t.Errorf("%s %s: AsymmetricVerify of another digest: %v %v", c.spec, alg, out, err)
			}
		}
	}
}

// A signing key signs and nothing else; other keys sign nothing; digests
// and algorithms are held to the key's spec; it does not rotate or import.
func TestSigningKeysKeepToTheirUsage(t *testing.T) {
	s, _ := memService(t, core.Config{})
	out, err := do(t, s, "CreateKey", core.Params{"KeySpec": "ECC_NIST_P256"})
	if err != nil {
		t.Fatal(err)
	}
	k := out.(core.Key)
	if got := k.SigningAlgorithms(); len(got) != 1 || got[0] != "ECDSA_SHA_256" {
		t.Errorf("SigningAlgorithms = %v", got)
	}
	out, err = do(t, s, "CreateKey", core.Params{})
	if err != nil {
		t.Fatal(err)
	}
	aes := out.(core.Key)
	d := sha256.Sum256([]byte("m"))
	digest := base64.StdEncoding.EncodeToString(d[:])
	for _, c := range []struct {
		action string
		p      core.Params
		want   string
	}{
		{"Encrypt", core.Params{"KeyId": k.ID, "Plaintext": b64("x")}, core.CodeInvalidKeyUsage},
		{"GenerateDataKeyWithoutPlaintext", core.Params{"KeyId": k.ID}, core.CodeInvalidKeyUsage},
		{"GenerateMac", core.Params{"KeyId": k.ID, "Message": b64("m"), "MacAlgorithm": "HMAC_SHA_256"}, core.CodeInvalidKeyUsage},
		{"AsymmetricSign", core.Params{"KeyId": aes.ID, "Algorithm": "ECDSA_SHA_256", "Digest": digest}, core.CodeInvalidKeyUsage},
		{"GetPublicKey", core.Params{"KeyId": aes.ID}, core.CodeUnsupportedKeySpec},
		{"AsymmetricSign", core.Params{"KeyId": k.ID, "Algorithm": "RSA_PSS_SHA_256", "Digest": digest}, core.CodeInvalidKeyUsage},
		{"AsymmetricSign", core.Params{"KeyId": k.ID, "Algorithm": "ECDSA_SHA_256", "Digest": b64("short")}, core.CodeInvalidParameter},
		{"AsymmetricSign", core.Params{"KeyId": k.ID, "Algorithm": "SM2DSA", "Digest": digest}, core.CodeInvalidKeyUsage},
		{"AsymmetricSign", core.Params{"KeyId": k.ID, "Algorithm": "SM3DSA", "Digest": digest}, core.CodeInvalidParameter},
		{"AsymmetricSign", core.Params{"KeyId": k.ID, "Algorithm": "ECDSA_SHA_256"}, core.CodeMissingParameter},
		{"AsymmetricSign", core.Params{"KeyId": k.ID, "KeyVersionId": "other", "Algorithm": "ECDSA_SHA_256", "Digest": digest}, core.CodeKeyNotFound},
		{"AsymmetricSign", core.Params{"KeyId": k.ID, "Algorithm": "ECDSA_SHA_256", "Digest": digest, "DryRun": "true"}, core.CodeDryRunOperation},
		{"AsymmetricVerify", core.Params{"KeyId": k.ID, "Algorithm": "ECDSA_SHA_256", "Digest": digest}, core.CodeMissingParameter},
		{"CreateKeyVersion", core.Params{"KeyId": k.ID}, core.CodeUnsupportedKeySpec},
		{"EnableKeyRotation", core.Params{"KeyId": k.ID}, core.CodeUnsupportedKeySpec},
		{"GetParametersForImport", core.Params{"KeyId": k.ID, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"}, core.CodeUnsupportedOrigin},
		{"CreateKey", core.Params{"KeySpec": "ECC_NIST_P256", "KeyUsage": core.UsageEncrypt}, core.CodeInvalidParameter},
		{"CreateKey", core.Params{"KeySpec": "EC_SM9"}, core.CodeInvalidParameter},
	} {
		if _, err := do(t, s, c.action, c.p); code(err) != c.want {
			t.Errorf("%s %v: %v, want %s", c.action, c.p, err, c.want)
		}
	}
}

// A caller's uses of a costly signing key are bounded per spec, beside its
// request rate: past the bucket it is throttled, and a DryRun or a refused
// request spends nothing. Another caller's bucket is its own.
func TestSigningKeyUsesAreBoundedPerCaller(t *testing.T) {
	s, _ := memService(t, core.Config{Limiter: inproc.NewLimiter()})
	out, err := do(t, s, "CreateKey", core.Params{"KeySpec": "ECC_NIST_P384"})
	if err != nil {
		t.Fatal(err)
	}
	k := out.(core.Key)
	d := sha512.Sum384([]byte("m"))
	digest := base64.StdEncoding.EncodeToString(d[:])
	sign := func(caller *core.Principal, extra ...string) error {
		p := core.Params{"KeyId": k.ID, "Algorithm": "ECDSA_SHA_384", "Digest": digest}
		for i := 0; i+1 < len(extra); i += 2 {
			p[extra[i]] = extra[i+1]
		}
		_, err := s.Handle(t.Context(), &core.Request{ID: "r", Action: "AsymmetricSign", Params: p, Caller: caller})
		return err
	}
	a, b := *operator, *operator
	a.AccessKeyID, b.AccessKeyID = "LTAIsignerA", "LTAIsignerB"
	a.QPS, b.QPS = 1<<20, 1<<20
	lim := core.PrivateKeyLimits["ECC_NIST_P384"]
	for range lim.Burst {
		if err := sign(&a, "DryRun", "true"); code(err) != core.CodeDryRunOperation {
			t.Fatalf("DryRun: %v", err)
		}
		if err := sign(&a, "Algorithm", "ECDSA_SHA_512", "Digest", base64.StdEncoding.EncodeToString(make([]byte, 64))); code(err) != core.CodeInvalidKeyUsage {
			t.Fatalf("another algorithm: %v", err)
		}
	}
	// The bucket refills on the wall clock while signing, so the caller is
	// allowed the burst and what refilled meanwhile, and is throttled past
	// that.
	start, made := time.Now(), 0
	for ; made < 10*lim.Burst; made++ {
		if err := sign(&a); err != nil {
			if code(err) != core.CodeThrottling {
				t.Fatalf("signature %d: %v", made+1, err)
			}
			break
		}
	}
	refilled := int(time.Since(start) / (lim.Period / time.Duration(lim.Rate)))
	if made < lim.Burst || made > lim.Burst+refilled+1 {
		t.Fatalf("%d signatures before the throttle, in %v; want %d to %d", made, time.Since(start), lim.Burst, lim.Burst+refilled+1)
	}
	if err := sign(&b); err != nil {
		t.Errorf("another caller: %v", err)
	}
}

// ListKeys filters signing and HMAC keys by their spec, in either cloud's
// name, and by their usage.
func TestListKeysFiltersByTheNewSpecsAndUsages(t *testing.T) {
	s, _ := memService(t, core.Config{})
	ids := map[string]string{}
	for _, spec := range []string{"EC_P256", "HMAC_256", "", "ECC_NIST_P384"} {
		p := core.Params{"KeySpec": spec}
		if spec == "ECC_NIST_P384" {
			p["KeyUsage"] = core.UsageKeyAgreement
		}
		out, err := do(t, s, "CreateKey", p)
		if err != nil {
			t.Fatal(err)
		}
		ids[spec] = out.(core.Key).ID
	}
	for filter, want := range map[string]string{
		`[{"Key":"KeySpec","Values":["EC_P256"]}]`:              ids["EC_P256"],
		`[{"Key":"KeySpec","Values":["ECC_NIST_P256"]}]`:        ids["EC_P256"],
		`[{"Key":"KeyUsage","Values":["GENERATE/VERIFY_MAC"]}]`: ids["HMAC_256"],
		`[{"Key":"KeyUsage","Values":["SIGN/VERIFY"]}]`:         ids["EC_P256"],
		`[{"Key":"KeySpec","Values":["Aliyun_AES_256"]}]`:       ids[""],
		`[{"Key":"KeyUsage","Values":["KEY_AGREEMENT"]}]`:       ids["ECC_NIST_P384"],
	} {
		out, err := do(t, s, "ListKeys", core.Params{"Filters": filter})
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		items := out.(core.Listing[core.Key]).Items
		if len(items) != 1 || items[0].ID != want {
			t.Errorf("%s: %d keys, want %s alone", filter, len(items), want)
		}
	}
}

// An RSA encryption key, Alibaba's default usage for an RSA spec, opens
// what its public key sealed, by AsymmetricEncrypt or outside the service,
// under either OAEP hash and no other; it makes no envelopes, and a
// ciphertext that does not open says no more than that.
func TestRSAEncryptionKeysOpenWhatTheirPublicKeySealed(t *testing.T) {
	s, _ := memService(t, core.Config{})
	out, err := do(t, s, "CreateKey", core.Params{"KeySpec": "RSA_2048"})
	if err != nil {
		t.Fatal(err)
	}
	k := out.(core.Key)
	if k.KeyUsage != core.UsageEncrypt || len(k.EncryptionAlgorithms()) != 2 || k.SigningAlgorithms() != nil {
		t.Fatalf("made %s for %s, algorithms %v / %v", k.KeySpec, k.KeyUsage, k.EncryptionAlgorithms(), k.SigningAlgorithms())
	}
	out, err = do(t, s, "GetPublicKey", core.Params{"KeyId": k.ID})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(out.(core.PublicKey).DER)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("a data key sealed offline")
	for alg, h := range map[string]crypto.Hash{"RSAES_OAEP_SHA_256": crypto.SHA256, "RSAES_OAEP_SHA_1": crypto.SHA1} {
		outside, err := rsa.EncryptOAEP(h.New(), rand.Reader, pub.(*rsa.PublicKey), secret, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := do(t, s, "AsymmetricEncrypt", core.Params{"KeyId": k.ID, "Algorithm": alg, "Plaintext": base64.StdEncoding.EncodeToString(secret)})
		if err != nil {
			t.Fatalf("%s: AsymmetricEncrypt: %v", alg, err)
		}
		inside := out.(core.Sealed).Blob
		for _, blob := range [][]byte{outside, inside} {
			out, err := do(t, s, "AsymmetricDecrypt", core.Params{"KeyId": k.ID, "Algorithm": alg, "CiphertextBlob": base64.StdEncoding.EncodeToString(blob)})
			if err != nil || string(out.(core.Opened).Plaintext) != string(secret) {
				t.Errorf("%s: AsymmetricDecrypt: %v", alg, err)
			}
		}
		other := "RSAES_OAEP_SHA_1"
		if alg == other {
			other = "RSAES_OAEP_SHA_256"
		}
		if _, err := do(t, s, "AsymmetricDecrypt", core.Params{"KeyId": k.ID, "Algorithm": other, "CiphertextBlob": base64.StdEncoding.EncodeToString(inside)}); code(err) != core.CodeInvalidCiphertext {
			t.Errorf("%s: opened under %s: %v", alg, other, err)
		}
	}
	long := base64.StdEncoding.EncodeToString(make([]byte, 191))
	aes, _ := do(t, s, "CreateKey", core.Params{})
	signer, _ := do(t, s, "CreateKey", core.Params{"KeySpec": "RSA_2048", "KeyUsage": core.UsageSign})
	for _, c := range []struct {
		action string
		p      core.Params
		want   string
	}{
		{"AsymmetricEncrypt", core.Params{"KeyId": k.ID, "Algorithm": "RSAES_OAEP_SHA_256", "Plaintext": long}, core.CodeInvalidParameter},
		{"AsymmetricEncrypt", core.Params{"KeyId": k.ID, "Algorithm": "RSAES_PKCS1_V1_5", "Plaintext": b64("x")}, core.CodeInvalidParameter},
		{"AsymmetricEncrypt", core.Params{"KeyId": k.ID, "Algorithm": "RSAES_OAEP_SHA_256", "Plaintext": b64("x"), "DryRun": "true"}, core.CodeDryRunOperation},
		{"AsymmetricEncrypt", core.Params{"KeyId": aes.(core.Key).ID, "Algorithm": "RSAES_OAEP_SHA_256", "Plaintext": b64("x")}, core.CodeInvalidKeyUsage},
		{"AsymmetricEncrypt", core.Params{"KeyId": signer.(core.Key).ID, "Algorithm": "RSAES_OAEP_SHA_256", "Plaintext": b64("x")}, core.CodeInvalidKeyUsage},
		{"AsymmetricSign", core.Params{"KeyId": k.ID, "Algorithm": "RSA_PSS_SHA_256", "Digest": base64.StdEncoding.EncodeToString(make([]byte, 32))}, core.CodeInvalidKeyUsage},
		{"AsymmetricDecrypt", core.Params{"KeyId": k.ID, "Algorithm": "RSAES_OAEP_SHA_256", "CiphertextBlob": b64("not a ciphertext")}, core.CodeInvalidCiphertext},
		{"Encrypt", core.Params{"KeyId": k.ID, "Plaintext": b64("x")}, core.CodeInvalidKeyUsage},
		{"GenerateDataKey", core.Params{"KeyId": k.ID}, core.CodeInvalidKeyUsage},
		{"CreateKeyVersion", core.Params{"KeyId": k.ID}, core.CodeUnsupportedKeySpec},
	} {
		if _, err := do(t, s, c.action, c.p); code(err) != c.want {
			t.Errorf("%s %v: %v, want %s", c.action, c.p, err, c.want)
		}
	}
}

// A root rotation re-wraps HMAC and asymmetric keys' material as it does an
// encryption key's: after it, with the old root key dropped, the same MAC
// comes out, the public key is the same, and its signatures still verify.
func TestRootRotationKeepsHMACAndAsymmetricKeys(t *testing.T) {
	ctx := context.Background()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "kms.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	oldRoot, newRoot := randomRoot(t), randomRoot(t)
	before := rootedService(t, store, oldRoot)
	mk, err := do(t, before, "CreateKey", core.Params{"KeySpec": "HMAC_384"})
	if err != nil {
		t.Fatal(err)
	}
	ak, err := do(t, before, "CreateKey", core.Params{"KeySpec": "ECC_NIST_P256"})
	if err != nil {
		t.Fatal(err)
	}
	ek, err := do(t, before, "CreateKey", core.Params{"KeySpec": "ECC_NIST_EDWARDS25519"})
	if err != nil {
		t.Fatal(err)
	}
	// An Ed25519 signature is deterministic: the same one after the
	// rotation is the same private key.
	edParams := core.Params{"KeyId": ek.(core.Key).ID, "Algorithm": "ED25519_SHA_512", "Message": b64("m")}
	edSig, err := do(t, before, "AsymmetricSign", edParams)
	if err != nil {
		t.Fatal(err)
	}
	// Keys whose PKCS #8 this service writes itself keep their public key.
	own := map[string][]byte{}
	for _, spec := range []string{"ECC_SECG_P256K1", "ML_DSA_44", "ML_KEM_512"} {
		out, err := do(t, before, "CreateKey", core.Params{"KeySpec": spec})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := do(t, before, "GetPublicKey", core.Params{"KeyId": out.(core.Key).ID})
		if err != nil {
			t.Fatal(err)
		}
		own[out.(core.Key).ID] = pub.(core.PublicKey).DER
	}
	macParams := core.Params{"KeyId": mk.(core.Key).ID, "Message": b64("m"), "MacAlgorithm": "HMAC_SHA_384"}
	mac, err := do(t, before, "GenerateMac", macParams)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := do(t, before, "GetPublicKey", core.Params{"KeyId": ak.(core.Key).ID})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := rootedService(t, store, newRoot, oldRoot).RewrapRoot(ctx, core.RewrapOptions{}); err != nil || p.Rewrapped != 6 {
		t.Fatalf("RewrapRoot = %+v, %v; want all six versions re-wrapped", p, err)
	}
	after := rootedService(t, store, newRoot)
	again, err := do(t, after, "GenerateMac", macParams)
	if err != nil || string(again.(core.Mac).Mac) != string(mac.(core.Mac).Mac) {
		t.Errorf("the MAC after the rotation: %v", err)
	}
	for id, der := range own {
		pub, err := do(t, after, "GetPublicKey", core.Params{"KeyId": id})
		if err != nil || !bytes.Equal(pub.(core.PublicKey).DER, der) {
			t.Errorf("key %s's public key after the rotation: %v", id, err)
		}
	}
	edAgain, err := do(t, after, "AsymmetricSign", edParams)
	if err != nil || string(edAgain.(core.Signature).Value) != string(edSig.(core.Signature).Value) {
		t.Errorf("the Ed25519 signature after the rotation: %v", err)
	}
	pub2, err := do(t, after, "GetPublicKey", core.Params{"KeyId": ak.(core.Key).ID})
	if err != nil || string(pub2.(core.PublicKey).DER) != string(pub.(core.PublicKey).DER) {
		t.Fatalf("the public key after the rotation: %v", err)
	}
	d := sha256.Sum256([]byte("m"))
	sig, err := do(t, after, "AsymmetricSign", core.Params{"KeyId": ak.(core.Key).ID, "Algorithm": "ECDSA_SHA_256", "Digest": base64.StdEncoding.EncodeToString(d[:])})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := x509.ParsePKIXPublicKey(pub.(core.PublicKey).DER)
	if !ecdsa.VerifyASN1(key.(*ecdsa.PublicKey), d[:], sig.(core.Signature).Value) {
		t.Error("a signature made after the rotation does not verify under the key from before it")
	}
}

// An Ed25519 key signs the message itself (ED25519_SHA_512, pure Ed25519)
// or, as Ed25519ph, a SHA-512 digest of it, which the signature hashes once
// more (ED25519_PH_SHA_512, as AWS documents): Go's Ed25519 verifies both
// with the public key GetPublicKey hands out, and AsymmetricVerify agrees.
// Each algorithm takes its own input, and no other key takes either.
func TestEd25519KeysSignTheMessageOrItsDigest(t *testing.T) {
	s, _ := memService(t, core.Config{})
	out, err := do(t, s, "CreateKey", core.Params{"KeySpec": "ECC_NIST_EDWARDS25519"})
	if err != nil {
		t.Fatal(err)
	}
	k := out.(core.Key)
	if got := k.SigningAlgorithms(); k.KeyUsage != core.UsageSign || len(got) != 2 || got[0] != "ED25519_SHA_512" || got[1] != "ED25519_PH_SHA_512" {
		t.Fatalf("made a key for %s with %v", k.KeyUsage, got)
	}
	out, err = do(t, s, "GetPublicKey", core.Params{"KeyId": k.ID})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParsePKIXPublicKey(out.(core.PublicKey).DER)
	pub, ok := parsed.(ed25519.PublicKey)
	if err != nil || !ok {
		t.Fatalf("public key %T: %v", parsed, err)
	}
	msg := []byte("release v1.2.3")
	digest := sha512.Sum512(msg)
	prehash := sha512.Sum512(digest[:])
	for _, c := range []struct {
		alg, member string
		input       []byte
		verify      func(sig []byte) bool
	}{
		{"ED25519_SHA_512", "Message", msg, func(sig []byte) bool { return ed25519.Verify(pub, msg, sig) }},
		{"ED25519_PH_SHA_512", "Digest", digest[:], func(sig []byte) bool {
			return ed25519.VerifyWithOptions(pub, prehash[:], sig, &ed25519.Options{Hash: crypto.SHA512}) == nil
		}},
	} {
		in := base64.StdEncoding.EncodeToString(c.input)
		out, err := do(t, s, "AsymmetricSign", core.Params{"KeyId": k.ID, "Algorithm": c.alg, c.member: in})
		if err != nil {
			t.Fatalf("%s: %v", c.alg, err)
		}
		sig := out.(core.Signature).Value
		if !c.verify(sig) {
			t.Errorf("%s: Go's Ed25519 does not verify the signature", c.alg)
		}
		value := base64.StdEncoding.EncodeToString(sig)
		out, err = do(t, s, "AsymmetricVerify", core.Params{"KeyId": k.ID, "Algorithm": c.alg, c.member: in, "Value": value})
		if err != nil || !out.(core.SignatureChecked).Valid {
			t.Errorf("%s: AsymmetricVerify of its signature: %v %v", c.alg, out, err)
		}
		other := base64.StdEncoding.EncodeToString(make([]byte, len(c.input)))
		out, err = do(t, s, "AsymmetricVerify", core.Params{"KeyId": k.ID, "Algorithm": c.alg, c.member: other, "Value": value})
		if err != nil || out.(core.SignatureChecked).Valid {
			t.Errorf("%s: AsymmetricVerify of another input: %v %v", c.alg, out, err)
		}
	}
	out, err = do(t, s, "CreateKey", core.Params{"KeySpec": "ECC_NIST_P256"})
	if err != nil {
		t.Fatal(err)
	}
	p256 := out.(core.Key)
	d256 := sha256.Sum256(msg)
	for _, c := range []struct {
		p    core.Params
		want string
	}{
		{core.Params{"KeyId": k.ID, "Algorithm": "ED25519_SHA_512", "Digest": b64("m")}, core.CodeMissingParameter},
		{core.Params{"KeyId": k.ID, "Algorithm": "ED25519_SHA_512", "Message": base64.StdEncoding.EncodeToString(make([]byte, 4097))}, core.CodeInvalidParameter},
		{core.Params{"KeyId": k.ID, "Algorithm": "ED25519_PH_SHA_512", "Digest": base64.StdEncoding.EncodeToString(d256[:])}, core.CodeInvalidParameter},
		{core.Params{"KeyId": k.ID, "Algorithm": "ECDSA_SHA_256", "Digest": base64.StdEncoding.EncodeToString(d256[:])}, core.CodeInvalidKeyUsage},
		{core.Params{"KeyId": p256.ID, "Algorithm": "ED25519_SHA_512", "Message": b64("m")}, core.CodeInvalidKeyUsage},
		{core.Params{"KeyId": k.ID, "Algorithm": "ED25519_SHA_512", "Message": b64("m"), "DryRun": "true"}, core.CodeDryRunOperation},
	} {
		if _, err := do(t, s, "AsymmetricSign", c.p); code(err) != c.want {
			t.Errorf("AsymmetricSign %v: %v, want %s", c.p, err, c.want)
		}
	}
	for _, p := range []core.Params{
		{"KeySpec": "ECC_NIST_EDWARDS25519", "KeyUsage": core.UsageEncrypt},
	} {
		if _, err := do(t, s, "CreateKey", p); code(err) != core.CodeInvalidParameter {
			t.Errorf("CreateKey %v: %v, want %s", p, err, core.CodeInvalidParameter)
		}
	}
}
