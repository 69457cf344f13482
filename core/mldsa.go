package core

import (
	"crypto"
	"encoding/asn1"
	"io"

	"github.com/cloudflare/circl/sign"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// ML-DSA (FIPS 204) keys sign with a post-quantum signature: AWS's
// ML_DSA_44, ML_DSA_65 and ML_DSA_87 keys, whose one algorithm,
// ML_DSA_SHAKE_256, signs the message itself (pure ML-DSA, empty context),
// hedged with fresh randomness as FIPS 204 recommends. Go's standard library
// lacks it; its arithmetic is Cloudflare's circl. A private key is kept as
// its 32-byte seed, in PKCS #8's seed form, and a public key is handed out
// as a SubjectPublicKeyInfo, both by RFC 9881, on the NIST OIDs.

// mldsaSpec is an ML-DSA parameter set: its OID, its scheme and its hedged
// signing.
type mldsaSpec struct {
	oid    asn1.ObjectIdentifier
	scheme sign.Scheme
	sign   func(sk sign.PrivateKey, msg []byte) ([]byte, error)
}

var (
	mldsa44Spec = mldsaSpec{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 17}, mldsa44.Scheme(), func(sk sign.PrivateKey, msg []byte) ([]byte, error) {
		sig := make([]byte, mldsa44.SignatureSize)
		return sig, mldsa44.SignTo(sk.(*mldsa44.PrivateKey), msg, nil, true, sig)
	}}
	mldsa65Spec = mldsaSpec{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 18}, mldsa65.Scheme(), func(sk sign.PrivateKey, msg []byte) ([]byte, error) {
		sig := make([]byte, mldsa65.SignatureSize)
		return sig, mldsa65.SignTo(sk.(*mldsa65.PrivateKey), msg, nil, true, sig)
	}}
	mldsa87Spec = mldsaSpec{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 19}, mldsa87.Scheme(), func(sk sign.PrivateKey, msg []byte) ([]byte, error) {
		sig := make([]byte, mldsa87.SignatureSize)
		return sig, mldsa87.SignTo(sk.(*mldsa87.PrivateKey), msg, nil, true, sig)
	}}
	mldsaSpecs = []*mldsaSpec{&mldsa44Spec, &mldsa65Spec, &mldsa87Spec}
)

// mldsaPrivateKey is an ML-DSA private key and the seed it was made from.
type mldsaPrivateKey struct {
	spec *mldsaSpec
	seed []byte
	sk   sign.PrivateKey
}

// mldsaPublicKey is an ML-DSA public key.
type mldsaPublicKey struct {
	spec *mldsaSpec
	pk   sign.PublicKey
}

func newMLDSAKey(spec *mldsaSpec, rand io.Reader) (mldsaPrivateKey, error) {
	seed := make([]byte, spec.scheme.SeedSize())
	if _, err := io.ReadFull(rand, seed); err != nil {
		return mldsaPrivateKey{}, err
	}
	_, sk := spec.scheme.DeriveKey(seed)
	return mldsaPrivateKey{spec, seed, sk}, nil
}

// Public returns the key's public key.
func (k mldsaPrivateKey) Public() crypto.PublicKey {
	return mldsaPublicKey{k.spec, k.sk.Public().(sign.PublicKey)}
}

// Sign signs the message itself: ML-DSA hashes inside the signature.
func (k mldsaPrivateKey) Sign(_ io.Reader, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
	return k.spec.sign(k.sk, msg)
}

// verify reports whether sig is pub's signature of msg.
func (pub mldsaPublicKey) verify(msg, sig []byte) bool {
	return pub.spec.scheme.Verify(pub.pk, msg, sig, nil)
}

// marshalMLDSA encodes an ML-DSA private key in PKCS #8's seed form.
func marshalMLDSA(k mldsaPrivateKey) ([]byte, error) { return marshalSeed(k.spec.oid, k.seed) }

// marshalMLDSAPublic encodes an ML-DSA public key as a SubjectPublicKeyInfo.
func marshalMLDSAPublic(k mldsaPublicKey) ([]byte, error) {
	raw, err := k.pk.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return marshalRawPublic(k.spec.oid, raw)
}

// parseMLDSA decodes PKCS #8's seed form of an ML-DSA key of spec.
func parseMLDSA(spec *mldsaSpec, inner []byte) (mldsaPrivateKey, error) {
	seed, err := seedOf(inner, spec.scheme.SeedSize())
	if err != nil {
		return mldsaPrivateKey{}, err
	}
	_, sk := spec.scheme.DeriveKey(seed)
	return mldsaPrivateKey{spec, seed, sk}, nil
}

// mldsaOf is the ML-DSA parameter set of an algorithm OID, if it is one.
func mldsaOf(oid asn1.ObjectIdentifier) *mldsaSpec {
	for _, s := range mldsaSpecs {
		if s.oid.Equal(oid) {
			return s
		}
	}
	return nil
}
