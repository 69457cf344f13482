package core

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	_ "crypto/sha1" // RSAES_OAEP_SHA_1
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"io"
	"slices"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// An asymmetric key holds a private key, in PKCS #8 and wrapped by the root
// key like any version's material, while its public key is handed out
// (GetPublicKey). A signing key signs digests inside the service
// (AsymmetricSign; AWS's Sign) for anyone to verify, with or without the
// service (AsymmetricVerify; AWS's Verify). An RSA encryption key opens
// inside the service (AsymmetricDecrypt; AWS's Decrypt with an RSAES
// algorithm) what anyone sealed with its public key (AsymmetricEncrypt, or
// any RSA-OAEP library). It has one version and does not rotate, as on both
// clouds' shared KMS; its material is made here, not imported.

// UsageSign is the usage of an asymmetric signing key.
const UsageSign = "SIGN/VERIFY"

// MaxSignMessage is the longest message signed whole (pure Ed25519,
// ML-DSA), in bytes, as on AWS.
const MaxSignMessage = 4096

// encryptionAlgorithms are asymmetric encryption keys' algorithms, which
// both APIs name alike: an RSA key's, OAEP with the hash named, for MGF1
// too, and an SM2 key's, SM2PKE.
var encryptionAlgorithms = []struct {
	Algorithm
	hash crypto.Hash
}{
	{Algorithm{keyEncryptionAlgorithm, "RSAES_OAEP_SHA_1"}, crypto.SHA1},
	{Algorithm{keyEncryptionAlgorithm, "RSAES_OAEP_SHA_256"}, crypto.SHA256},
	{sm2PKE, 0},
}

// signingAlgorithm is an algorithm a signing key takes, by core's and
// Alibaba's name and by AWS's: its hash, and for RSA whether it pads with
// PSS (salt as long as the hash) or PKCS #1 v1.5. An Ed25519 algorithm
// signs either the message itself (pure Ed25519, which hashes inside the
// signature: message) or, as Ed25519ph, a SHA-512 digest the caller made,
// which is hashed once more as AWS documents; ML-DSA signs the message
// itself, or its 64-byte representative μ made outside, given as its
// digest (mu; AWS's EXTERNAL_MU). SM2DSA (sm2) signs an SM3 digest that
// covers the signer's public key, or a message hashed so once the key is
// loaded (message).
type signingAlgorithm struct {
	name    string
	aws     Algorithm
	hash    crypto.Hash
	pss     bool
	message bool
	sm2     bool
	mu      bool
}

// digestSize is the size of the digest alg signs: for ML-DSA, μ's.
func (alg signingAlgorithm) digestSize() int {
	switch {
	case alg.sm2:
		return sm3.Size
	case alg.mu:
		return mldsaMuSize
	}
	return alg.hash.Size()
}

// signing is a signing algorithm of core's name and AWS's.
func signing(name, aws string, hash crypto.Hash, pss, message bool) signingAlgorithm {
	return signingAlgorithm{name: name, aws: Algorithm{keySigningAlgorithm, aws}, hash: hash, pss: pss, message: message}
}

var (
	ecdsaAlgorithms = map[int][]signingAlgorithm{
		256: {signing("ECDSA_SHA_256", "ECDSA_SHA_256", crypto.SHA256, false, false)},
		384: {signing("ECDSA_SHA_384", "ECDSA_SHA_384", crypto.SHA384, false, false)},
		521: {signing("ECDSA_SHA_512", "ECDSA_SHA_512", crypto.SHA512, false, false)},
	}
	mldsaAlgorithms = []signingAlgorithm{
		{name: "ML_DSA_SHAKE_256", aws: Algorithm{keySigningAlgorithm, "ML_DSA_SHAKE_256"}, message: true, mu: true},
	}
	ed25519Algorithms = []signingAlgorithm{
		signing("ED25519_SHA_512", "ED25519_SHA_512", crypto.SHA512, false, true),
		signing("ED25519_PH_SHA_512", "ED25519_PH_SHA_512", crypto.SHA512, false, false),
	}
	rsaAlgorithms = []signingAlgorithm{
		signing("RSA_PSS_SHA_256", "RSASSA_PSS_SHA_256", crypto.SHA256, true, false),
		signing("RSA_PSS_SHA_384", "RSASSA_PSS_SHA_384", crypto.SHA384, true, false),
		signing("RSA_PSS_SHA_512", "RSASSA_PSS_SHA_512", crypto.SHA512, true, false),
		signing("RSA_PKCS1_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256", crypto.SHA256, false, false),
		signing("RSA_PKCS1_SHA_384", "RSASSA_PKCS1_V1_5_SHA_384", crypto.SHA384, false, false),
		signing("RSA_PKCS1_SHA_512", "RSASSA_PKCS1_V1_5_SHA_512", crypto.SHA512, false, false),
	}
)

