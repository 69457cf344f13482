package core_test

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
)

// kwpWrap is RFC 5649's key wrap with padding, written from the RFC for the
// tests, as an importer's tools do it.
func kwpWrap(kek, key []byte) []byte {
	block, err := aes.NewCipher(kek)
	if err != nil {
		panic(err)
	}
	padded := make([]byte, (len(key)+7)/8*8)
	copy(padded, key)
	a := make([]byte, 8)
	binary.BigEndian.PutUint32(a, 0xa65959a6)
	binary.BigEndian.PutUint32(a[4:], uint32(len(key)))
	n := len(padded) / 8
	if n == 1 {
		out := make([]byte, 16)
		block.Encrypt(out, append(a, padded...))
		return out
	}
	r := padded
	var b [16]byte
	for j := 0; j <= 5; j++ {
		for i := 1; i <= n; i++ {
			copy(b[:8], a)
			copy(b[8:], r[8*(i-1):8*i])
			block.Encrypt(b[:], b[:])
			binary.BigEndian.PutUint64(a, binary.BigEndian.Uint64(b[:8])^uint64(n*j+i))
			copy(r[8*(i-1):8*i], b[8:])
		}
	}
	return append(a, r...)
}

// The test's key wrap is RFC 5649's: it makes the RFC's examples.
func TestKWPWrapOfTheTestsIsRFC5649s(t *testing.T) {
	kek, _ := hex.DecodeString("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")
	for key, want := range map[string]string{
		"c37b7e6492584340bed12207808941155068f738": "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
		"466f7250617369": "afbeb0f07dfbf5419200f2ccb50bb24f",
	} {
		k, _ := hex.DecodeString(key)
		if got := hex.EncodeToString(kwpWrap(kek, k)); got != want {
			t.Errorf("wrap %s = %s, want %s", key, got, want)
		}
	}
}

