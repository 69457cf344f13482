package core

import (
	"crypto"
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

var oidSecp256k1 = asn1.ObjectIdentifier{1, 3, 132, 0, 10}

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

// marshalK1 encodes a secp256k1 private key in PKCS #8.
func marshalK1(k k1PrivateKey) ([]byte, error) {
	scalar := k.key.Serialize()
	defer clear(scalar)
	return marshalEC(oidSecp256k1, scalar, k.key.PubKey().SerializeUncompressed())
}

// marshalK1Public encodes a secp256k1 public key as a SubjectPublicKeyInfo.
func marshalK1Public(k k1PublicKey) ([]byte, error) {
	return marshalECPublic(oidSecp256k1, k.key.SerializeUncompressed())
}

// parseK1 decodes the EC private key within a secp256k1 key's PKCS #8.
func parseK1(inner []byte) (k1PrivateKey, error) {
	d, err := ecScalar(inner, "secp256k1")
	if err != nil {
		return k1PrivateKey{}, err
	}
	defer clear(d)
	var scalar secp256k1.ModNScalar
	if overflow := scalar.SetByteSlice(d); overflow || scalar.IsZero() {
		return k1PrivateKey{}, errors.New("secp256k1 private key out of range")
	}
	return k1PrivateKey{secp256k1.NewPrivateKey(&scalar)}, nil
}
