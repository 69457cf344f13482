package core_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/kmsless/kmsless/core"
)

// A secp256k1 key, made under AWS's name or Alibaba's, hands out an RFC
// 5480 public key on the curve's OID and signs digests that Go's own
// generic ECDSA verifies on decred's description of the curve; its
// signatures have the low S that Bitcoin and Ethereum require, and
// AsymmetricVerify takes a valid signature with a high S as well, as any
// ECDSA verifier does.
func TestSecp256k1KeysSignWhatOtherECDSAVerifies(t *testing.T) {
	s, _ := memService(t, core.Config{})
	out, err := do(t, s, "CreateKey", core.Params{"KeySpec": "EC_P256K"})
	if err != nil {
		t.Fatal(err)
	}
	k := out.(core.Key)
	if k.KeySpec != "ECC_SECG_P256K1" || core.AlibabaKeySpec(k.KeySpec) != "EC_P256K" || k.KeyUsage != core.UsageSign {
		t.Fatalf("made %s (%s) for %s", k.KeySpec, core.AlibabaKeySpec(k.KeySpec), k.KeyUsage)
	}
	out, err = do(t, s, "GetPublicKey", core.Params{"KeyId": k.ID})
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(out.(core.PublicKey).DER, &info); err != nil || len(rest) > 0 {
		t.Fatalf("SubjectPublicKeyInfo: %v", err)
	}
	var curve asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &curve); err != nil ||
		!info.Algorithm.Algorithm.Equal(asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}) || !curve.Equal(asn1.ObjectIdentifier{1, 3, 132, 0, 10}) {
		t.Fatalf("algorithm %v, curve %v: %v", info.Algorithm.Algorithm, curve, err)
	}
	point, err := secp256k1.ParsePubKey(info.PublicKey.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pub := &ecdsa.PublicKey{Curve: secp256k1.S256(), X: point.X(), Y: point.Y()}
	d := sha256.Sum256([]byte("transfer 1 ETH"))
	digest := base64.StdEncoding.EncodeToString(d[:])
	out, err = do(t, s, "AsymmetricSign", core.Params{"KeyId": k.ID, "Algorithm": "ECDSA_SHA_256", "Digest": digest})
	if err != nil {
		t.Fatal(err)
	}
	sig := out.(core.Signature).Value
	if !ecdsa.VerifyASN1(pub, d[:], sig) {
		t.Fatal("Go's ECDSA does not verify the signature")
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(sig, &rs); err != nil {
		t.Fatal(err)
	}
	n := secp256k1.S256().Params().N
	if rs.S.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		t.Errorf("S is high: %x", rs.S)
	}
	high, err := asn1.Marshal(struct{ R, S *big.Int }{rs.R, new(big.Int).Sub(n, rs.S)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		digest string
		sig    []byte
		valid  bool
	}{{digest, sig, true}, {digest, high, true}, {base64.StdEncoding.EncodeToString(make([]byte, 32)), sig, false}} {
		out, err := do(t, s, "AsymmetricVerify", core.Params{"KeyId": k.ID, "Algorithm": "ECDSA_SHA_256", "Digest": c.digest,
			"Value": base64.StdEncoding.EncodeToString(c.sig)})
		if err != nil || out.(core.SignatureChecked).Valid != c.valid {
			t.Errorf("AsymmetricVerify %x: %v %v, want %v", c.sig, out, err, c.valid)
		}
	}
	for _, p := range []core.Params{
		{"KeySpec": "ECC_SECG_P256K1", "KeyUsage": core.UsageKeyAgreement},
		{"KeySpec": "ECC_SECG_P256K1", "KeyUsage": core.UsageEncrypt},
	} {
		if _, err := do(t, s, "CreateKey", p); code(err) != core.CodeInvalidParameter {
			t.Errorf("CreateKey %v: %v, want %s", p, err, core.CodeInvalidParameter)
		}
	}
	if _, err := do(t, s, "AsymmetricSign", core.Params{"KeyId": k.ID, "Algorithm": "ECDSA_SHA_384", "Digest": base64.StdEncoding.EncodeToString(make([]byte, 48))}); code(err) != core.CodeInvalidKeyUsage {
		t.Errorf("ECDSA_SHA_384: %v", err)
	}
}
