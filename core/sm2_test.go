package core_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"testing"

	tjsm2 "github.com/tjfoc/gmsm/sm2"
	tjx509 "github.com/tjfoc/gmsm/x509"

	"github.com/kmsless/kmsless/core"
)

// The judge of SM2 here is another implementation of it: tjfoc's, which
// reads the public keys, private keys, signatures and ciphertexts the
// service writes, and writes the ones the service reads.

// sm2Key makes an SM2 key for usage, imported from priv when it is not nil,
// and returns its ID.
func sm2Key(t *testing.T, s *core.Service, spec, usage string, priv *tjsm2.PrivateKey) string {
	t.Helper()
	p := core.Params{"KeySpec": spec, "KeyUsage": usage}
	if priv != nil {
		p["Origin"] = core.OriginExternal
	}
	id := createKey(t, s, p)
	if priv != nil {
		der, err := tjx509.MarshalSm2UnecryptedPrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := do(t, s, "ImportKeyMaterial", asymmetricImport(t, s, id, "RSAES_OAEP_SHA_256", "RSA_2048")(der)); err != nil {
			t.Fatalf("ImportKeyMaterial: %v", err)
		}
	}
	return id
}

// publicSM2 is an SM2 key's public key, as the judge reads it.
func publicSM2(t *testing.T, s *core.Service, id string) *tjsm2.PublicKey {
	t.Helper()
	out, err := do(t, s, "GetPublicKey", core.Params{"KeyId": id})
	if err != nil {
		t.Fatal(err)
	}
	pk := out.(core.PublicKey)
	if pk.KeySpec != "SM2" {
		t.Errorf("GetPublicKey: KeySpec %q", pk.KeySpec)
	}
	pub, err := tjx509.ParseSm2PublicKey(pk.DER)
	if err != nil || !pub.Curve.IsOnCurve(pub.X, pub.Y) {
		t.Fatalf("the judge reads no SM2 public key in GetPublicKey's answer: %v", err)
	}
	return pub
}

