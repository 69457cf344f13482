package core

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"time"
)

// An asymmetric signing key holds a private key, in PKCS #8 and wrapped by
// the root key like any version's material, that signs digests inside the
// service (AsymmetricSign; AWS's Sign) while its public key is handed out
// (GetPublicKey) to anyone who verifies, with or without the service
// (AsymmetricVerify; AWS's Verify). It has one version and does not rotate,
// as on both clouds' shared KMS; its material is made here, not imported.

// UsageSign is the usage of an asymmetric signing key.
const UsageSign = "SIGN/VERIFY"

// signingAlgorithm is an algorithm a signing key takes: its hash, and for
// RSA whether it pads with PSS (salt as long as the hash) or PKCS #1 v1.5.
type signingAlgorithm struct {
	name string
	hash crypto.Hash
	pss  bool
}

var (
	ecdsaAlgorithms = map[int][]signingAlgorithm{
		256: {{"ECDSA_SHA_256", crypto.SHA256, false}},
		384: {{"ECDSA_SHA_384", crypto.SHA384, false}},
		521: {{"ECDSA_SHA_512", crypto.SHA512, false}},
	}
	rsaAlgorithms = []signingAlgorithm{
		{"RSA_PSS_SHA_256", crypto.SHA256, true}, {"RSA_PSS_SHA_384", crypto.SHA384, true}, {"RSA_PSS_SHA_512", crypto.SHA512, true},
		{"RSA_PKCS1_SHA_256", crypto.SHA256, false}, {"RSA_PKCS1_SHA_384", crypto.SHA384, false}, {"RSA_PKCS1_SHA_512", crypto.SHA512, false},
	}
)

// signingSpecs are the KeySpec values of signing keys: AWS's names, each
// with Alibaba's where it has one. They are the data key pair specs but
// Ed25519, whose signatures are made over the message, not a digest.
var signingSpecs = func() map[string]*keyPairSpec {
	m := map[string]*keyPairSpec{}
	for i := range keyPairSpecs {
		if s := &keyPairSpecs[i]; s.bits > 0 || s.curve != nil {
			m[s.name] = s
		}
	}
	return m
}()

// SigningKeyLimits bounds, per caller, the uses of a signing key's private
// key (signing, verifying and reading its public key all load it) for the
// specs whose use costs far more than a request: an RSA signature takes
// about 0.8 ms of CPU at 2048 bits, 2.5 ms at 3072 and 5 ms at 4096, a P-521
// one 0.7 ms, each with its key's parsing. A caller's request rate alone
// would let it keep several CPUs busy; each of these holds it to about a
// tenth of a core per spec. P-256 keys, at about 40 µs, spend only the
// request rate.
var SigningKeyLimits = map[string]Limit{
	"RSA_2048":      PerSecond(100, 100),
	"RSA_3072":      PerSecond(40, 40),
	"RSA_4096":      PerSecond(20, 20),
	"ECC_NIST_P384": PerSecond(300, 300),
	"ECC_NIST_P521": PerSecond(120, 120),
}

// alibabaSpecs are Alibaba's names of the signing specs it has.
var alibabaSpecs = map[string]string{"EC_P256": "ECC_NIST_P256", "RSA_2048": "RSA_2048", "RSA_3072": "RSA_3072", "RSA_4096": "RSA_4096"}

// AlibabaKeySpec is a key's KeySpec as Alibaba names it, where its name
// differs from AWS's.
func AlibabaKeySpec(spec string) string {
	if spec == "ECC_NIST_P256" {
		return "EC_P256"
	}
	return spec
}

// SigningAlgorithms lists the algorithms of a signing key, nil for any other.
func (k Key) SigningAlgorithms() []string {
	spec, ok := signingSpecs[k.KeySpec]
	if !ok {
		return nil
	}
	var out []string
	for _, a := range algorithmsOf(spec) {
		out = append(out, a.name)
	}
	return out
}

func algorithmsOf(spec *keyPairSpec) []signingAlgorithm {
	if spec.bits > 0 {
		return rsaAlgorithms
	}
	return ecdsaAlgorithms[spec.curve.Params().BitSize]
}

