package core

import (
	"crypto"
	"encoding/asn1"
	"io"

	"github.com/cloudflare/circl/kem"
	"github.com/cloudflare/circl/kem/mlkem/mlkem1024"
	"github.com/cloudflare/circl/kem/mlkem/mlkem512"
	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
)

// ML-KEM (FIPS 203) keys agree a secret with a post-quantum key
// encapsulation: anyone holding the public key, or Encapsulate, makes a
// fresh 32-byte secret and its ciphertext; only Decapsulate, with the
// private key here, recovers the secret from the ciphertext (AWS's
// ML_KEM_512, ML_KEM_768 and ML_KEM_1024 keys, for ENCAPSULATE_DECAPSULATE,
// and data key pairs of the same specs). Go's standard library lacks
// ML-KEM-512; all three are Cloudflare's circl, as ML-DSA is. A private key
// is kept as its 64-byte seed in PKCS #8's seed form, and a public key
// handed out as a SubjectPublicKeyInfo, on NIST's OIDs, as the IETF's ML-KEM
// profile for certificates writes them and OpenSSL reads them.

// UsageEncapsulate is the usage of an ML-KEM key.
const UsageEncapsulate = "ENCAPSULATE_DECAPSULATE"

// mlkemAlgorithm is an ML-KEM key's one algorithm.
const mlkemAlgorithm = "ML_KEM"

// mlkemSpec is an ML-KEM parameter set: its OID and its scheme.
type mlkemSpec struct {
	oid    asn1.ObjectIdentifier
	scheme kem.Scheme
}

var (
	mlkem512Spec  = mlkemSpec{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 1}, mlkem512.Scheme()}
	mlkem768Spec  = mlkemSpec{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 2}, mlkem768.Scheme()}
	mlkem1024Spec = mlkemSpec{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 3}, mlkem1024.Scheme()}
	mlkemSpecs    = []*mlkemSpec{&mlkem512Spec, &mlkem768Spec, &mlkem1024Spec}
)

// mlkemPrivateKey is an ML-KEM decapsulation key and the seed it was made
// from.
type mlkemPrivateKey struct {
	spec *mlkemSpec
	seed []byte
	sk   kem.PrivateKey
}

// mlkemPublicKey is an ML-KEM encapsulation key.
type mlkemPublicKey struct {
	spec *mlkemSpec
	pk   kem.PublicKey
}

func newMLKEMKey(spec *mlkemSpec, rand io.Reader) (mlkemPrivateKey, error) {
	seed := make([]byte, spec.scheme.SeedSize())
	if _, err := io.ReadFull(rand, seed); err != nil {
		return mlkemPrivateKey{}, err
	}
	_, sk := spec.scheme.DeriveKeyPair(seed)
	return mlkemPrivateKey{spec, seed, sk}, nil
}

// Public returns the key's encapsulation key.
func (k mlkemPrivateKey) Public() crypto.PublicKey { return mlkemPublicKey{k.spec, k.sk.Public()} }

// marshalMLKEM encodes an ML-KEM private key in PKCS #8's seed form.
func marshalMLKEM(k mlkemPrivateKey) ([]byte, error) { return marshalSeed(k.spec.oid, k.seed) }

// marshalMLKEMPublic encodes an ML-KEM public key as a SubjectPublicKeyInfo.
func marshalMLKEMPublic(k mlkemPublicKey) ([]byte, error) {
	raw, err := k.pk.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return marshalRawPublic(k.spec.oid, raw)
}

// parseMLKEM decodes PKCS #8's seed form of an ML-KEM key of spec.
func parseMLKEM(spec *mlkemSpec, inner []byte) (mlkemPrivateKey, error) {
	seed, err := seedOf(inner, spec.scheme.SeedSize())
	if err != nil {
		return mlkemPrivateKey{}, err
	}
	_, sk := spec.scheme.DeriveKeyPair(seed)
	return mlkemPrivateKey{spec, seed, sk}, nil
}

