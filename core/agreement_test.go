package core_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
)

// A key agreement key derives with a peer's public key the secret the
// peer derives, with Go's crypto/ecdh, from the public key GetPublicKey
// hands out, on each NIST curve; the key does nothing else, and nothing
// else derives.
func TestKeyAgreementKeysDeriveWhatThePeerDerives(t *testing.T) {
	s, _ := memService(t, core.Config{})
	spki := func(pub any) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(der)
	}
	keys := map[string]core.Key{}
	for _, c := range []struct {
		spec  string
		curve ecdh.Curve
	}{{"ECC_NIST_P256", ecdh.P256()}, {"ECC_NIST_P384", ecdh.P384()}, {"ECC_NIST_P521", ecdh.P521()}} {
		out, err := do(t, s, "CreateKey", core.Params{"KeySpec": c.spec, "KeyUsage": core.UsageKeyAgreement})
		if err != nil {
			t.Fatalf("CreateKey %s: %v", c.spec, err)
		}
		k := out.(core.Key)
		keys[c.spec] = k
		if got := k.KeyAgreementAlgorithms(); len(got) != 1 || got[0] != "ECDH" || k.SigningAlgorithms() != nil {
			t.Errorf("%s: KeyAgreementAlgorithms %v, SigningAlgorithms %v", c.spec, got, k.SigningAlgorithms())
		}
		peer, err := c.curve.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		out, err = do(t, s, "DeriveSharedSecret", core.Params{"KeyId": k.ID, "KeyAgreementAlgorithm": "ECDH", "PublicKey": spki(peer.PublicKey())})
		if err != nil {
			t.Fatalf("%s: DeriveSharedSecret: %v", c.spec, err)
		}
		secret := out.(core.SharedSecret)
		out, err = do(t, s, "GetPublicKey", core.Params{"KeyId": k.ID})
		if err != nil {
			t.Fatal(err)
		}
		if got := out.(core.PublicKey).Algorithms; len(got) != 1 || got[0] != "ECDH" {
			t.Errorf("%s: GetPublicKey's algorithms %v", c.spec, got)
		}
		parsed, err := x509.ParsePKIXPublicKey(out.(core.PublicKey).DER)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := parsed.(*ecdsa.PublicKey).ECDH()
		if err != nil {
			t.Fatal(err)
		}
		want, err := peer.ECDH(theirs)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(secret.Secret, want) || secret.KeyID != k.ID || secret.VersionID != k.PrimaryVersionID || secret.Algorithm != "ECDH" {
			t.Errorf("%s: derived %x (%s %s %s), the peer derives %x", c.spec, secret.Secret, secret.KeyID, secret.VersionID, secret.Algorithm, want)
		}
	}
	p256, p384 := keys["ECC_NIST_P256"], keys["ECC_NIST_P384"]
	peer, _ := ecdh.P256().GenerateKey(rand.Reader)
	peerKey := spki(peer.PublicKey())
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	out, err := do(t, s, "CreateKey", core.Params{"KeySpec": "ECC_NIST_P256"})
	if err != nil {
		t.Fatal(err)
	}
	signer := out.(core.Key)
	out, err = do(t, s, "CreateKey", core.Params{})
	if err != nil {
		t.Fatal(err)
	}
	aes := out.(core.Key)
	d := sha256.Sum256([]byte("m"))
	for _, c := range []struct {
		action string
		p      core.Params
		want   string
	}{
		{"DeriveSharedSecret", core.Params{"KeyId": p384.ID, "KeyAgreementAlgorithm": "ECDH", "PublicKey": peerKey}, core.CodeInvalidParameter},
		{"DeriveSharedSecret", core.Params{"KeyId": p256.ID, "KeyAgreementAlgorithm": "ECDH", "PublicKey": spki(edPub)}, core.CodeInvalidParameter},
		{"DeriveSharedSecret", core.Params{"KeyId": p256.ID, "KeyAgreementAlgorithm": "ECDH", "PublicKey": b64("not a key")}, core.CodeInvalidParameter},
		{"DeriveSharedSecret", core.Params{"KeyId": p256.ID, "KeyAgreementAlgorithm": "ECDH"}, core.CodeMissingParameter},
		{"DeriveSharedSecret", core.Params{"KeyId": p256.ID, "KeyAgreementAlgorithm": "ECMQV", "PublicKey": peerKey}, core.CodeInvalidParameter},
		{"DeriveSharedSecret", core.Params{"KeyId": p256.ID, "PublicKey": peerKey}, core.CodeMissingParameter},
		{"DeriveSharedSecret", core.Params{"KeyId": signer.ID, "KeyAgreementAlgorithm": "ECDH", "PublicKey": peerKey}, core.CodeInvalidKeyUsage},
		{"DeriveSharedSecret", core.Params{"KeyId": aes.ID, "KeyAgreementAlgorithm": "ECDH", "PublicKey": peerKey}, core.CodeInvalidKeyUsage},
		{"DeriveSharedSecret", core.Params{"KeyId": p256.ID, "KeyAgreementAlgorithm": "ECDH", "PublicKey": peerKey, "DryRun": "true"}, core.CodeDryRunOperation},
		{"AsymmetricSign", core.Params{"KeyId": p256.ID, "Algorithm": "ECDSA_SHA_256", "Digest": base64.StdEncoding.EncodeToString(d[:])}, core.CodeInvalidKeyUsage},
		{"Encrypt", core.Params{"KeyId": p256.ID, "Plaintext": b64("x")}, core.CodeInvalidKeyUsage},
		{"CreateKeyVersion", core.Params{"KeyId": p256.ID}, core.CodeUnsupportedKeySpec},
		{"CreateKey", core.Params{"KeySpec": "ECC_NIST_EDWARDS25519", "KeyUsage": core.UsageKeyAgreement}, core.CodeInvalidParameter},
		{"CreateKey", core.Params{"KeySpec": "RSA_2048", "KeyUsage": core.UsageKeyAgreement}, core.CodeInvalidParameter},
		{"CreateKey", core.Params{"KeyUsage": core.UsageKeyAgreement}, core.CodeInvalidParameter},
	} {
		if _, err := do(t, s, c.action, c.p); code(err) != c.want {
			t.Errorf("%s %v: %v, want %s", c.action, c.p, err, c.want)
		}
	}
}

