package core

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm2"
)

// A data key pair is an asymmetric key pair made for the caller, whose
// private key, in PKCS #8, is sealed under a symmetric key as Encrypt would
// seal it: Decrypt opens it like any other blob. GenerateDataKeyPair also
// returns the private key; GenerateDataKeyPairWithoutPlaintext returns only
// the public key and the blob, for a caller that verifies or encrypts now
// and leaves signing or decrypting to whoever may later call Decrypt.

// keyPairSpec is a spec of asymmetric key this service makes: an RSA
// modulus size, a NIST curve, secp256k1, SM2, Ed25519, or an ML-DSA or
// ML-KEM parameter set.
type keyPairSpec struct {
	name  string
	bits  int            // RSA
	curve elliptic.Curve // ECDSA on a NIST curve
	k1    bool           // ECDSA on secp256k1
	sm2   bool           // SM2
	mldsa *mldsaSpec     // ML-DSA
	mlkem *mlkemSpec     // ML-KEM
}

// keyPairSpecs lists the specs data key pairs are made in; the one with
// none of the kinds' fields is Ed25519.
var keyPairSpecs = []keyPairSpec{
	{name: "RSA_2048", bits: 2048},
	{name: "RSA_3072", bits: 3072},
	{name: "RSA_4096", bits: 4096},
	{name: "ECC_NIST_P256", curve: elliptic.P256()},
	{name: "ECC_NIST_P384", curve: elliptic.P384()},
	{name: "ECC_NIST_P521", curve: elliptic.P521()},
	{name: "ECC_SECG_P256K1", k1: true},
	{name: "SM2", sm2: true},
	{name: "ECC_NIST_EDWARDS25519"},
	{name: "ML_KEM_512", mlkem: &mlkem512Spec},
	{name: "ML_KEM_768", mlkem: &mlkem768Spec},
	{name: "ML_KEM_1024", mlkem: &mlkem1024Spec},
}

// KeyPairSpecs returns the names of the KeyPairSpec values this service makes.
func KeyPairSpecs() []string {
	out := make([]string, len(keyPairSpecs))
	for i, s := range keyPairSpecs {
		out[i] = s.name
	}
	return out
}

// RSAKeyLimits bounds the RSA key pairs each caller may have made, wrapping
// keys (GetParametersForImport) and data key pairs together, by modulus
// size. An RSA key takes about 65 ms of CPU to make at 2048 bits, 0.25 s at
// 3072 and 0.8 s at 4096, the work of thousands of data keys, so a caller's
// request rate alone would let one caller keep every CPU of an instance busy
// and other callers waiting. Each size's bucket holds about 1% of a core, a
// caller's three about 4%: at most 10 keys a minute at 2048 bits, 3 at 3072,
// 1 at 4096. A size without a bucket is made for no one. ECC keys take under
// a millisecond and spend only the request rate.
var RSAKeyLimits = map[int]Limit{
	2048: {Rate: 10, Burst: 10, Period: time.Minute},
	3072: {Rate: 3, Burst: 3, Period: time.Minute},
	4096: {Rate: 1, Burst: 1, Period: time.Minute},
}

// newRSAKey makes an RSA key of bits for the caller, once its bucket for
// that size admits one.
func (c *call) newRSAKey(bits int) (*rsa.PrivateKey, error) {
	lim, ok := RSAKeyLimits[bits]
	if !ok || lim.Rate <= 0 {
		// A zero Limit would admit every request: refused, not made unbounded.
		return nil, internal("no limit on %d-bit RSA keys", bits)
	}
	key := fmt.Sprintf("rsa-keys-%d:%s", bits, c.req.Caller.AccessKeyID)
	if err := c.s.spend(c.ctx, key, lim); err != nil {
		return nil, err
	}
	priv, err := rsa.GenerateKey(c.s.rand, bits)
	if err != nil {
		return nil, internal("RSA key: %w", err)
	}
	return priv, nil
}

