package core

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
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