// A caller's secrets derived under a P-521 key, whose ECDH takes
// milliseconds, are bounded apart from its request rate: past the bucket it
// is throttled, and a DryRun spends nothing. Another caller's bucket is its
// own.
func TestKeyAgreementIsBoundedPerCaller(t *testing.T) {
	s, _ := memService(t, core.Config{Limiter: inproc.NewLimiter()})
	out, err := do(t, s, "CreateKey", core.Params{"KeySpec": "ECC_NIST_P521", "KeyUsage": core.UsageKeyAgreement})
	if err != nil {
		t.Fatal(err)
	}
	k := out.(core.Key)
	peer, err := ecdh.P521().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(peer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	derive := func(caller *core.Principal, dry bool) error {
		p := core.Params{"KeyId": k.ID, "KeyAgreementAlgorithm": "ECDH", "PublicKey": base64.StdEncoding.EncodeToString(der)}
		if dry {
			p["DryRun"] = "true"
		}
		_, err := s.Handle(t.Context(), &core.Request{ID: "r", Action: "DeriveSharedSecret", Params: p, Caller: caller})
		return err
	}
	a, b := *operator, *operator
	a.AccessKeyID, b.AccessKeyID = "LTAIagreerA", "LTAIagreerB"
	a.QPS, b.QPS = 1<<20, 1<<20
	lim := core.KeyAgreementLimits["ECC_NIST_P521"]
	for range lim.Burst {
		if err := derive(&a, true); code(err) != core.CodeDryRunOperation {
			t.Fatalf("DryRun: %v", err)
		}
	}
	start, made := time.Now(), 0
	for ; made < 10*lim.Burst; made++ {
		if err := derive(&a, false); err != nil {
			if code(err) != core.CodeThrottling {
				t.Fatalf("secret %d: %v", made+1, err)
			}
			break
		}
	}
	refilled := int(time.Since(start) / (lim.Period / time.Duration(lim.Rate)))
	if made < lim.Burst || made > lim.Burst+refilled+1 {
		t.Fatalf("%d secrets before the throttle, in %v; want %d to %d", made, time.Since(start), lim.Burst, lim.Burst+refilled+1)
	}
	if err := derive(&b, false); err != nil {
		t.Errorf("another caller: %v", err)
	}
}