// SigningAlgorithmInfo is what an adapter needs of a signing algorithm:
// core's name, its hash and the size of the digest it signs, and whether it
// signs the message itself (pure Ed25519, ML-DSA) rather than a digest. An
// algorithm whose digest covers the signer's public key (KeyBound: SM2DSA)
// has no Hash an adapter could apply alone: core takes its message as
// Message and hashes it once the key is loaded.
type SigningAlgorithmInfo struct {
	Name       string
	Hash       crypto.Hash
	DigestSize int
	Message    bool
	KeyBound   bool
}

// SigningAlgorithmOf describes AWS's signing algorithm aws; ok is false for
// one no key here takes.
func SigningAlgorithmOf(aws string) (info SigningAlgorithmInfo, ok bool) {
	return signingInfo(func(a *signingAlgorithm) bool { return a.aws.name == aws })
}

// SigningAlgorithmNamed describes the signing algorithm core (and Alibaba's
// API) names name; ok is false for one no key here takes.
func SigningAlgorithmNamed(name string) (info SigningAlgorithmInfo, ok bool) {
	return signingInfo(func(a *signingAlgorithm) bool { return a.name == name })
}

func signingInfo(match func(*signingAlgorithm) bool) (SigningAlgorithmInfo, bool) {
	for i := range allSigningAlgorithms {
		if a := &allSigningAlgorithms[i]; match(a) {
			return SigningAlgorithmInfo{a.name, a.hash, a.digestSize(), a.message, a.sm2}, true
		}
	}
	return SigningAlgorithmInfo{}, false
}

// AWSSigningAlgorithm is AWS's name of core's signing algorithm name.
func AWSSigningAlgorithm(name string) string {
	for _, a := range allSigningAlgorithms {
		if a.name == name {
			return a.aws.name
		}
	}
	return name
}

// allSigningAlgorithms are every signing key's algorithms, and
// signingAlgorithmNames their names, as a refusal lists them.
var (
	allSigningAlgorithms  = slices.Concat(rsaAlgorithms, ecdsaAlgorithms[256], ecdsaAlgorithms[384], ecdsaAlgorithms[521], ed25519Algorithms, mldsaAlgorithms, sm2Algorithms)
	signingAlgorithmNames = func() (out []string) {
		for _, a := range allSigningAlgorithms {
			out = append(out, a.name)
		}
		return out
	}()
)

// mldsaKeySpecs are the specs of ML-DSA keys, which AWS makes as KMS keys
// but not as data key pairs.
var mldsaKeySpecs = []keyPairSpec{
	{name: "ML_DSA_44", mldsa: &mldsa44Spec},
	{name: "ML_DSA_65", mldsa: &mldsa65Spec},
	{name: "ML_DSA_87", mldsa: &mldsa87Spec},
}

// asymmetricKeySpecs are the specs asymmetric keys are made in, in AWS's
// names (Alibaba's are in alibabaSpecs): the data key pair specs and
// ML-DSA's. asymmetricSpecs finds them by name. Which usages each takes is
// usagesOf's.
var (
	asymmetricKeySpecs = slices.Concat(keyPairSpecs, mldsaKeySpecs)
	asymmetricSpecs    = func() map[string]*keyPairSpec {
		m := map[string]*keyPairSpec{}
		for i := range asymmetricKeySpecs {
			m[asymmetricKeySpecs[i].name] = &asymmetricKeySpecs[i]
		}
		return m
	}()
)