// mlkemOf is the ML-KEM parameter set of an algorithm OID, if it is one.
func mlkemOf(oid asn1.ObjectIdentifier) *mlkemSpec {
	for _, s := range mlkemSpecs {
		if s.oid.Equal(oid) {
			return s
		}
	}
	return nil
}

// EncapsulationAlgorithms lists an ML-KEM key's algorithm, ML_KEM, and nil
// for any other key.
func (k Key) EncapsulationAlgorithms() []string {
	if k.KeyUsage != UsageEncapsulate {
		return nil
	}
	return []string{mlkemAlgorithm}
}

// Encapsulated is the result of Encapsulate: a fresh shared secret, which
// Wipe clears once it is answered, and its ciphertext.
type Encapsulated struct {
	KeyID, VersionID, Algorithm string
	Secret, Ciphertext          []byte
}

// Decapsulated is the result of Decapsulate: the secret, which Wipe clears
// once it is answered.
type Decapsulated struct {
	KeyID, VersionID, Algorithm string
	Secret                      []byte
}

// encapsulationKey reads EncapsulationAlgorithm and loads KeyId's ML-KEM
// key.
func (c *call) encapsulationKey() (Key, string, mlkemPrivateKey, error) {
	alg, err := c.required("EncapsulationAlgorithm")
	if err != nil {
		return Key{}, "", mlkemPrivateKey{}, err
	}
	if alg != mlkemAlgorithm {
		return Key{}, "", mlkemPrivateKey{}, invalidParam("EncapsulationAlgorithm", "it must be ML_KEM")
	}
	k, vid, priv, err := c.privateKey(CodeInvalidKeyUsage, UsageEncapsulate, alg)
	if err != nil {
		return Key{}, "", mlkemPrivateKey{}, err
	}
	held, ok := priv.(mlkemPrivateKey)
	if !ok {
		return Key{}, "", mlkemPrivateKey{}, internal("key %s version %s holds no ML-KEM key", k.ID, vid)
	}
	return k, vid, held, nil
}

func (c *call) encapsulate() (any, error) {
	k, vid, priv, err := c.encapsulationKey()
	if err != nil {
		return nil, err
	}
	seed := make([]byte, priv.spec.scheme.EncapsulationSeedSize())
	defer clear(seed)
	if _, err := io.ReadFull(c.s.rand, seed); err != nil {
		return nil, internal("encapsulation seed: %w", err)
	}
	ct, secret, err := priv.spec.scheme.EncapsulateDeterministically(priv.sk.Public(), seed)
	if err != nil {
		return nil, internal("encapsulate: %w", err)
	}
	return Encapsulated{KeyID: k.ID, VersionID: vid, Algorithm: mlkemAlgorithm, Secret: secret, Ciphertext: ct}, nil
}

// decapsulate recovers the secret of a ciphertext made for the key. ML-KEM
// rejects implicitly: a ciphertext that was not made for this key yields
// another secret, not an error, so that no answer is an oracle.
func (c *call) decapsulate() (any, error) {
	ct, err := c.bytes("SharedSecretCiphertextBlob", 6144)
	if err != nil {
		return nil, err
	}
	k, vid, priv, err := c.encapsulationKey()
	if err != nil {
		return nil, err
	}
	if len(ct) != priv.spec.scheme.CiphertextSize() {
		return nil, invalidParam("SharedSecretCiphertextBlob", "it must be the %d bytes of a %s ciphertext", priv.spec.scheme.CiphertextSize(), k.KeySpec)
	}
	secret, err := priv.spec.scheme.Decapsulate(priv.sk, ct)
	if err != nil {
		return nil, internal("decapsulate: %w", err)
	}
	return Decapsulated{KeyID: k.ID, VersionID: vid, Algorithm: mlkemAlgorithm, Secret: secret}, nil
}