// sm2Digest is SM3(Z ‖ msg) under pub with the default ID, as the judge
// computes it, in 32 bytes.
func sm2Digest(t *testing.T, pub *tjsm2.PublicKey, msg []byte) []byte {
	t.Helper()
	d, err := pub.Sm3Digest(msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return append(make([]byte, 32-len(d)), d...)
}

// An SM2 signing key signs SM3(Z ‖ M), given as Digest or as the message
// itself, in signatures the judge verifies over the message with the
// default ID; and, imported from the judge's own private key, it verifies
// the judge's signatures.
func TestSM2KeysSignWhatAnotherImplementationVerifies(t *testing.T) {
	s, _ := memService(t, core.Config{})
	judgeKey, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("transfer 100 to account 42")
	for _, c := range []struct {
		name string
		priv *tjsm2.PrivateKey
	}{{"made here", nil}, {"imported", judgeKey}} {
		id := sm2Key(t, s, "EC_SM2", core.UsageSign, c.priv)
		pub := publicSM2(t, s, id)
		if c.priv != nil && (pub.X.Cmp(judgeKey.X) != 0 || pub.Y.Cmp(judgeKey.Y) != 0) {
			t.Fatalf("%s: the key's public key is not the imported key's", c.name)
		}
		out, err := do(t, s, "DescribeKey", core.Params{"KeyId": id})
		if err != nil {
			t.Fatal(err)
		}
		if algs := out.(core.Key).SigningAlgorithms(); len(algs) != 1 || algs[0] != "SM2DSA" {
			t.Errorf("%s: SigningAlgorithms %v", c.name, algs)
		}
		digest := sm2Digest(t, pub, msg)
		for _, p := range []core.Params{
			{"KeyId": id, "Algorithm": "SM2DSA", "Digest": base64.StdEncoding.EncodeToString(digest)},
			{"KeyId": id, "Algorithm": "SM2DSA", "Message": base64.StdEncoding.EncodeToString(msg)},
		} {
			out, err := do(t, s, "AsymmetricSign", p)
			if err != nil {
				t.Fatalf("%s: AsymmetricSign: %v", c.name, err)
			}
			sig := out.(core.Signature)
			if sig.Algorithm != "SM2DSA" || !pub.Verify(msg, sig.Value) {
				t.Errorf("%s: the judge does not verify the signature of %v", c.name, p)
			}
			if pub.Verify([]byte("transfer 900 to account 42"), sig.Value) {
				t.Errorf("%s: the judge verifies the signature over another message", c.name)
			}
			p["Value"] = base64.StdEncoding.EncodeToString(sig.Value)
			out, err = do(t, s, "AsymmetricVerify", p)
			if err != nil || !out.(core.SignatureChecked).Valid {
				t.Errorf("%s: AsymmetricVerify of its own signature: %v %v", c.name, out, err)
			}
		}
		if c.priv == nil {
			continue
		}
		theirs, err := judgeKey.Sign(rand.Reader, msg, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []core.Params{
			{"KeyId": id, "Algorithm": "SM2DSA", "Digest": base64.StdEncoding.EncodeToString(digest)},
			{"KeyId": id, "Algorithm": "SM2DSA", "Message": base64.StdEncoding.EncodeToString(msg)},
		} {
			p["Value"] = base64.StdEncoding.EncodeToString(theirs)
			out, err := do(t, s, "AsymmetricVerify", p)
			if err != nil || !out.(core.SignatureChecked).Valid {
				t.Errorf("AsymmetricVerify of the judge's signature %v: %v %v", p, out, err)
			}
			p["Message"], p["Digest"] = b64("another message"), base64.StdEncoding.EncodeToString(sm2Digest(t, pub, []byte("another message")))
			if out, err := do(t, s, "AsymmetricVerify", p); err != nil || out.(core.SignatureChecked).Valid {
				t.Errorf("AsymmetricVerify of the judge's signature over another message: %v %v", out, err)
			}
		}
		// A Digest is SM3's 32 bytes; SM2DSA is an SM2 key's only algorithm.
		_, err = do(t, s, "AsymmetricSign", core.Params{"KeyId": id, "Algorithm": "SM2DSA", "Digest": base64.StdEncoding.EncodeToString(digest[:20])})
		mustCode(t, err, core.CodeInvalidParameter)
		_, err = do(t, s, "AsymmetricSign", core.Params{"KeyId": id, "Algorithm": "SM2DSA"})
		mustCode(t, err, core.CodeMissingParameter)
		_, err = do(t, s, "AsymmetricSign", core.Params{"KeyId": id, "Algorithm": "ECDSA_SHA_256", "Digest": base64.StdEncoding.EncodeToString(digest)})
		mustCode(t, err, core.CodeInvalidKeyUsage)
	}
}

// sm2EncryptionKey is an SM2 encryption key imported into a new service
// with material the judge made: the service, the key's ID, the judge's
// private key and the public key as GetPublicKey gives it.
func sm2EncryptionKey(t *testing.T) (*core.Service, string, *tjsm2.PrivateKey, *tjsm2.PublicKey) {
	t.Helper()
	s, _ := memService(t, core.Config{})
	judgeKey, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := sm2Key(t, s, "SM2", core.UsageEncrypt, judgeKey)
	return s, id, judgeKey, publicSM2(t, s, id)
}

// A ciphertext whose C2 is all zeros, a plaintext equal to the key stream,
// is as valid as any other (GB/T 32918.4 refuses a zero key stream, not a
// zero C2), and opens. One SM2PKE ciphertext of one byte in 256 is such:
// the decryption of gmsm before v0.44 refused them.
func TestSM2OpensACiphertextWhoseC2IsZero(t *testing.T) {
	s, id, _, pub := sm2EncryptionKey(t)
	var parsed struct {
		X, Y         *big.Int
		Hash, Cipher []byte
	}
	for try := 0; ; try++ {
		if try == 10000 {
			t.Fatal("no ciphertext with a zero C2 in 10,000")
		}
		blob, err := pub.EncryptAsn1([]byte{0x5a}, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := asn1.Unmarshal(blob, &parsed); err != nil {
			t.Fatal(err)
		}
		if parsed.Cipher[0] != 0 {
			continue
		}
		opened, err := do(t, s, "AsymmetricDecrypt", core.Params{"KeyId": id, "Algorithm": "SM2PKE", "CiphertextBlob": base64.StdEncoding.EncodeToString(blob)})
		if err != nil || !bytes.Equal(opened.(core.Opened).Plaintext, []byte{0x5a}) {
			t.Fatalf("AsymmetricDecrypt of a ciphertext whose C2 is zero: %v", err)
		}
		return
	}
}

// An SM2 encryption key's SM2PKE ciphertexts, in GM/T 0009's ASN.1, open
// under the judge's SM2; it opens the judge's, ASN.1 or the plain
// C1 ‖ C3 ‖ C2, up to 6047 bytes of plaintext.
func TestSM2KeysEncryptWhatAnotherImplementationDecrypts(t *testing.T) {
	s, id, judgeKey, pub := sm2EncryptionKey(t)
	out, err := do(t, s, "DescribeKey", core.Params{"KeyId": id})
	if err != nil {
		t.Fatal(err)
	}
	if algs := out.(core.Key).EncryptionAlgorithms(); len(algs) != 1 || algs[0] != "SM2PKE" {
		t.Errorf("EncryptionAlgorithms %v", algs)
	}
	pt := make([]byte, core.MaxSM2Plaintext)
	rand.Read(pt)
	for _, n := range []int{1, 32, core.MaxSM2Plaintext} {
		out, err := do(t, s, "AsymmetricEncrypt", core.Params{"KeyId": id, "Algorithm": "SM2PKE", "Plaintext": base64.StdEncoding.EncodeToString(pt[:n])})
		if err != nil {
			t.Fatalf("AsymmetricEncrypt of %d bytes: %v", n, err)
		}
		blob := out.(core.Sealed).Blob
		got, err := judgeKey.DecryptAsn1(blob)
		if err != nil || !bytes.Equal(got, pt[:n]) {
			t.Fatalf("the judge does not open the ciphertext of %d bytes as GM/T 0009's ASN.1: %v", n, err)
		}
		opened, err := do(t, s, "AsymmetricDecrypt", core.Params{"KeyId": id, "Algorithm": "SM2PKE", "CiphertextBlob": base64.StdEncoding.EncodeToString(blob)})
		if err != nil || !bytes.Equal(opened.(core.Opened).Plaintext, pt[:n]) {
			t.Fatalf("AsymmetricDecrypt of its own ciphertext of %d bytes: %v", n, err)
		}
		asn1, err := pub.EncryptAsn1(pt[:n], rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := tjsm2.Encrypt(pub, pt[:n], rand.Reader, tjsm2.C1C3C2)
		if err != nil {
			t.Fatal(err)
		}
		for form, blob := range map[string][]byte{"ASN.1": asn1, "C1C3C2": plain} {
			opened, err := do(t, s, "AsymmetricDecrypt", core.Params{"KeyId": id, "Algorithm": "SM2PKE", "CiphertextBlob": base64.StdEncoding.EncodeToString(blob)})
			if err != nil || !bytes.Equal(opened.(core.Opened).Plaintext, pt[:n]) {
				t.Errorf("AsymmetricDecrypt of the judge's %s ciphertext of %d bytes: %v", form, n, err)
			}
			blob[len(blob)-1] ^= 1
			_, err = do(t, s, "AsymmetricDecrypt", core.Params{"KeyId": id, "Algorithm": "SM2PKE", "CiphertextBlob": base64.StdEncoding.EncodeToString(blob)})
			mustCode(t, err, core.CodeInvalidCiphertext)
		}
	}
	_, err = do(t, s, "AsymmetricEncrypt", core.Params{"KeyId": id, "Algorithm": "SM2PKE", "Plaintext": base64.StdEncoding.EncodeToString(append(pt, 0))})
	mustCode(t, err, core.CodeInvalidParameter)
	_, err = do(t, s, "AsymmetricEncrypt", core.Params{"KeyId": id, "Algorithm": "RSAES_OAEP_SHA_256", "Plaintext": b64("x")})
	mustCode(t, err, core.CodeInvalidKeyUsage)
	_, err = do(t, s, "AsymmetricSign", core.Params{"KeyId": id, "Algorithm": "SM2DSA", "Message": b64("x")})
	mustCode(t, err, core.CodeInvalidKeyUsage)
}

// An SM2 key agreement key derives, with the judge's SM2 public key, the
// x-coordinate of the point the judge derives with the key's public key; a
// NIST curve's public key is another curve's.
func TestSM2KeyAgreementDerivesWhatThePeerDerives(t *testing.T) {
	s, _ := memService(t, core.Config{})
	id := sm2Key(t, s, "SM2", core.UsageKeyAgreement, nil)
	pub := publicSM2(t, s, id)
	peer, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	peerDER, err := tjx509.MarshalSm2PublicKey(&peer.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	out, err := do(t, s, "DeriveSharedSecret", core.Params{"KeyId": id, "KeyAgreementAlgorithm": "ECDH", "PublicKey": base64.StdEncoding.EncodeToString(peerDER)})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := pub.Curve.ScalarMult(pub.X, pub.Y, peer.D.Bytes())
	if want := x.FillBytes(make([]byte, 32)); !bytes.Equal(out.(core.SharedSecret).Secret, want) {
		t.Errorf("the secret is not the x-coordinate the peer derives")
	}
	nist, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	nistDER, _ := x509.MarshalPKIXPublicKey(&nist.PublicKey)
	_, err = do(t, s, "DeriveSharedSecret", core.Params{"KeyId": id, "KeyAgreementAlgorithm": "ECDH", "PublicKey": base64.StdEncoding.EncodeToString(nistDER)})
	mustCode(t, err, core.CodeInvalidParameter)
	p256 := sm2Key(t, s, "ECC_NIST_P256", core.UsageKeyAgreement, nil)
	_, err = do(t, s, "DeriveSharedSecret", core.Params{"KeyId": p256, "KeyAgreementAlgorithm": "ECDH", "PublicKey": base64.StdEncoding.EncodeToString(peerDER)})
	mustCode(t, err, core.CodeInvalidParameter)
	bad := bytes.Clone(peerDER)
	bad[len(bad)-1] ^= 1 // off the curve
	_, err = do(t, s, "DeriveSharedSecret", core.Params{"KeyId": id, "KeyAgreementAlgorithm": "ECDH", "PublicKey": base64.StdEncoding.EncodeToString(bad)})
	mustCode(t, err, core.CodeInvalidParameter)
}

// An SM2 data key pair's PKCS #8 and public key are the judge's to read,
// and are one key.
func TestSM2DataKeyPairs(t *testing.T) {
	s, _ := memService(t, core.Config{})
	out, err := do(t, s, "GenerateDataKeyPair", core.Params{"KeyId": createKey(t, s, core.Params{}), "KeyPairSpec": "SM2"})
	if err != nil {
		t.Fatal(err)
	}
	pair := out.(core.DataKeyPair)
	priv, err := tjx509.ParsePKCS8UnecryptedPrivateKey(pair.PrivateKey)
	if err != nil {
		t.Fatalf("the judge reads no SM2 private key: %v", err)
	}
	pub, err := tjx509.ParseSm2PublicKey(pair.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if pub.X.Cmp(priv.X) != 0 || pub.Y.Cmp(priv.Y) != 0 {
		t.Error("the private key is not the public key's")
	}
	sig, err := priv.Sign(rand.Reader, []byte("m"), nil)
	if err != nil || !pub.Verify([]byte("m"), sig) {
		t.Errorf("the pair does not sign: %v", err)
	}
}

// ExportDataKey and GenerateAndExportDataKey with WrappingKeySpec EC_SM2
// encrypt the data key under the caller's SM2 public key, as SM2PKE, for
// the judge to open.
func TestDataKeysExportUnderSM2(t *testing.T) {
	s, _ := memService(t, core.Config{})
	id := createKey(t, s, core.Params{})
	module, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := tjx509.MarshalSm2PublicKey(&module.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	wrap := core.Params{"WrappingKeySpec": "EC_SM2", "WrappingAlgorithm": "SM2PKE", "PublicKeyBlob": base64.StdEncoding.EncodeToString(der)}
	with := func(p core.Params) core.Params {
		for k, v := range wrap {
			p[k] = v
		}
		return p
	}
	out, err := do(t, s, "GenerateAndExportDataKey", with(core.Params{"KeyId": id}))
	if err != nil {
		t.Fatal(err)
	}
	both := out.(core.SealedAndExported)
	dk, err := module.DecryptAsn1(both.ExportedKey)
	if err != nil || len(dk) != 32 {
		t.Fatalf("the module does not open the exported key: %v", err)
	}
	opened, err := do(t, s, "Decrypt", core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(both.Blob)})
	if err != nil || !bytes.Equal(opened.(core.Opened).Plaintext, dk) {
		t.Fatalf("the exported key is not the sealed one: %v", err)
	}
	out, err = do(t, s, "ExportDataKey", with(core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(both.Blob)}))
	if err != nil {
		t.Fatal(err)
	}
	if again, err := module.DecryptAsn1(out.(core.Exported).ExportedKey); err != nil || !bytes.Equal(again, dk) {
		t.Errorf("ExportDataKey: the module opens another key: %v", err)
	}
	nist, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	nistDER, _ := x509.MarshalPKIXPublicKey(&nist.PublicKey)
	for _, p := range []core.Params{
		{"WrappingAlgorithm": "RSAES_OAEP_SHA_256"},
		{"PublicKeyBlob": base64.StdEncoding.EncodeToString(nistDER)},
		{"WrappingKeySpec": "RSA_2048"},
	} {
		bad := with(core.Params{"KeyId": id})
		for k, v := range p {
			bad[k] = v
		}
		_, err := do(t, s, "GenerateAndExportDataKey", bad)
		mustCode(t, err, core.CodeInvalidParameter)
	}
}

// Key material wrapped under an SM2 wrapping key with SM2PKE, by the
// judge, in GM/T 0009's ASN.1 or as C1 ‖ C3 ‖ C2, imports into a symmetric
// key and into an SM2 key alike, by either cloud's name of the spec. SM2PKE
// pairs with SM2 wrapping keys only.
func TestMaterialImportsUnderSM2Wrapping(t *testing.T) {
	s, _ := memService(t, core.Config{})
	wrapFor := func(id, spec string) (*tjsm2.PublicKey, string) {
		t.Helper()
		out, err := do(t, s, "GetParametersForImport", core.Params{"KeyId": id, "WrappingAlgorithm": "SM2PKE", "WrappingKeySpec": spec})
		if err != nil {
			t.Fatalf("GetParametersForImport SM2PKE %s: %v", spec, err)
		}
		p := out.(core.ImportParameters)
		pub, err := tjx509.ParseSm2PublicKey(p.PublicKey)
		if err != nil || !pub.Curve.IsOnCurve(pub.X, pub.Y) {
			t.Fatalf("the judge reads no SM2 wrapping key: %v", err)
		}
		return pub, p.Token
	}
	material := make([]byte, 32)
	rand.Read(material)
	for _, c := range []struct{ spec, mode string }{{"EC_SM2", "ASN.1"}, {"SM2", "C1C3C2"}} {
		id := createKey(t, s, core.Params{"Origin": core.OriginExternal})
		pub, token := wrapFor(id, c.spec)
		var wrapped []byte
		var err error
		if c.mode == "ASN.1" {
			wrapped, err = pub.EncryptAsn1(material, rand.Reader)
		} else {
			wrapped, err = tjsm2.Encrypt(pub, material, rand.Reader, tjsm2.C1C3C2)
		}
		if err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(wrapped)
		bad[len(bad)-1] ^= 1
		_, err = do(t, s, "ImportKeyMaterial", core.Params{"KeyId": id, "ImportToken": token, "EncryptedKeyMaterial": base64.StdEncoding.EncodeToString(bad)})
		mustCode(t, err, core.CodeInvalidKeyMaterial)
		if _, err := do(t, s, "ImportKeyMaterial", core.Params{"KeyId": id, "ImportToken": token, "EncryptedKeyMaterial": base64.StdEncoding.EncodeToString(wrapped)}); err != nil {
			t.Fatalf("ImportKeyMaterial under %s (%s): %v", c.spec, c.mode, err)
		}
		sealed, err := do(t, s, "Encrypt", core.Params{"KeyId": id, "Plaintext": b64("imported")})
		if err != nil {
			t.Fatalf("Encrypt under the imported material: %v", err)
		}
		// The blob is AES-GCM under the material itself: the judge of the
		// import is that the material opens it.
		blob, err := core.ParseBlob(sealed.(core.Sealed).Blob)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := aes.NewCipher(material)
		gcm, _ := cipher.NewGCM(block)
		env, err := core.NewEnvelope(gcm, id, sealed.(core.Sealed).VersionID)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := env.Open(blob, nil); err != nil || string(got) != "imported" {
			t.Errorf("the key does not seal under the material the judge wrapped: %v", err)
		}
	}

	judgeKey, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := tjx509.MarshalSm2UnecryptedPrivateKey(judgeKey)
	if err != nil {
		t.Fatal(err)
	}
	id := createKey(t, s, core.Params{"KeySpec": "EC_SM2", "KeyUsage": core.UsageSign, "Origin": core.OriginExternal})
	pub, token := wrapFor(id, "EC_SM2")
	wrapped, err := pub.EncryptAsn1(der, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := do(t, s, "ImportKeyMaterial", core.Params{"KeyId": id, "ImportToken": token, "EncryptedKeyMaterial": base64.StdEncoding.EncodeToString(wrapped)}); err != nil {
		t.Fatalf("ImportKeyMaterial of an SM2 private key under SM2PKE: %v", err)
	}
	if got := publicSM2(t, s, id); got.X.Cmp(judgeKey.X) != 0 || got.Y.Cmp(judgeKey.Y) != 0 {
		t.Error("the key's public key is not the imported key's")
	}

	for _, p := range []core.Params{
		{"WrappingAlgorithm": "SM2PKE", "WrappingKeySpec": "RSA_2048"},
		{"WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "EC_SM2"},
		{"WrappingAlgorithm": "SM2PKE", "WrappingKeySpec": "SM9"},
	} {
		p["KeyId"] = id
		_, err := do(t, s, "GetParametersForImport", p)
		mustCode(t, err, core.CodeInvalidParameter)
	}
}

// ecPKCS8 and ecInner are PKCS #8's and SEC 1's structures, as far as a
// test rewrites an EC private key's scalar in them.
type ecPKCS8 struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
}

type ecInner struct {
	Version    int
	PrivateKey []byte
	NamedCurve asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey  asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

// withScalar is the PKCS #8 der with its EC private key's scalar written
// as scalar.
func withScalar(t *testing.T, der, scalar []byte) []byte {
	t.Helper()
	var outer ecPKCS8
	var inner ecInner
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(outer.PrivateKey, &inner); err != nil {
		t.Fatal(err)
	}
	inner.PrivateKey = scalar
	b, err := asn1.Marshal(inner)
	if err != nil {
		t.Fatal(err)
	}
	outer.PrivateKey = b
	if b, err = asn1.Marshal(outer); err != nil {
		t.Fatal(err)
	}
	return b
}

// An SM2 private key whose scalar is below 2^248 imports as tjfoc writes
// it, one in 256 keys, with the leading zero byte dropped, and with a zero
// byte too many; a scalar of 33 bytes that do not start with zero is no
// key of the curve's.
func TestSM2KeysImportScalarsOfAnyLength(t *testing.T) {
	s, _ := memService(t, core.Config{})
	var judgeKey *tjsm2.PrivateKey
	for judgeKey == nil || judgeKey.D.BitLen() > 248 {
		var err error
		if judgeKey, err = tjsm2.GenerateKey(rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	der, err := tjx509.MarshalSm2UnecryptedPrivateKey(judgeKey)
	if err != nil {
		t.Fatal(err)
	}
	d := judgeKey.D.Bytes()
	if len(d) >= 32 || !bytes.Equal(withScalar(t, der, d), der) {
		t.Fatalf("the judge wrote the scalar of %d bytes in full", len(d))
	}
	padded := append(make([]byte, 33-len(d)), d...)
	for name, material := range map[string][]byte{"short": der, "padded": withScalar(t, der, padded)} {
		id := createKey(t, s, core.Params{"KeySpec": "EC_SM2", "KeyUsage": core.UsageSign, "Origin": core.OriginExternal})
		if _, err := do(t, s, "ImportKeyMaterial", asymmetricImport(t, s, id, "RSAES_OAEP_SHA_256", "RSA_2048")(material)); err != nil {
			t.Fatalf("%s: ImportKeyMaterial: %v", name, err)
		}
		if pub := publicSM2(t, s, id); pub.X.Cmp(judgeKey.X) != 0 || pub.Y.Cmp(judgeKey.Y) != 0 {
			t.Errorf("%s: the key's public key is not the imported key's", name)
		}
	}
	padded[0] = 1
	id := createKey(t, s, core.Params{"KeySpec": "EC_SM2", "KeyUsage": core.UsageSign, "Origin": core.OriginExternal})
	if _, err := do(t, s, "ImportKeyMaterial", asymmetricImport(t, s, id, "RSAES_OAEP_SHA_256", "RSA_2048")(withScalar(t, der, padded))); code(err) != core.CodeInvalidKeyMaterial {
		t.Errorf("a 33-byte scalar: %v, want %s", err, core.CodeInvalidKeyMaterial)
	}
}
