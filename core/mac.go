package core

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"hash"

	"github.com/emmansun/gmsm/sm4"
)

// An HMAC key holds secret material of its spec's size and makes and checks
// message authentication codes with it (GenerateMac, VerifyMac), as AWS's
// HMAC keys do: for tokens, signed cookies or blind indexes whose key must
// never leave the service. It seals nothing, so the envelope operations
// refuse it, and it has one version: it does not rotate, as on AWS.

// Key usages: what a key's material is for.
const (
	UsageEncrypt = "ENCRYPT/DECRYPT"
	UsageMAC     = "GENERATE/VERIFY_MAC"
)

// The KeySpecs of symmetric encryption keys. SpecAES is AWS's
// SYMMETRIC_DEFAULT and every key's before there were others. SpecSM4's
// envelopes are SM4-GCM (SM4 is GB/T 32907's block cipher, which China's
// commercial cryptography rules ask for), in the same format under a
// 16-byte key: Alibaba Cloud makes such keys, AWS does not.
const (
	SpecAES = "Aliyun_AES_256"
	SpecSM4 = "Aliyun_SM4"
)

// The ciphers symmetric keys seal in, as the KMS instance API names them:
// a key's spec decides which.
const (
	CipherAESGCM = "AES_GCM"
	CipherSM4GCM = "SM4_GCM"
)

// cipherOf is the cipher a symmetric key seals in.
func cipherOf(k *Key) string {
	if k.KeySpec == SpecSM4 {
		return CipherSM4GCM
	}
	return CipherAESGCM
}

// namedCipher refuses an Algorithm the caller named that is not the
// cipher k seals in: an envelope under an SM4 key is never AES-GCM,
// whatever was asked.
func (c *call) namedCipher(k *Key) error {
	if alg := c.str("Algorithm"); alg != "" && alg != cipherOf(k) {
		return invalidParam("Algorithm", "the key %q seals in %s, as its spec %s decides", k.ID, cipherOf(k), k.KeySpec)
	}
	return nil
}

// MaxMacMessage is the longest message GenerateMac and VerifyMac take, in
// bytes, as on AWS: a longer one is hashed by the caller first.
const MaxMacMessage = 4096

// macSpec is an HMAC KeySpec: its material's size and its one algorithm.
type macSpec struct {
	spec      string
	algorithm Algorithm
	size      int
	hash      func() hash.Hash
}

// macSpecs are AWS's HMAC key specs. Each takes the algorithm of its own
// size only, with material as long as the hash's output.
var macSpecs = []macSpec{
	{"HMAC_224", Algorithm{keyMacAlgorithm, "HMAC_SHA_224"}, 28, sha256.New224},
	{"HMAC_256", Algorithm{keyMacAlgorithm, "HMAC_SHA_256"}, 32, sha256.New},
	{"HMAC_384", Algorithm{keyMacAlgorithm, "HMAC_SHA_384"}, 48, sha512.New384},
	{"HMAC_512", Algorithm{keyMacAlgorithm, "HMAC_SHA_512"}, 64, sha512.New},
}

// macSpecOf is the HMAC spec of keySpec, if it is one.
func macSpecOf(keySpec string) (macSpec, bool) {
	for _, s := range macSpecs {
		if s.spec == keySpec {
			return s, true
		}
	}
	return macSpec{}, false
}

// KeySpecs lists the KeySpec values keys are made in: the symmetric
// encryption key's, the HMAC keys' and the asymmetric keys', in AWS's
// names.
func KeySpecs() []string {
	out := []string{SpecAES, SpecSM4}
	for _, s := range macSpecs {
		out = append(out, s.spec)
	}
	for _, s := range asymmetricKeySpecs {
		out = append(out, s.name)
	}
	return out
}

// MacAlgorithms is the MAC algorithm of an HMAC key, and nil for any other.
func (k Key) MacAlgorithms() []string {
	if s, ok := macSpecOf(k.KeySpec); ok {
		return []string{s.algorithm.name}
	}
	return nil
}

// materialSize is the size of a version's material under keySpec.
func materialSize(keySpec string) int {
	if s, ok := macSpecOf(keySpec); ok {
		return s.size
	}
	if keySpec == SpecSM4 {
		return sm4.BlockSize
	}
	return KeyMaterialSize
}

// encrypts refuses a key that does not seal envelopes, anything but a
// symmetric encryption key: every envelope operation's check, beside
// usable's.
func encrypts(k *Key) error {
	switch {
	case symmetric(k):
		return nil
	case k.KeyUsage == UsageEncrypt:
		return Errorf(CodeInvalidKeyUsage, "The key %q is an asymmetric key (KeySpec %s): it encrypts with AsymmetricEncrypt (AWS: an RSAES EncryptionAlgorithm), and makes no envelopes or data keys.", k.ID, k.KeySpec)
	}
	return Errorf(CodeInvalidKeyUsage, "The key %q is a key for %s (KeySpec %s), and does not encrypt or decrypt.", k.ID, k.KeyUsage, k.KeySpec)
}