// newSigningVersion makes a signing key's private key of spec, once the
// caller's RSA bucket admits it, and wraps its PKCS #8 as the key's version.
func (c *call) newSigningVersion(spec *keyPairSpec, keyID, versionID string, created time.Time) (KeyVersion, error) {
	priv, err := c.newKeyPair(spec)
	if err != nil {
		return KeyVersion{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	defer clear(der)
	if err != nil {
		return KeyVersion{}, internal("signing key: %w", err)
	}
	wrapped, err := c.s.root.wrap(c.s.rand, keyID, versionID, der)
	if err != nil {
		return KeyVersion{}, internal("signing key: %w", err)
	}
	return KeyVersion{KeyID: keyID, VersionID: versionID, CreatedAt: created, Wrapped: wrapped, RootKeyID: c.s.root.id}, nil
}

// PublicKey is the result of GetPublicKey: the DER SubjectPublicKeyInfo of
// a signing key's version, and what it is for.
type PublicKey struct {
	KeyID, VersionID, KeySpec, KeyUsage string
	Algorithms                          []string
	DER                                 []byte
}

// Signature is the result of AsymmetricSign: a signature of the digest, DER
// for ECDSA as both clouds give it.
type Signature struct {
	KeyID, VersionID, Algorithm string
	Value                       []byte
}

// SignatureChecked is the result of AsymmetricVerify. Alibaba answers an
// invalid signature as false, AWS as KMSInvalidSignatureException: the
// adapter decides.
type SignatureChecked struct {
	KeyID, VersionID, Algorithm string
	Valid                       bool
}

func (c *call) getPublicKey() (any, error) {
	// AWS answers GetPublicKey of a key without one as an operation the
	// key does not support, and Sign as a usage it does not have.
	k, vid, priv, err := c.signer(CodeUnsupportedKeySpec)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, internal("public key: %w", err)
	}
	return PublicKey{KeyID: k.ID, VersionID: vid, KeySpec: k.KeySpec, KeyUsage: k.KeyUsage, Algorithms: k.SigningAlgorithms(), DER: der}, nil
}

func (c *call) asymmetricSign() (any, error) {
	alg, digest, err := c.digest()
	if err != nil {
		return nil, err
	}
	k, vid, priv, err := c.signer(CodeInvalidKeyUsage, alg.name)
	if err != nil {
		return nil, err
	}
	var sig []byte
	switch p := priv.(type) {
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(c.s.rand, p, digest)
	case *rsa.PrivateKey:
		if alg.pss {
			sig, err = rsa.SignPSS(c.s.rand, p, alg.hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(nil, p, alg.hash, digest)
		}
	}
	if err != nil || sig == nil {
		return nil, internal("sign: %v", err)
	}
	return Signature{KeyID: k.ID, VersionID: vid, Algorithm: alg.name, Value: sig}, nil
}

func (c *call) asymmetricVerify() (any, error) {
	sig, err := c.bytes("Value", 6144)
	if err != nil {
		return nil, err
	}
	alg, digest, err := c.digest()
	if err != nil {
		return nil, err
	}
	k, vid, priv, err := c.signer(CodeInvalidKeyUsage, alg.name)
	if err != nil {
		return nil, err
	}
	valid := false
	switch p := priv.Public().(type) {
	case *ecdsa.PublicKey:
		valid = ecdsa.VerifyASN1(p, digest, sig)
	case *rsa.PublicKey:
		if alg.pss {
			valid = rsa.VerifyPSS(p, alg.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		} else {
			valid = rsa.VerifyPKCS1v15(p, alg.hash, digest, sig) == nil
		}
	}
	return SignatureChecked{KeyID: k.ID, VersionID: vid, Algorithm: alg.name, Valid: valid}, nil
}

// digest reads Algorithm, one of any signing key's, and Digest, base64 of
// as many bytes as its hash gives.
func (c *call) digest() (signingAlgorithm, []byte, error) {
	name, err := c.required("Algorithm")
	if err != nil {
		return signingAlgorithm{}, nil, err
	}
	var alg signingAlgorithm
	for _, a := range append(rsaAlgorithms, ecdsaAlgorithms[256][0], ecdsaAlgorithms[384][0], ecdsaAlgorithms[521][0]) {
		if a.name == name {
			alg = a
		}
	}
	if alg.name == "" {
		return signingAlgorithm{}, nil, invalidParam("Algorithm", "it must be one of ECDSA_SHA_256, ECDSA_SHA_384, ECDSA_SHA_512, RSA_PSS_SHA_256, RSA_PSS_SHA_384, RSA_PSS_SHA_512, RSA_PKCS1_SHA_256, RSA_PKCS1_SHA_384 and RSA_PKCS1_SHA_512")
	}
	text, err := c.required("Digest")
	if err != nil {
		return signingAlgorithm{}, nil, err
	}
	d, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(d) != alg.hash.Size() {
		return signingAlgorithm{}, nil, invalidParam("Digest", "it must be base64 of the %d-byte digest %s takes", alg.hash.Size(), alg.name)
	}
	return alg, d, nil
}

// signer resolves KeyId to an Enabled signing key, refusing any other key
// with code, and loads its private key (KeyVersionId, if given, must be its
// version; it has one). With algs, the key's spec must take them. A DryRun
// ends before the private key is loaded.
func (c *call) signer(code string, algs ...string) (Key, string, crypto.Signer, error) {
	var k Key
	if err := c.resolveKey(&k, "KeyId"); err != nil {
		return Key{}, "", nil, err
	}
	if err := usable(&k); err != nil {
		return Key{}, "", nil, err
	}
	if k.KeyUsage != UsageSign {
		return Key{}, "", nil, Errorf(code, "The key %q is not an asymmetric signing key (KeyUsage %s); it has no public key and signs nothing.", k.ID, k.KeyUsage)
	}
	if vid := c.str("KeyVersionId"); vid != "" && vid != k.PrimaryVersionID {
		return Key{}, "", nil, Errorf(CodeKeyNotFound, "The key %q has no version %q.", k.ID, ClipText(vid))
	}
	for _, a := range algs {
		found := false
		for _, b := range k.SigningAlgorithms() {
			found = found || a == b
		}
		if !found {
			return Key{}, "", nil, Errorf(CodeInvalidKeyUsage, "The signing algorithm %s is not compatible with the key %q, whose KeySpec %s takes %v.", a, k.ID, k.KeySpec, k.SigningAlgorithms())
		}
	}
	if c.dry {
		return Key{}, "", nil, errDryRunOK
	}
	if lim, ok := SigningKeyLimits[k.KeySpec]; ok {
		if err := c.s.spend(c.ctx, "signing-"+k.KeySpec+":"+c.req.Caller.AccessKeyID, lim); err != nil {
			return Key{}, "", nil, err
		}
	}
	der, err := c.s.material(c.ctx, &k, k.PrimaryVersionID)
	if err != nil {
		return Key{}, "", nil, storeErr(err)
	}
	defer clear(der)
	priv, err := x509.ParsePKCS8PrivateKey(der)
	signer, ok := priv.(crypto.Signer)
	if err != nil || !ok {
		return Key{}, "", nil, internal("key %s: its version does not hold a private key", k.ID)
	}
	return k, k.PrimaryVersionID, signer, nil
}
