package core

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	gmecdh "github.com/emmansun/gmsm/ecdh"
	"github.com/emmansun/gmsm/sm2"
)

// PKCS #8 and SubjectPublicKeyInfo for every asymmetric key: x509 writes and
// reads the standard library's kinds; secp256k1, SM2, ML-DSA and ML-KEM
// keys, which it does not know, are written and read in their own files.

// oidPublicKeyEC is the algorithm of an EC key, whose parameters name its
// curve (RFC 5480).
var oidPublicKeyEC = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}

// pkcs8 is the ASN.1 of PKCS #8 (RFC 5208).
type pkcs8 struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
}

// spki is the ASN.1 of a SubjectPublicKeyInfo (RFC 5280).
type spki struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// marshalPKCS8 encodes a private key in PKCS #8, DER. The caller clears it.
func marshalPKCS8(priv privateKeyOf) ([]byte, error) {
	switch k := priv.(type) {
	case k1PrivateKey:
		return marshalK1(k)
	case *sm2.PrivateKey:
		return marshalSM2(k)
	case mldsaPrivateKey:
		return marshalMLDSA(k)
	case mlkemPrivateKey:
		return marshalMLKEM(k)
	}
	return x509.MarshalPKCS8PrivateKey(priv)
}

// marshalPKIX encodes a public key as a SubjectPublicKeyInfo, DER.
func marshalPKIX(pub crypto.PublicKey) ([]byte, error) {
	switch k := pub.(type) {
	case k1PublicKey:
		return marshalK1Public(k)
	case *ecdsa.PublicKey:
		if sm2.IsSM2PublicKey(k) {
			return marshalSM2Public(k)
		}
	case *gmecdh.PublicKey:
		return marshalECPublic(oidSM2, k.Bytes())
	case mldsaPublicKey:
		return marshalMLDSAPublic(k)
	case mlkemPublicKey:
		return marshalMLKEMPublic(k)
	}
	return x509.MarshalPKIXPublicKey(pub)
}

// parsePKCS8 decodes a private key from PKCS #8, DER.
func parsePKCS8(der []byte) (any, error) {
	var p pkcs8
	rest, err := asn1.Unmarshal(der, &p)
	defer clear(p.PrivateKey)
	if err == nil && len(rest) == 0 {
		if spec := mldsaOf(p.Algorithm.Algorithm); spec != nil {
			return parseMLDSA(spec, p.PrivateKey)
		}
		if spec := mlkemOf(p.Algorithm.Algorithm); spec != nil {
			return parseMLKEM(spec, p.PrivateKey)
		}
		if onCurve(p.Algorithm, oidSecp256k1) {
			return parseK1(p.PrivateKey)
		}
		if onCurve(p.Algorithm, oidSM2) {
			return parseSM2(p.PrivateKey)
		}
	}
	return x509.ParsePKCS8PrivateKey(der)
}

// The post-quantum keys, ML-DSA's and ML-KEM's, are written alike, by RFC
// 9881 and the IETF's ML-KEM profile: a private key as the seed it is made
// from, in PKCS #8 as [0] IMPLICIT OCTET STRING, and a public key's raw
// bytes in a SubjectPublicKeyInfo; the algorithm is the OID alone.

// marshalSeed encodes a private key of the algorithm oid made from seed.
func marshalSeed(oid asn1.ObjectIdentifier, seed []byte) ([]byte, error) {
	inner, err := asn1.Marshal(seed)
	if err != nil {
		return nil, err
	}
	defer clear(inner)
	inner[0] = 0x80 // the OCTET STRING's tag made context-specific [0]
	return asn1.Marshal(pkcs8{Algorithm: pkix.AlgorithmIdentifier{Algorithm: oid}, PrivateKey: inner})
}