// asymmetricImport asks for a token of alg and spec for the EXTERNAL key id
// and returns ImportKeyMaterial's parameters for the PKCS #8 der wrapped
// under it, as AWS's importers wrap a private key.
func asymmetricImport(t *testing.T, s *core.Service, id, alg, spec string) func(der []byte) core.Params {
	t.Helper()
	out, err := do(t, s, "GetParametersForImport", core.Params{"KeyId": id, "WrappingAlgorithm": alg, "WrappingKeySpec": spec})
	if err != nil {
		t.Fatalf("GetParametersForImport %s %s: %v", alg, spec, err)
	}
	p := out.(core.ImportParameters)
	parsed, err := x509.ParsePKIXPublicKey(p.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := parsed.(*rsa.PublicKey)
	return func(der []byte) core.Params {
		var h hash.Hash = sha256.New()
		if alg == "RSA_AES_KEY_WRAP_SHA_1" {
			h = sha1.New()
		}
		var w []byte
		if alg == "RSAES_OAEP_SHA_256" {
			w, err = rsa.EncryptOAEP(h, rand.Reader, pub, der, nil)
		} else {
			kek := make([]byte, 32)
			rand.Read(kek)
			w, err = rsa.EncryptOAEP(h, rand.Reader, pub, kek, nil)
			w = append(w, kwpWrap(kek, der)...)
		}
		if err != nil {
			t.Fatal(err)
		}
		return core.Params{"KeyId": id, "ImportToken": p.Token, "EncryptedKeyMaterial": base64.StdEncoding.EncodeToString(w)}
	}
}

// An asymmetric key of Origin EXTERNAL takes the importer's own private
// key, wrapped under RSA-OAEP where it fits or RSA_AES_KEY_WRAP, and then
// hands out its public key and signs as the importer's key does. Material
// of another kind or size, another key once it has one, and PKCS #1 v1.5
// wrapping are refused.
func TestAsymmetricKeysImportTheirPrivateKey(t *testing.T) {
	s, _ := memService(t, core.Config{})
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	d := sha256.Sum256([]byte("m"))
	for _, c := range []struct {
		spec, usage, alg, wrapSpec string
		priv                       crypto.Signer
		signing                    string
	}{
		{"ECC_NIST_P256", core.UsageSign, "RSAES_OAEP_SHA_256", "RSA_2048", p256, "ECDSA_SHA_256"},
		{"ECC_NIST_P521", core.UsageKeyAgreement, "RSA_AES_KEY_WRAP_SHA_256", "RSA_3072", p521, ""},
		{"ECC_NIST_EDWARDS25519", core.UsageSign, "RSAES_OAEP_SHA_256", "RSA_2048", ed, "ED25519_SHA_512"},
		{"RSA_2048", core.UsageSign, "RSA_AES_KEY_WRAP_SHA_1", "RSA_2048", rsaKey, "RSA_PKCS1_SHA_256"},
	} {
		out, err := do(t, s, "CreateKey", core.Params{"KeySpec": c.spec, "KeyUsage": c.usage, "Origin": core.OriginExternal})
		if err != nil {
			t.Fatalf("CreateKey %s: %v", c.spec, err)
		}
		k := out.(core.Key)
		if k.State != core.KeyPendingImport {
			t.Fatalf("%s: state %s", c.spec, k.State)
		}
		if _, err := do(t, s, "GetPublicKey", core.Params{"KeyId": k.ID}); code(err) != core.CodePendingImport {
			t.Errorf("%s: GetPublicKey before the import: %v", c.spec, err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(c.priv)
		if err != nil {
			t.Fatal(err)
		}
		request := asymmetricImport(t, s, k.ID, c.alg, c.wrapSpec)
		if _, err := do(t, s, "ImportKeyMaterial", request(der)); err != nil {
			t.Fatalf("%s: ImportKeyMaterial: %v", c.spec, err)
		}
		out, err = do(t, s, "GetPublicKey", core.Params{"KeyId": k.ID})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := x509.MarshalPKIXPublicKey(c.priv.Public())
		if !bytes.Equal(out.(core.PublicKey).DER, want) {
			t.Errorf("%s: the public key is not the imported key's", c.spec)
		}
		if c.signing != "" {
			p := core.Params{"KeyId": k.ID, "Algorithm": c.signing, "Digest": base64.StdEncoding.EncodeToString(d[:])}
			if c.signing == "ED25519_SHA_512" {
				p = core.Params{"KeyId": k.ID, "Algorithm": c.signing, "Message": b64("m")}
			}
			out, err := do(t, s, "AsymmetricSign", p)
			if err != nil {
				t.Fatalf("%s: AsymmetricSign: %v", c.spec, err)
			}
			sig := out.(core.Signature).Value
			var ok bool
			switch pub := c.priv.Public().(type) {
			case *ecdsa.PublicKey:
				ok = ecdsa.VerifyASN1(pub, d[:], sig)
			case ed25519.PublicKey:
				ok = ed25519.Verify(pub, []byte("m"), sig)
			case *rsa.PublicKey:
				ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) == nil
			}
			if !ok {
				t.Errorf("%s: the imported key's public key does not verify the signature", c.spec)
			}
		}
		// The same key imports again; another does not.
		if _, err := do(t, s, "ImportKeyMaterial", request(der)); err != nil {
			t.Errorf("%s: the same key again: %v", c.spec, err)
		}
		other, _ := x509.MarshalPKCS8PrivateKey(p256)
		if c.spec == "ECC_NIST_P256" {
			other, _ = x509.MarshalPKCS8PrivateKey(ed)
		}
		if _, err := do(t, s, "ImportKeyMaterial", request(other)); code(err) != core.CodeInvalidKeyMaterial {
			t.Errorf("%s: another key: %v, want %s", c.spec, err, core.CodeInvalidKeyMaterial)
		}
	}
	// Material of another kind into a key pending import, and garbage.
	out, err := do(t, s, "CreateKey", core.Params{"KeySpec": "ECC_NIST_P384", "Origin": core.OriginExternal})
	if err != nil {
		t.Fatal(err)
	}
	id := out.(core.Key).ID
	request := asymmetricImport(t, s, id, "RSA_AES_KEY_WRAP_SHA_256", "RSA_2048")
	p256der, _ := x509.MarshalPKCS8PrivateKey(p256)
	for _, m := range [][]byte{p256der, []byte("not a private key"), make([]byte, 32)} {
		if _, err := do(t, s, "ImportKeyMaterial", request(m)); code(err) != core.CodeInvalidKeyMaterial || !strings.Contains(err.Error(), "PKCS #8 private key of KeySpec ECC_NIST_P384") {
			t.Errorf("ECC_NIST_P384 given %d bytes of another kind: %v, want %s naming the kind", len(m), err, core.CodeInvalidKeyMaterial)
		}
	}
	// Wrapped wrongly, the answer names what was wanted too.
	bad := request(p256der)
	bad["EncryptedKeyMaterial"] = base64.StdEncoding.EncodeToString(make([]byte, 300))
	if _, err := do(t, s, "ImportKeyMaterial", bad); code(err) != core.CodeInvalidKeyMaterial || !strings.Contains(err.Error(), "PKCS #8") {
		t.Errorf("material that does not unwrap: %v", err)
	}
	if _, err := do(t, s, "GetParametersForImport", core.Params{"KeyId": id, "WrappingAlgorithm": "RSAES_PKCS1_V1_5", "WrappingKeySpec": "RSA_2048"}); code(err) != core.CodeInvalidParameter {
		t.Errorf("PKCS #1 v1.5 for an asymmetric key: %v", err)
	}
}