func (c *call) generateDataKeyPair() (any, error) { return c.dataKeyPair(true) }

func (c *call) generateDataKeyPairWithoutPlaintext() (any, error) { return c.dataKeyPair(false) }

// dataKeyPair makes a key pair of the KeyPairSpec asked for and seals its
// private key under KeyId's primary version, which is loaded first, so that
// no key is made for a request that cannot be answered. The private key's
// DER is cleared unless it is returned (the adapter then clears it once
// encoded). What this code cannot reach stays for the collector: the key's
// own big integers, the intermediate DER that x509 builds, and the base64
// string the Alibaba adapter makes, as for a data key.
func (c *call) dataKeyPair(withPlaintext bool) (any, error) {
	name, err := c.required("KeyPairSpec")
	if err != nil {
		return nil, err
	}
	var spec *keyPairSpec
	for i := range keyPairSpecs {
		if keyPairSpecs[i].name == name {
			spec = &keyPairSpecs[i]
		}
	}
	if spec == nil {
		return nil, invalidParam("KeyPairSpec", "it must be one of %v", KeyPairSpecs())
	}
	// Alibaba's instance API writes keys in PEM unless told DER; the keys
	// here are AWS's DER, and a caller who asks for PEM is told so.
	if _, err := oneOf(c, "KeyFormat", "DER", "DER"); err != nil {
		return nil, err
	}
	ctx, err := c.context("EncryptionContext")
	if err != nil {
		return nil, err
	}
	c.facts.Context, c.facts.DataKeyPairSpec = ctx, spec.name
	var k Key
	if err := c.sealingKey(&k, "KeyId"); err != nil {
		return nil, err
	}
	vid, env, err := c.s.primary(c.ctx, &k)
	if err != nil {
		return nil, err
	}
	priv, err := c.newKeyPair(spec)
	if err != nil {
		return nil, err
	}
	pub, der, err := marshalPair(priv)
	switch p := priv.(type) { // the key types whose secret the runtime lets us clear
	case ed25519.PrivateKey:
		clear(p)
	case k1PrivateKey:
		p.key.Zero()
	}
	if err != nil {
		return nil, internal("key pair: %w", err)
	}
	blob, err := env.Seal(c.s.rand, ctx, der)
	if err != nil || !withPlaintext {
		clear(der)
		der = nil
	}
	if err != nil {
		return nil, internal("seal: %w", err)
	}
	return DataKeyPair{Sealed: Sealed{KeyID: k.ID, VersionID: vid, Cipher: cipherOf(&k), Blob: blob}, Spec: spec.name, PublicKey: pub, PrivateKey: der}, nil
}

// newKeyPair makes a private key of spec.
func (c *call) newKeyPair(spec *keyPairSpec) (privateKeyOf, error) {
	if spec.bits > 0 {
		return c.newRSAKey(spec.bits)
	}
	var priv privateKeyOf
	var err error
	switch {
	case spec.curve != nil:
		priv, err = ecdsa.GenerateKey(spec.curve, c.s.rand)
	case spec.k1:
		priv, err = newK1Key(c.s.rand)
	case spec.sm2:
		priv, err = sm2.GenerateKey(c.s.rand)
	case spec.mldsa != nil:
		priv, err = newMLDSAKey(spec.mldsa, c.s.rand)
	case spec.mlkem != nil:
		priv, err = newMLKEMKey(spec.mlkem, c.s.rand)
	default:
		_, priv, err = ed25519.GenerateKey(c.s.rand)
	}
	if err != nil {
		return nil, internal("key pair: %w", err)
	}
	return priv, nil
}

// marshalPair encodes a private key's public half as a SubjectPublicKeyInfo
// and the key as PKCS #8, both DER.
func marshalPair(priv privateKeyOf) (pub, der []byte, err error) {
	if pub, err = marshalPKIX(priv.Public()); err != nil {
		return nil, nil, err
	}
	der, err = marshalPKCS8(priv)
	return pub, der, err
}
