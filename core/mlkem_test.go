package core_test

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"testing"

	"github.com/cloudflare/circl/kem/mlkem/mlkem512"
	"github.com/cloudflare/circl/kem/mlkem/mlkem768"

	"github.com/kmsless/kmsless/core"
)

// An ML-KEM key encapsulates a fresh secret that Decapsulate recovers, and
// recovers the secret a party outside made with the public key GetPublicKey
// hands out, in circl's ML-KEM; a ciphertext altered yields another secret,
// not an error, as ML-KEM's implicit rejection has it. A data key pair of an
// ML-KEM spec has halves that agree.
func TestMLKEMKeysDecapsulateWhatTheirPublicKeyEncapsulated(t *testing.T) {
	s, _ := memService(t, core.Config{})
	out, err := do(t, s, "CreateKey", core.Params{"KeySpec": "ML_KEM_768"})
	if err != nil {
		t.Fatal(err)
	}
	k := out.(core.Key)
	if got := k.EncapsulationAlgorithms(); k.KeyUsage != core.UsageEncapsulate || len(got) != 1 || got[0] != "ML_KEM" {
		t.Fatalf("made for %s with %v", k.KeyUsage, got)
	}
	decapsulate := func(ct []byte) []byte {
		t.Helper()
		out, err := do(t, s, "Decapsulate", core.Params{"KeyId": k.ID, "EncapsulationAlgorithm": "ML_KEM", "SharedSecretCiphertextBlob": base64.StdEncoding.EncodeToString(ct)})
		if err != nil {
			t.Fatalf("Decapsulate: %v", err)
		}
		return out.(core.Decapsulated).Secret
	}
	out, err = do(t, s, "Encapsulate", core.Params{"KeyId": k.ID, "EncapsulationAlgorithm": "ML_KEM"})
	if err != nil {
		t.Fatal(err)
	}
	e := out.(core.Encapsulated)
	if len(e.Secret) != 32 || len(e.Ciphertext) != mlkem768.CiphertextSize || !bytes.Equal(decapsulate(e.Ciphertext), e.Secret) {
		t.Fatalf("Encapsulate gave %d bytes and %d of ciphertext, which do not decapsulate to them", len(e.Secret), len(e.Ciphertext))
	}
	out, err = do(t, s, "GetPublicKey", core.Params{"KeyId": k.ID})
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(out.(core.PublicKey).DER, &info); err != nil || !info.Algorithm.Algorithm.Equal(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 2}) {
		t.Fatalf("SubjectPublicKeyInfo %v: %v", info.Algorithm, err)
	}
	pub, err := mlkem768.Scheme().UnmarshalBinaryPublicKey(info.PublicKey.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	ct, secret, err := mlkem768.Scheme().Encapsulate(pub)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(decapsulate(ct), secret) {
		t.Error("Decapsulate does not recover the secret encapsulated outside")
	}
	ct[0] ^= 1
	if got := decapsulate(ct); bytes.Equal(got, secret) || len(got) != 32 {
		t.Errorf("an altered ciphertext decapsulated to %x", got)
	}
	out, err = do(t, s, "CreateKey", core.Params{})
	if err != nil {
		t.Fatal(err)
	}
	aes := out.(core.Key).ID
	for _, c := range []struct {
		action string
		p      core.Params
		want   string
	}{
		{"Decapsulate", core.Params{"KeyId": k.ID, "EncapsulationAlgorithm": "ML_KEM", "SharedSecretCiphertextBlob": b64("short")}, core.CodeInvalidParameter},
		{"Decapsulate", core.Params{"KeyId": k.ID, "EncapsulationAlgorithm": "ML_KEM"}, core.CodeMissingParameter},
		{"Encapsulate", core.Params{"KeyId": k.ID, "EncapsulationAlgorithm": "KYBER"}, core.CodeInvalidParameter},
		{"Encapsulate", core.Params{"KeyId": k.ID}, core.CodeMissingParameter},
		{"Encapsulate", core.Params{"KeyId": aes, "EncapsulationAlgorithm": "ML_KEM"}, core.CodeInvalidKeyUsage},
		{"Encapsulate", core.Params{"KeyId": k.ID, "EncapsulationAlgorithm": "ML_KEM", "DryRun": "true"}, core.CodeDryRunOperation},
		{"AsymmetricSign", core.Params{"KeyId": k.ID, "Algorithm": "ML_DSA_SHAKE_256", "Message": b64("m")}, core.CodeInvalidKeyUsage},
		{"Encrypt", core.Params{"KeyId": k.ID, "Plaintext": b64("x")}, core.CodeInvalidKeyUsage},
		{"CreateKey", core.Params{"KeySpec": "ML_KEM_768", "KeyUsage": core.UsageSign}, core.CodeInvalidParameter},
	} {
		if _, err := do(t, s, c.action, c.p); code(err) != c.want {
			t.Errorf("%s %v: %v, want %s", c.action, c.p, err, c.want)
		}
	}
	out, err = do(t, s, "GenerateDataKeyPair", core.Params{"KeyId": aes, "KeyPairSpec": "ML_KEM_512"})
	if err != nil {
		t.Fatal(err)
	}
	pair := out.(core.DataKeyPair)
	var p8 struct {
		Version    int
		Algorithm  pkix.AlgorithmIdentifier
		PrivateKey []byte
	}
	if _, err := asn1.Unmarshal(pair.PrivateKey, &p8); err != nil || len(p8.PrivateKey) != 66 || p8.PrivateKey[0] != 0x80 {
		t.Fatalf("the pair's PKCS #8: %v", err)
	}
	pk, sk := mlkem512.Scheme().DeriveKeyPair(p8.PrivateKey[2:])
	if _, err := asn1.Unmarshal(pair.PublicKey, &info); err != nil {
		t.Fatal(err)
	}
	raw, _ := pk.MarshalBinary()
	ct, secret, _ = mlkem512.Scheme().Encapsulate(pk)
	got, _ := mlkem512.Scheme().Decapsulate(sk, ct)
	if !bytes.Equal(raw, info.PublicKey.Bytes) || !bytes.Equal(got, secret) {
		t.Error("the data key pair's halves do not agree")
	}
}