// symmetric reports whether k is a symmetric encryption key, as every key
// was before there were others (their KeySpec is set; "" is read alike).
func symmetric(k *Key) bool { return symmetricSpec(k.KeySpec) }

// symmetricSpec reports whether spec is a symmetric encryption key's.
func symmetricSpec(spec string) bool { return spec == SpecAES || spec == "" || spec == SpecSM4 }

// rotates refuses a key whose material does not change: imported material
// is the caller's, and an HMAC or asymmetric key has one version, as on AWS.
func rotates(k *Key) error {
	if k.Origin == OriginExternal {
		return Errorf(CodeUnsupportedOrigin, "The key %q has imported material; it does not rotate.", k.ID)
	}
	if !symmetric(k) {
		return Errorf(CodeUnsupportedKeySpec, "The key %q is a %s key for %s; it does not rotate.", k.ID, k.KeySpec, k.KeyUsage)
	}
	return nil
}

// Mac is the result of GenerateMac.
type Mac struct {
	KeyID, VersionID, Algorithm string
	Mac                         []byte
}

// MacVerified is the result of a VerifyMac whose MAC is valid; an invalid
// one is refused (CodeInvalidMac).
type MacVerified struct {
	KeyID, VersionID, Algorithm string
}

func (c *call) generateMac() (any, error) {
	k, spec, msg, err := c.macKey()
	if err != nil {
		return nil, err
	}
	vid, mac, err := c.s.mac(c.ctx, &k, spec, msg)
	if err != nil {
		return nil, err
	}
	return Mac{KeyID: k.ID, VersionID: vid, Algorithm: spec.algorithm.name, Mac: mac}, nil
}

func (c *call) verifyMac() (any, error) {
	given, err := c.bytes("Mac", 6144)
	if err != nil {
		return nil, err
	}
	k, spec, msg, err := c.macKey()
	if err != nil {
		return nil, err
	}
	vid, mac, err := c.s.mac(c.ctx, &k, spec, msg)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(mac, given) {
		return nil, Errorf(CodeInvalidMac, "The Mac is not the MAC of this message under this key and MacAlgorithm.")
	}
	return MacVerified{KeyID: k.ID, VersionID: vid, Algorithm: spec.algorithm.name}, nil
}

// macKey reads the parameters both MAC operations share and resolves the
// key, authorized, usable, an HMAC key and of the algorithm's size. A DryRun
// ends here, every check passed.
func (c *call) macKey() (Key, macSpec, []byte, error) {
	msg, err := c.bytes("Message", MaxMacMessage)
	if err != nil {
		return Key{}, macSpec{}, nil, err
	}
	alg, err := c.required("MacAlgorithm")
	if err != nil {
		return Key{}, macSpec{}, nil, err
	}
	for i := range macSpecs {
		if macSpecs[i].algorithm.name == alg {
			c.facts.Algorithm = &macSpecs[i].algorithm
		}
	}
	if c.facts.Algorithm == nil {
		return Key{}, macSpec{}, nil, invalidParam("MacAlgorithm", "it must be HMAC_SHA_224, HMAC_SHA_256, HMAC_SHA_384 or HMAC_SHA_512")
	}
	var k Key
	if err := c.resolveKey(&k, "KeyId"); err != nil {
		return Key{}, macSpec{}, nil, err
	}
	if err := usable(&k); err != nil {
		return Key{}, macSpec{}, nil, err
	}
	spec, ok := macSpecOf(k.KeySpec)
	switch {
	case !ok:
		return Key{}, macSpec{}, nil, Errorf(CodeInvalidKeyUsage, "The key %q is not an HMAC key: MACs are made and verified with a key of KeySpec HMAC_224, HMAC_256, HMAC_384 or HMAC_512.", k.ID)
	case spec.algorithm.name != alg:
		return Key{}, macSpec{}, nil, Errorf(CodeInvalidKeyUsage, "The MacAlgorithm %s is not compatible with the key %q, whose KeySpec %s takes %s.", alg, k.ID, spec.spec, spec.algorithm.name)
	}
	if c.dry {
		return Key{}, macSpec{}, nil, errDryRunOK
	}
	return k, spec, msg, nil
}

// mac is the MAC of msg under the primary version of k, an HMAC key of spec.
// The material is unwrapped for this one MAC and cleared.
func (s *Service) mac(ctx context.Context, k *Key, spec macSpec, msg []byte) (string, []byte, error) {
	material, err := s.material(ctx, k, k.PrimaryVersionID)
	if err != nil {
		return "", nil, storeErr(err)
	}
	defer clear(material)
	if len(material) != spec.size {
		return "", nil, internal("key %s version %s holds %d bytes, not the %d of %s", k.ID, k.PrimaryVersionID, len(material), spec.size, spec.spec)
	}
	m := hmac.New(spec.hash, material)
	m.Write(msg)
	return k.PrimaryVersionID, m.Sum(nil), nil
}
