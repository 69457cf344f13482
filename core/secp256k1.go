package core

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"io"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// secp256k1 (AWS's ECC_SECG_P256K1, Alibaba's EC_P256K) is the curve of
// Bitcoin's and Ethereum's signatures. Go's standard library lacks it: its
// arithmetic and ECDSA are decred's (constant time; signatures
// deterministic by RFC 6979, with the low S that Bitcoin and Ethereum
// require, which every verifier takes), and its PKCS #8 and
// SubjectPublicKeyInfo, x509's for the NIST curves, are written here (RFC
// 5915 and RFC 5480, with the curve's OID 1.3.132.0.10).

var (
	oidPublicKeyEC = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidSecp256k1   = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
)

// k1PrivateKey is a secp256k1 private key: a crypto.Signer of ECDSA
// signatures over a digest, DER, as x509's keys are for the NIST curves.
type k1PrivateKey struct{ key *secp256k1.PrivateKey }

// k1PublicKey is a secp256k1 public key.
type k1PublicKey struct{ key *secp256k1.PublicKey }

func newK1Key(rand io.Reader) (k1PrivateKey, error) {
	key, err := secp256k1.GeneratePrivateKeyFromRand(rand)
	return k1PrivateKey{key}, err
}

// Public returns the key's public key.
func (k k1PrivateKey) Public() crypto.PublicKey { return k1PublicKey{k.key.PubKey()} }

// Sign signs digest, the hash of the message, with ECDSA.
func (k k1PrivateKey) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	return k1ecdsa.Sign(k.key, digest).Serialize(), nil
}

// verify reports whether sig, DER, is pub's ECDSA signature of digest.
func (pub k1PublicKey) verify(digest, sig []byte) bool {
	s, err := k1ecdsa.ParseDERSignature(sig)
	return err == nil && s.Verify(digest, pub.key)
}

// pkcs8 and ecPrivateKey are the ASN.1 of PKCS #8 (RFC 5208) and of an EC
// private key within it (RFC 5915).
type pkcs8 struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
}

type ecPrivateKey struct {
	Version    int
	PrivateKey []byte
	PublicKey  asn1.BitString `asn1:"optional,explicit,tag:1"`
}

// spki is the ASN.1 of a SubjectPublicKeyInfo (RFC 5280).
type spki struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// k1Algorithm is the AlgorithmIdentifier of a secp256k1 key.
func k1Algorithm() pkix.AlgorithmIdentifier {
	params, _ := asn1.Marshal(oidSecp256k1) // an OID always marshals
	return pkix.AlgorithmIdentifier{Algorithm: oidPublicKeyEC, Parameters: asn1.RawValue{FullBytes: params}}
}

// marshalPKCS8 encodes a private key in PKCS #8, DER. The caller clears it.
func marshalPKCS8(priv crypto.Signer) ([]byte, error) {
	k, ok := priv.(k1PrivateKey)
	if !ok {
		return x509.MarshalPKCS8PrivateKey(priv)
	}
	scalar := k.key.Serialize()
	defer clear(scalar)
	inner, err := asn1.Marshal(ecPrivateKey{Version: 1, PrivateKey: scalar,
		PublicKey: asn1.BitString{Bytes: k.key.PubKey().SerializeUncompressed(), BitLength: 65 * 8}})
	defer clear(inner)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(pkcs8{Algorithm: k1Algorithm(), PrivateKey: inner})
}

// marshalPKIX encodes a public key as a SubjectPublicKeyInfo, DER.
func marshalPKIX(pub crypto.PublicKey) ([]byte, error) {
	k, ok := pub.(k1PublicKey)
	if !ok {
		return x509.MarshalPKIXPublicKey(pub)
	}
	return asn1.Marshal(spki{Algorithm: k1Algorithm(), PublicKey: asn1.BitString{Bytes: k.key.SerializeUncompressed(), BitLength: 65 * 8}})
}

// parsePKCS8 decodes a private key from PKCS #8, DER: a secp256k1 key
// here, any other by x509.
func parsePKCS8(der []byte) (any, error) {
	var p pkcs8
	rest, err := asn1.Unmarshal(der, &p)
	defer clear(p.PrivateKey)
	if err != nil || len(rest) > 0 || !p.Algorithm.Algorithm.Equal(oidPublicKeyEC) {
		return x509.ParsePKCS8PrivateKey(der)
	}
	var curve asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(p.Algorithm.Parameters.FullBytes, &curve); err != nil || !curve.Equal(oidSecp256k1) {
		return x509.ParsePKCS8PrivateKey(der)
	}
	var ec ecPrivateKey
	if rest, err := asn1.Unmarshal(p.PrivateKey, &ec); err != nil || len(rest) > 0 || ec.Version != 1 || len(ec.PrivateKey) != 32 {
		return nil, errors.New("malformed secp256k1 private key")
	}
	defer clear(ec.PrivateKey)
	var scalar secp256k1.ModNScalar
	if overflow := scalar.SetByteSlice(ec.PrivateKey); overflow || scalar.IsZero() {
		return nil, errors.New("secp256k1 private key out of range")
	}
	return k1PrivateKey{secp256k1.NewPrivateKey(&scalar)}, nil
}
