package core

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
)

// PKCS #8 and SubjectPublicKeyInfo for every asymmetric key: x509 writes and
// reads the standard library's kinds; secp256k1, ML-DSA and ML-KEM keys,
// which it does not know, are written and read in their own files.

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
		if isK1(p.Algorithm) {
			return parseK1(p.PrivateKey)
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