// PrivateKeyLimits bounds, per caller, the uses of an asymmetric key's
// private key (every operation on the key loads it) for the specs whose use
// costs far more than a request: an RSA signature or decryption takes about
// 0.7 ms of CPU at 2048 bits, 2.2 ms at 3072 and 4.8 ms at 4096, a P-521
// signature 0.4 ms, an ML-DSA one 0.11 ms (ML_DSA_44) to 0.17 ms
// (ML_DSA_87). A caller's request rate alone would let it keep several CPUs
// busy; each of these holds it to a twentieth to a tenth of a core per
// spec. P-256, secp256k1, Ed25519 and SM2 keys, at 16 to 55 µs (an SM2
// signature 16 µs, an SM2PKE decryption 54), spend only the request rate.
var PrivateKeyLimits = map[string]Limit{
	"RSA_2048":      PerSecond(100, 100),
	"RSA_3072":      PerSecond(40, 40),
	"RSA_4096":      PerSecond(20, 20),
	"ECC_NIST_P384": PerSecond(300, 300),
	"ECC_NIST_P521": PerSecond(120, 120),
	"ML_DSA_44":     PerSecond(500, 500),
	"ML_DSA_65":     PerSecond(300, 300),
	"ML_DSA_87":     PerSecond(300, 300),
}

// alibabaSpecs are Alibaba's names of the asymmetric specs it has.
var alibabaSpecs = map[string]string{"EC_P256": "ECC_NIST_P256", "EC_P256K": "ECC_SECG_P256K1", "EC_SM2": "SM2",
	"RSA_2048": "RSA_2048", "RSA_3072": "RSA_3072", "RSA_4096": "RSA_4096"}

// AlibabaKeySpec is a key's KeySpec as Alibaba names it, where its name
// differs from AWS's.
func AlibabaKeySpec(spec string) string {
	for alibaba, aws := range alibabaSpecs {
		if aws == spec {
			return alibaba
		}
	}
	return spec
}

// SigningAlgorithms lists the algorithms of a signing key, nil for any other.
func (k Key) SigningAlgorithms() []string {
	spec, ok := asymmetricSpecs[k.KeySpec]
	if !ok || k.KeyUsage != UsageSign {
		return nil
	}
	var out []string
	for _, a := range algorithmsOf(spec) {
		out = append(out, a.name)
	}
	return out
}

// EncryptionAlgorithms lists the algorithms of an asymmetric encryption
// key: an RSA key's OAEP, an SM2 key's SM2PKE; nil for any other key (a
// symmetric key's one algorithm is its envelope).
func (k Key) EncryptionAlgorithms() []string {
	spec := asymmetricSpecs[k.KeySpec]
	if spec == nil || k.KeyUsage != UsageEncrypt {
		return nil
	}
	var out []string
	for _, a := range encryptionAlgorithms {
		if (a.Algorithm == sm2PKE) == spec.sm2 {
			out = append(out, a.name)
		}
	}
	return out
}

// algorithms are the algorithms of an asymmetric key, by its usage.
func (k Key) algorithms() []string {
	switch k.KeyUsage {
	case UsageSign:
		return k.SigningAlgorithms()
	case UsageKeyAgreement:
		return k.KeyAgreementAlgorithms()
	case UsageEncapsulate:
		return k.EncapsulationAlgorithms()
	}
	return k.EncryptionAlgorithms()
}

func algorithmsOf(spec *keyPairSpec) []signingAlgorithm {
	switch {
	case spec.bits > 0:
		return rsaAlgorithms
	case spec.curve != nil:
		return ecdsaAlgorithms[spec.curve.Params().BitSize]
	case spec.k1:
		return ecdsaAlgorithms[256]
	case spec.mldsa != nil:
		return mldsaAlgorithms
	case spec.sm2:
		return sm2Algorithms
	}
	return ed25519Algorithms
}

// newAsymmetricVersion makes an asymmetric key's private key of spec, once
// the caller's RSA bucket admits it, and wraps its PKCS #8 as the key's
// version.
func (c *call) newAsymmetricVersion(spec *keyPairSpec, keyID, versionID string, created time.Time) (KeyVersion, error) {
	priv, err := c.newKeyPair(spec)
	if err != nil {
		return KeyVersion{}, err
	}
	der, err := marshalPKCS8(priv)
	defer clear(der)
	if err != nil {
		return KeyVersion{}, internal("asymmetric key: %w", err)
	}
	wrapped, err := c.s.root.wrap(c.s.rand, keyID, versionID, der)
	if err != nil {
		return KeyVersion{}, internal("asymmetric key: %w", err)
	}
	return KeyVersion{KeyID: keyID, VersionID: versionID, CreatedAt: created, Wrapped: wrapped, RootKeyID: c.s.root.id}, nil
}