// seedOf reads the seed of size bytes from a PKCS #8 private key's inner
// octets, which the caller clears; the seed is a copy.
func seedOf(inner []byte, size int) ([]byte, error) {
	if len(inner) != 2+size || inner[0] != 0x80 || int(inner[1]) != size {
		return nil, errors.New("a post-quantum private key not in its seed form")
	}
	return append([]byte(nil), inner[2:]...), nil
}

// marshalRawPublic encodes the raw public key of the algorithm oid.
func marshalRawPublic(oid asn1.ObjectIdentifier, raw []byte) ([]byte, error) {
	return asn1.Marshal(spki{Algorithm: pkix.AlgorithmIdentifier{Algorithm: oid}, PublicKey: asn1.BitString{Bytes: raw, BitLength: 8 * len(raw)}})
}

// The EC keys x509 does not know, on secp256k1 and SM2's curve, are written
// as it writes the NIST curves' (RFC 5915 and RFC 5480): the algorithm
// id-ecPublicKey with the curve's OID, the private key as an ECPrivateKey
// holding the scalar and the uncompressed public point.

// ecPrivateKey is the ASN.1 of an EC private key within PKCS #8 (RFC 5915).
type ecPrivateKey struct {
	Version       int
	PrivateKey    []byte
	NamedCurveOID asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey     asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

// ecAlgorithm is the AlgorithmIdentifier of an EC key on curve.
func ecAlgorithm(curve asn1.ObjectIdentifier) pkix.AlgorithmIdentifier {
	params, _ := asn1.Marshal(curve) // an OID always marshals
	return pkix.AlgorithmIdentifier{Algorithm: oidPublicKeyEC, Parameters: asn1.RawValue{FullBytes: params}}
}

// onCurve reports whether alg is an EC key's on curve.
func onCurve(alg pkix.AlgorithmIdentifier, curve asn1.ObjectIdentifier) bool {
	var named asn1.ObjectIdentifier
	_, err := asn1.Unmarshal(alg.Parameters.FullBytes, &named)
	return alg.Algorithm.Equal(oidPublicKeyEC) && err == nil && named.Equal(curve)
}

// marshalEC encodes the private key scalar on curve, whose public point is
// point, in PKCS #8. The caller clears scalar and the result.
func marshalEC(curve asn1.ObjectIdentifier, scalar, point []byte) ([]byte, error) {
	inner, err := asn1.Marshal(ecPrivateKey{Version: 1, PrivateKey: scalar,
		PublicKey: asn1.BitString{Bytes: point, BitLength: 8 * len(point)}})
	defer clear(inner)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(pkcs8{Algorithm: ecAlgorithm(curve), PrivateKey: inner})
}

// marshalECPublic encodes the uncompressed point of a public key on curve
// as a SubjectPublicKeyInfo.
func marshalECPublic(curve asn1.ObjectIdentifier, point []byte) ([]byte, error) {
	return asn1.Marshal(spki{Algorithm: ecAlgorithm(curve), PublicKey: asn1.BitString{Bytes: point, BitLength: 8 * len(point)}})
}

// ecScalar reads the 32-byte scalar of a 256-bit curve's (named by what)
// EC private key from PKCS #8's inner octets. The caller clears both.
// SEC 1 writes the scalar in exactly 32 bytes, but some writers drop its
// leading zero bytes (OpenSSL once did, and tjfoc's x509 does, one key in
// 256) or add some: like Go's x509 for the NIST curves, this reads both,
// left-padding a short scalar to 32 bytes.
func ecScalar(inner []byte, what string) ([]byte, error) {
	var ec ecPrivateKey
	rest, err := asn1.Unmarshal(inner, &ec)
	defer clear(ec.PrivateKey)
	d := ec.PrivateKey
	for len(d) > 32 && d[0] == 0 {
		d = d[1:]
	}
	if err != nil || len(rest) > 0 || ec.Version != 1 || len(d) == 0 || len(d) > 32 {
		return nil, fmt.Errorf("malformed %s private key", what)
	}
	scalar := make([]byte, 32)
	copy(scalar[32-len(d):], d)
	return scalar, nil
}
