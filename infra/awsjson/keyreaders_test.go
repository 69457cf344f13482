package awsjson_test

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"

	"github.com/cloudflare/circl/kem/mlkem/mlkem1024"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/kmsless/kmsless/internal/mldsamu"
)

// x509 reads no secp256k1, ML-DSA or ML-KEM key, so the judges read them
// here, by RFC 5480 and RFC 5915 with decred's curve, and by RFC 9881 and
// the IETF's ML-KEM profile with circl.

var oidSecp256k1 = asn1.ObjectIdentifier{1, 3, 132, 0, 10}

// k1PublicKey reads a secp256k1 SubjectPublicKeyInfo; ok is false for a key
// on any other curve.
func k1PublicKey(der []byte) (*secp256k1.PublicKey, bool, error) {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		return nil, false, nil
	}
	var curve asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &curve); err != nil || !curve.Equal(oidSecp256k1) {
		return nil, false, nil
	}
	pub, err := secp256k1.ParsePubKey(info.PublicKey.Bytes)
	return pub, true, err
}

// k1Pair checks a secp256k1 pair as samePair does; k1 is false for a pair
// on any other curve.
func k1Pair(pub, der []byte) (k1 bool, err error) {
	p, k1, err := k1PublicKey(pub)
	if !k1 || err != nil {
		return k1, err
	}
	var outer struct {
		Version    int
		Algorithm  pkix.AlgorithmIdentifier
		PrivateKey []byte
	}
	var inner struct {
		Version    int
		PrivateKey []byte
		PublicKey  asn1.BitString `asn1:"optional,explicit,tag:1"`
	}
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return true, stateOutcome("private key: " + err.Error())
	}
	if _, err := asn1.Unmarshal(outer.PrivateKey, &inner); err != nil {
		return true, stateOutcome("private key: " + err.Error())
	}
	if !bytes.Equal(secp256k1.PrivKeyFromBytes(inner.PrivateKey).PubKey().SerializeCompressed(), p.SerializeCompressed()) {
		return true, stateOutcome("the private key is not the public key's")
	}
	return true, nil
}

// k1Verify reports whether sig is a DER ECDSA signature of digest by the
// secp256k1 key pub, a SubjectPublicKeyInfo.
func k1Verify(pub, digest, sig []byte) bool {
	p, k1, err := k1PublicKey(pub)
	if !k1 || err != nil {
		return false
	}
	s, err := k1ecdsa.ParseDERSignature(sig)
	return err == nil && s.Verify(digest, p)
}

// mldsaVerify reports whether sig is an ML-DSA-65 signature of msg by pub,
// an RFC 9881 SubjectPublicKeyInfo, with circl's ML-DSA.
func mldsaVerify(pub, msg, sig []byte) bool {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(pub, &info); err != nil || !info.Algorithm.Algorithm.Equal(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 18}) {
		return false
	}
	var pk mldsa65.PublicKey
	return pk.UnmarshalBinary(info.PublicKey.Bytes) == nil && mldsa65.Verify(&pk, msg, nil, sig)
}

// mlkemEncapsulate encapsulates a fresh secret with an ML-KEM-1024 public
// key, a SubjectPublicKeyInfo, with circl's ML-KEM.
func mlkemEncapsulate(pub []byte) (ct, secret []byte, ok bool) {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(pub, &info); err != nil || !info.Algorithm.Algorithm.Equal(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 3}) {
		return nil, nil, false
	}
	pk, err := mlkem1024.Scheme().UnmarshalBinaryPublicKey(info.PublicKey.Bytes)
	if err != nil {
		return nil, nil, false
	}
	ct, secret, err = mlkem1024.Scheme().Encapsulate(pk)
	return ct, secret, err == nil
}

// mldsaMu is μ, the representative of msg that ML-DSA signs under pub, an
// RFC 9881 SubjectPublicKeyInfo (mldsamu).
func mldsaMu(pub, msg []byte) []byte {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(pub, &info); err != nil {
		return nil
	}
	return mldsamu.Of(info.PublicKey.Bytes, msg)
}