// PublicKey is the result of GetPublicKey: the DER SubjectPublicKeyInfo of
// an asymmetric key's version, and what it is for.
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
	k, vid, priv, err := c.privateKey(CodeUnsupportedKeySpec, "", "")
	if err != nil {
		return nil, err
	}
	der, err := marshalPKIX(priv.Public())
	if err != nil {
		return nil, internal("public key: %w", err)
	}
	return PublicKey{KeyID: k.ID, VersionID: vid, KeySpec: k.KeySpec, KeyUsage: k.KeyUsage, Algorithms: k.algorithms(), DER: der}, nil
}

func (c *call) asymmetricSign() (any, error) {
	alg, digest, err := c.digest()
	if err != nil {
		return nil, err
	}
	k, vid, priv, err := c.privateKey(CodeInvalidKeyUsage, UsageSign, alg.name)
	if err != nil {
		return nil, err
	}
	sig, err := signWith(c.s.rand, priv, alg, digest)
	if err != nil {
		return nil, err
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
	k, vid, priv, err := c.privateKey(CodeInvalidKeyUsage, UsageSign, alg.name)
	if err != nil {
		return nil, err
	}
	if alg.mu && !alg.message {
		// Go's ML-DSA, like the standard library's API it follows, verifies
		// messages only.
		return nil, Errorf(CodeUnsupportedOperation, "Verifying an ML-DSA signature of the message's representative μ is not supported here: send the message itself, or verify with the public key (GetPublicKey).")
	}
	valid := verifyWith(priv.Public(), alg, digest, sig)
	return SignatureChecked{KeyID: k.ID, VersionID: vid, Algorithm: alg.name, Valid: valid}, nil
}

// signWith signs digest (the message, for an algorithm that signs one) with
// priv by alg.
func signWith(rand io.Reader, priv privateKeyOf, alg signingAlgorithm, digest []byte) ([]byte, error) {
	var sig []byte
	var err error
	switch p := priv.(type) {
	case ed25519.PrivateKey:
		if alg.message {
			sig = ed25519.Sign(p, digest)
		} else {
			ph := sha512.Sum512(digest)
			sig, err = p.Sign(nil, ph[:], &ed25519.Options{Hash: crypto.SHA512})
		}
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(rand, p, digest)
	case *sm2.PrivateKey:
		if digest, err = alg.sm2Hashed(&p.PublicKey, digest); err == nil {
			sig, err = sm2.SignASN1(rand, p, digest, nil)
		}
	case k1PrivateKey:
		sig, err = p.Sign(nil, digest, nil)
	case mldsaPrivateKey:
		if alg.message {
			sig, err = p.Sign(nil, digest, nil)
		} else {
			sig, err = p.signMu(digest)
		}
	case *rsa.PrivateKey:
		if alg.pss {
			sig, err = rsa.SignPSS(rand, p, alg.hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(nil, p, alg.hash, digest)
		}
	}
	if err != nil || sig == nil {
		return nil, internal("sign: %v", err)
	}
	return sig, nil
}

// verifyWith reports whether sig is pub's signature of digest (the
// message, for an algorithm that signs one) by alg.
func verifyWith(pub crypto.PublicKey, alg signingAlgorithm, digest, sig []byte) bool {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if alg.message {
			return ed25519.Verify(p, digest, sig)
		}
		ph := sha512.Sum512(digest)
		return ed25519.VerifyWithOptions(p, ph[:], sig, &ed25519.Options{Hash: crypto.SHA512}) == nil
	case *ecdsa.PublicKey:
		if !alg.sm2 {
			return ecdsa.VerifyASN1(p, digest, sig)
		}
		hashed, err := alg.sm2Hashed(p, digest)
		return err == nil && sm2.VerifyASN1(p, hashed, sig)
	case k1PublicKey:
		return p.verify(digest, sig)
	case mldsaPublicKey:
		return p.verify(digest, sig)
	case *rsa.PublicKey:
		if alg.pss {
			return rsa.VerifyPSS(p, alg.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(p, alg.hash, digest, sig) == nil
	}
	return false
}

// signingAlgorithm reads Algorithm, core's name of one of the signing
// algorithms names, as kms:SigningAlgorithm reads it.
func (c *call) signingAlgorithm(names []string) (signingAlgorithm, error) {
	name, err := c.required("Algorithm")
	if err != nil {
		return signingAlgorithm{}, err
	}
	for i := range allSigningAlgorithms {
		if a := &allSigningAlgorithms[i]; a.name == name && slices.Contains(names, name) {
			c.facts.Algorithm = &a.aws
			return *a, nil
		}
	}
	return signingAlgorithm{}, invalidParam("Algorithm", "it must be one of %v", names)
}

// digest reads Algorithm, one of any signing key's, and Digest, base64 of
// as many bytes as its hash gives; for pure Ed25519 and ML-DSA, which sign
// the message itself, Message, base64 of 1 to 4096 bytes, instead. SM2DSA
// takes either: a Message is hashed with the key (sm2Hashed). So does
// ML-DSA: its Digest is μ, the message's representative.
func (c *call) digest() (signingAlgorithm, []byte, error) {
	alg, err := c.signingAlgorithm(signingAlgorithmNames)
	if err != nil {
		return signingAlgorithm{}, nil, err
	}
	switch {
	case alg.sm2 && c.str("Digest") == "" && c.str("Message") != "":
		alg.message = true
	case alg.mu && c.str("Message") == "" && c.str("Digest") != "":
		alg.message = false
	}
	if alg.message {
		msg, err := c.bytes("Message", MaxSignMessage)
		return alg, msg, err
	}
	text, err := c.required("Digest")
	if err != nil {
		return signingAlgorithm{}, nil, err
	}
	d, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(d) != alg.digestSize() {
		return signingAlgorithm{}, nil, invalidParam("Digest", "it must be base64 of the %d-byte digest %s takes", alg.digestSize(), alg.name)
	}
	return alg, d, nil
}

// sm2Hashed is what SM2DSA signs of data under pub: data itself, a digest,
// unless it is the message, which is hashed with pub first.
func (alg signingAlgorithm) sm2Hashed(pub *ecdsa.PublicKey, data []byte) ([]byte, error) {
	if !alg.message {
		return data, nil
	}
	return sm2Digest(pub, data)
}

// privateKeyOf is an asymmetric key's private key as the keyring keeps it:
// a key agreement key's as an ECDH key, whose making from the ECDSA key
// PKCS #8 gives computes the public key again (a fifth of a P-256
// DeriveSharedSecret); an ML-KEM key's as its decapsulation key; any
// other's as a crypto.Signer.
type privateKeyOf interface{ Public() crypto.PublicKey }

// privateKey resolves KeyId to an Enabled asymmetric key for usage (any,
// if empty), refusing any other key with code, and loads its private key,
// parsed once per instance (KeyVersionId, if given, must be its version; it
// has one). With alg, the key must take it. A DryRun ends before the
// private key is loaded, and the load spends the caller's bucket for the
// key's spec (PrivateKeyLimits, or KeyAgreementLimits for a key agreement
// key).
func (c *call) privateKey(code, usage, alg string) (Key, string, privateKeyOf, error) {
	return c.privateKeyAt("KeyId", "KeyVersionId", code, usage, alg)
}

// privateKeyAt is privateKey of the key keyParam names, whose version
// versionParam, if not empty, may name.
func (c *call) privateKeyAt(keyParam, versionParam, code, usage, alg string) (Key, string, privateKeyOf, error) {
	var k Key
	if err := c.resolveKey(&k, keyParam); err != nil {
		return Key{}, "", nil, err
	}
	if err := usable(&k); err != nil {
		return Key{}, "", nil, err
	}
	switch {
	case asymmetricSpecs[k.KeySpec] == nil:
		return Key{}, "", nil, Errorf(code, "The key %q is not an asymmetric key (KeySpec %s); it has no public key.", k.ID, k.KeySpec)
	case usage != "" && k.KeyUsage != usage:
		return Key{}, "", nil, Errorf(code, "The key %q is for %s, not %s.", k.ID, k.KeyUsage, usage)
	}
	if vid := c.str(versionParam); versionParam != "" && vid != "" && vid != k.PrimaryVersionID {
		return Key{}, "", nil, Errorf(CodeKeyNotFound, "The key %q has no version %q.", k.ID, ClipText(vid))
	}
	if alg != "" && !slices.Contains(k.algorithms(), alg) {
		return Key{}, "", nil, Errorf(CodeInvalidKeyUsage, "The algorithm %s is not compatible with the key %q, whose KeySpec %s takes %v for %s.", alg, k.ID, k.KeySpec, k.algorithms(), k.KeyUsage)
	}
	if c.dry {
		return Key{}, "", nil, errDryRunOK
	}
	limits, bucket := PrivateKeyLimits, "private-key-"
	if k.KeyUsage == UsageKeyAgreement {
		limits, bucket = KeyAgreementLimits, "key-agreement-"
	}
	if lim, ok := limits[k.KeySpec]; ok {
		if err := c.s.spend(c.ctx, bucket+k.KeySpec+":"+c.req.Caller.AccessKeyID, lim); err != nil {
			return Key{}, "", nil, err
		}
	}
	priv, err := c.s.unwrapped(c.ctx, &k, k.PrimaryVersionID, func(der []byte) (any, error) {
		priv, err := parsePKCS8(der)
		if _, ok := priv.(privateKeyOf); err != nil || !ok {
			return nil, errors.New("its version holds no private key")
		}
		if k.KeyUsage == UsageKeyAgreement {
			switch ec := priv.(type) {
			case *ecdsa.PrivateKey:
				return ec.ECDH()
			case *sm2.PrivateKey:
				return sm2ECDH(ec)
			}
		}
		return priv, nil
	})
	if err != nil {
		return Key{}, "", nil, storeErr(err)
	}
	held, ok := priv.(privateKeyOf)
	if !ok {
		return Key{}, "", nil, internal("key %s version %s holds no private key", k.ID, k.PrimaryVersionID)
	}
	return k, k.PrimaryVersionID, held, nil
}

// encryptionAlgorithm reads param, one of an asymmetric encryption key's
// algorithms: its OAEP hash, 0 for SM2PKE.
func (c *call) encryptionAlgorithm(param string) (crypto.Hash, string, error) {
	name, err := c.required(param)
	if err != nil {
		return 0, "", err
	}
	for i := range encryptionAlgorithms {
		if encryptionAlgorithms[i].name == name {
			c.facts.Algorithm = &encryptionAlgorithms[i].Algorithm
			return encryptionAlgorithms[i].hash, name, nil
		}
	}
	return 0, "", invalidParam(param, "it must be RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1 or SM2PKE")
}

// asymmetricEncrypt seals a plaintext with an asymmetric encryption key's
// public key, as anyone holding the public key could. The ciphertext is
// bare RSA-OAEP or SM2PKE: only AsymmetricDecrypt under the same key opens
// it, and it names no key.
func (c *call) asymmetricEncrypt() (any, error) {
	hash, alg, err := c.encryptionAlgorithm("Algorithm")
	if err != nil {
		return nil, err
	}
	pt, err := c.bytes("Plaintext", MaxEncryptPlaintext)
	defer clear(pt)
	if err != nil {
		return nil, err
	}
	sealed, err := c.publicEncrypt("KeyId", "KeyVersionId", "Plaintext", hash, alg, pt)
	if err != nil {
		return nil, err
	}
	return sealed, nil
}

// publicEncrypt seals pt, which ptParam carries, with the public key of the
// asymmetric encryption key keyParam names, by alg (with hash, for OAEP).
func (c *call) publicEncrypt(keyParam, versionParam, ptParam string, hash crypto.Hash, alg string, pt []byte) (Sealed, error) {
	k, vid, priv, err := c.privateKeyAt(keyParam, versionParam, CodeInvalidKeyUsage, UsageEncrypt, alg)
	if err != nil {
		return Sealed{}, err
	}
	blob, err := sealTo(c.s.rand, priv.Public(), ptParam, hash, alg, pt)
	if err != nil {
		return Sealed{}, err
	}
	return Sealed{KeyID: k.ID, VersionID: vid, Blob: blob}, nil
}

// sealTo seals pt, which ptParam carries, to pub by alg (with hash, for
// OAEP): RSA-OAEP, or SM2PKE in GM/T 0009's ASN.1.
func sealTo(rand io.Reader, pub crypto.PublicKey, ptParam string, hash crypto.Hash, alg string, pt []byte) ([]byte, error) {
	var blob []byte
	var err error
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		if max := pub.Size() - 2*hash.Size() - 2; len(pt) > max {
			return nil, invalidParam(ptParam, "its plaintext is %d bytes, longer than the %d bytes %s takes under a %d-bit key", len(pt), max, alg, pub.N.BitLen())
		}
		blob, err = rsa.EncryptOAEP(hash.New(), rand, pub, pt, nil)
	case *ecdsa.PublicKey:
		if len(pt) > MaxSM2Plaintext {
			return nil, invalidParam(ptParam, "its plaintext is %d bytes, longer than the %d bytes SM2PKE takes", len(pt), MaxSM2Plaintext)
		}
		blob, err = sm2Encrypt(rand, pub, pt)
	}
	if err != nil || blob == nil {
		return nil, internal("encrypt: %v", err)
	}
	return blob, nil
}

// asymmetricDecrypt opens an RSA-OAEP or SM2PKE ciphertext with an
// asymmetric encryption key's private key.
func (c *call) asymmetricDecrypt() (any, error) {
	ignore, err := c.ignoresCiphertext()
	if err != nil {
		return nil, err
	}
	if ignore {
		return nil, c.dryPrivateDecrypt("KeyId", "KeyVersionId", "Algorithm")
	}
	opened, err := c.privateDecrypt("KeyId", "KeyVersionId", "Algorithm")
	if err != nil {
		return nil, err
	}
	return opened, nil
}

// privateDecrypt opens CiphertextBlob with the private key of the
// asymmetric encryption key keyParam names, by the algorithm algParam
// names. What does not open is InvalidCiphertext, whatever the reason:
// which step failed would be an oracle.
func (c *call) privateDecrypt(keyParam, versionParam, algParam string) (Opened, error) {
	hash, alg, blob, err := c.asymmetricCiphertext(algParam)
	if err != nil {
		return Opened{}, err
	}
	k, vid, priv, err := c.privateKeyAt(keyParam, versionParam, CodeInvalidKeyUsage, UsageEncrypt, alg)
	if err != nil {
		return Opened{}, err
	}
	pt, err := openWith(priv, hash, blob)
	if err != nil {
		return Opened{}, err
	}
	return Opened{KeyID: k.ID, VersionID: vid, Plaintext: pt}, nil
}

// dryPrivateDecrypt checks what privateDecrypt would, without a
// ciphertext: the algorithm, the key and the caller's permission. A DryRun
// that ignores the ciphertext runs it; it answers errDryRunOK when every
// check passes.
func (c *call) dryPrivateDecrypt(keyParam, versionParam, algParam string) error {
	_, alg, err := c.encryptionAlgorithm(algParam)
	if err != nil {
		return err
	}
	_, _, _, err = c.privateKeyAt(keyParam, versionParam, CodeInvalidKeyUsage, UsageEncrypt, alg)
	return err
}

// asymmetricCiphertext reads algParam, an asymmetric encryption algorithm
// (encryptionAlgorithm), and CiphertextBlob, base64 of a ciphertext as long
// as the longest of any asymmetric key's.
func (c *call) asymmetricCiphertext(algParam string) (crypto.Hash, string, []byte, error) {
	hash, alg, err := c.encryptionAlgorithm(algParam)
	if err != nil {
		return 0, "", nil, err
	}
	blob, err := c.bytes("CiphertextBlob", max(6144, maxSM2Ciphertext))
	if err != nil {
		return 0, "", nil, err
	}
	return hash, alg, blob, nil
}

// openWith opens an RSA-OAEP (with hash) or SM2PKE ciphertext with priv.
// What does not open is InvalidCiphertext, whatever the reason: which step
// failed would be an oracle.
func openWith(priv privateKeyOf, hash crypto.Hash, blob []byte) ([]byte, error) {
	var pt []byte
	var err error
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		pt, err = rsa.DecryptOAEP(hash.New(), nil, p, blob, nil)
	case *sm2.PrivateKey:
		pt, err = sm2.Decrypt(p, blob)
	}
	if err != nil || pt == nil {
		return nil, errInvalidCiphertext
	}
	return pt, nil
}
