package core_test

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"

	"github.com/kmsless/kmsless/core"
)

// An ML-DSA key hands out an RFC 9881 public key on its parameter set's
// OID and signs a message whole, which the public key verifies outside the
// service; AsymmetricVerify agrees, and says false of another message. Its
// signatures are hedged: the same message signed twice gives two.
func TestMLDSAKeysSignTheMessage(t *testing.T) {
	s, _ := memService(t, core.Config{})
	verifiers := map[string]func(pub, msg, sig []byte) bool{
		"ML_DSA_44": func(pub, msg, sig []byte) bool {
			var pk mldsa44.PublicKey
			return pk.UnmarshalBinary(pub) == nil && mldsa44.Verify(&pk, msg, nil, sig)
		},
		"ML_DSA_65": func(pub, msg, sig []byte) bool {
			var pk mldsa65.PublicKey
			return pk.UnmarshalBinary(pub) == nil && mldsa65.Verify(&pk, msg, nil, sig)
		},
		"ML_DSA_87": func(pub, msg, sig []byte) bool {
			var pk mldsa87.PublicKey
			return pk.UnmarshalBinary(pub) == nil && mldsa87.Verify(&pk, msg, nil, sig)
		},
	}
	oids := map[string]int{"ML_DSA_44": 17, "ML_DSA_65": 18, "ML_DSA_87": 19}
	msg := base64.StdEncoding.EncodeToString([]byte("firmware 4.2"))
	for spec, verify := range verifiers {
		out, err := do(t, s, "CreateKey", core.Params{"KeySpec": spec})
		if err != nil {
			t.Fatalf("CreateKey %s: %v", spec, err)
		}
		k := out.(core.Key)
		if got := k.SigningAlgorithms(); k.KeyUsage != core.UsageSign || len(got) != 1 || got[0] != "ML_DSA_SHAKE_256" {
			t.Fatalf("%s: made for %s with %v", spec, k.KeyUsage, got)
		}
		out, err = do(t, s, "GetPublicKey", core.Params{"KeyId": k.ID})
		if err != nil {
			t.Fatal(err)
		}
		var info struct {
			Algorithm pkix.AlgorithmIdentifier
			PublicKey asn1.BitString
		}
		if rest, err := asn1.Unmarshal(out.(core.PublicKey).DER, &info); err != nil || len(rest) > 0 ||
			!info.Algorithm.Algorithm.Equal(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, oids[spec]}) || len(info.Algorithm.Parameters.FullBytes) > 0 {
			t.Fatalf("%s: SubjectPublicKeyInfo %v: %v", spec, info.Algorithm, err)
		}
		var sigs [2][]byte
		for i := range sigs {
			out, err = do(t, s, "AsymmetricSign", core.Params{"KeyId": k.ID, "Algorithm": "ML_DSA_SHAKE_256", "Message": msg})
			if err != nil {
				t.Fatalf("%s: AsymmetricSign: %v", spec, err)
			}
			sigs[i] = out.(core.Signature).Value
			if !verify(info.PublicKey.Bytes, []byte("firmware 4.2"), sigs[i]) {
				t.Errorf("%s: the public key does not verify the signature", spec)
			}
		}
		if string(sigs[0]) == string(sigs[1]) {
			t.Errorf("%s: two signatures of one message are the same", spec)
		}
		value := base64.StdEncoding.EncodeToString(sigs[0])
		out, err = do(t, s, "AsymmetricVerify", core.Params{"KeyId": k.ID, "Algorithm": "ML_DSA_SHAKE_256", "Message": msg, "Value": value})
		if err != nil || !out.(core.SignatureChecked).Valid {
			t.Errorf("%s: AsymmetricVerify: %v %v", spec, out, err)
		}
		out, err = do(t, s, "AsymmetricVerify", core.Params{"KeyId": k.ID, "Algorithm": "ML_DSA_SHAKE_256", "Message": b64("other"), "Value": value})
		if err != nil || out.(core.SignatureChecked).Valid {
			t.Errorf("%s: AsymmetricVerify of another message: %v %v", spec, out, err)
		}
	}
	for _, c := range []struct {
		action string
		p      core.Params
		want   string
	}{
		{"CreateKey", core.Params{"KeySpec": "ML_DSA_65", "KeyUsage": core.UsageEncrypt}, core.CodeInvalidParameter},
		{"CreateKey", core.Params{"KeySpec": "ML_DSA_65", "KeyUsage": core.UsageKeyAgreement}, core.CodeInvalidParameter},
		{"GenerateDataKeyPair", core.Params{"KeyId": "alias/none", "KeyPairSpec": "ML_DSA_65"}, core.CodeInvalidParameter},
	} {
		if _, err := do(t, s, c.action, c.p); code(err) != c.want {
			t.Errorf("%s %v: %v, want %s", c.action, c.p, err, c.want)
		}
	}
}
