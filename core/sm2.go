package core

import (
	"crypto/ecdsa"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"io"
	"math/big"

	gmecdh "github.com/emmansun/gmsm/ecdh"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// SM2 (AWS's KeySpec SM2, Alibaba's EC_SM2) is GB/T 32918's elliptic curve
// cryptography, which China's commercial cryptography rules ask for beside
// SM4. An SM2 key signs (SM2DSA), encrypts (SM2PKE) or, on AWS, agrees keys
// (ECDH on SM2's curve), as an RSA or NIST curve key does, and is made as a
// data key pair too. Its arithmetic, signatures, key derivation and
// decryption are github.com/emmansun/gmsm's; its encryption is put
// together here from gmsm's parts (sm2Encrypt says why), and its PKCS #8
// and SubjectPublicKeyInfo are written here as secp256k1's are, with the
// curve's OID 1.2.156.10197.1.301.
//
// An SM2DSA signature signs SM3(Z ‖ M), where Z hashes the signer's
// distinguishing ID and public key together with the curve: the Digest
// Alibaba's AsymmetricSign takes, and AWS's DIGEST. A message (AWS's RAW)
// is hashed here with the ID both clouds use by default, 1234567812345678,
// since only the key's holder can compute Z without GetPublicKey.
// Signatures are DER, as ECDSA's are. An SM2PKE ciphertext is written in
// GM/T 0009's ASN.1 (C1, C3 and C2 in a SEQUENCE); decryption also takes the
// plain C1 ‖ C3 ‖ C2 concatenation other SM2 libraries write.

// oidSM2 names SM2's curve.
var oidSM2 = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301}

// MaxSM2Plaintext is the longest plaintext SM2PKE encrypts, in bytes, as on
// Alibaba Cloud. AWS's adapter holds it to AWS's 1024.
const MaxSM2Plaintext = 6047

// maxSM2Ciphertext is the longest SM2PKE ciphertext in GM/T 0009's ASN.1: a
// SEQUENCE header of 4 bytes, two INTEGER coordinates of up to 35, the
// 34-byte hash and the ciphertext's OCTET STRING header of 4.
const maxSM2Ciphertext = MaxSM2Plaintext + 4 + 2*35 + 34 + 4

var (
	sm2Algorithms = []signingAlgorithm{{name: "SM2DSA", aws: Algorithm{keySigningAlgorithm, "SM2DSA"}, sm2: true}}
	sm2PKE        = Algorithm{keyEncryptionAlgorithm, "SM2PKE"}
)

// sm2Digest is the SM2DSA digest of msg under pub, with the default
// distinguishing ID.
func sm2Digest(pub *ecdsa.PublicKey, msg []byte) ([]byte, error) {
	return sm2.CalculateSM2Hash(pub, msg, nil)
}

// sm2Ciphertext is an SM2PKE ciphertext in GM/T 0009's ASN.1: C1's
// coordinates, C3 (the SM3 hash) and C2.
type sm2Ciphertext struct {
	X, Y         *big.Int
	Hash, Cipher []byte
}

// sm2Encrypt seals pt to pub by SM2PKE (GB/T 32918.4), written in GM/T
// 0009's ASN.1. It draws k (and C1 = [k]G) as gmsm's key generation does
// and takes [k]pub, the key stream and C3 as the standard says, over gmsm's
// curve, KDF and SM3. gmsm's own Encrypt (v0.44.1) is not used: when its
// key stream comes out all zeros, as for one 1-byte plaintext in 256, it
// draws k again but multiplies the public point it has overwritten with
// [k]pub, and what it returns opens under no private key.
func sm2Encrypt(rand io.Reader, pub *ecdsa.PublicKey, pt []byte) ([]byte, error) {
	curve := sm2.P256()
	if len(pt) == 0 || pub.Curve != curve || !curve.IsOnCurve(pub.X, pub.Y) {
		return nil, errors.New("sm2: an empty plaintext or a public key off the curve")
	}
	shared := make([]byte, 64)
	defer clear(shared)
	// A key stream of n bytes is all zeros once in 256^n draws: a hundred
	// in a row are a broken random source.
	for range 100 {
		eph, err := sm2.GenerateKey(rand)
		if err != nil {
			return nil, err
		}
		k := eph.D.FillBytes(make([]byte, 32))
		x2, y2 := curve.ScalarMult(pub.X, pub.Y, k)
		clear(k)
		x2.FillBytes(shared[:32])
		y2.FillBytes(shared[32:])
		c2 := sm3.Kdf(shared, len(pt))
		if subtle.ConstantTimeCompare(c2, make([]byte, len(c2))) == 1 {
			continue
		}
		subtle.XORBytes(c2, c2, pt)
		c3 := sm3.New()
		c3.Write(shared[:32])
		c3.Write(pt)
		c3.Write(shared[32:])
		return asn1.Marshal(sm2Ciphertext{X: eph.X, Y: eph.Y, Hash: c3.Sum(nil), Cipher: c2})
	}
	return nil, errors.New("sm2: a hundred key streams of zeros")
}

// sm2ECDH is an SM2 key agreement key's private key as ECDH takes it.
func sm2ECDH(priv *sm2.PrivateKey) (*gmecdh.PrivateKey, error) {
	d := priv.D.FillBytes(make([]byte, 32))
	defer clear(d)
	return gmecdh.P256().NewPrivateKey(d)
}

// marshalSM2 encodes an SM2 private key in PKCS #8.
func marshalSM2(k *sm2.PrivateKey) ([]byte, error) {
	d := k.D.FillBytes(make([]byte, 32))
	defer clear(d)
	point, err := sm2Point(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	return marshalEC(oidSM2, d, point)
}

// marshalSM2Public encodes an SM2 public key as a SubjectPublicKeyInfo.
func marshalSM2Public(k *ecdsa.PublicKey) ([]byte, error) {
	point, err := sm2Point(k)
	if err != nil {
		return nil, err
	}
	return marshalECPublic(oidSM2, point)
}

// sm2Point is an SM2 public key's uncompressed point.
func sm2Point(k *ecdsa.PublicKey) ([]byte, error) {
	pub, err := sm2.PublicKeyToECDH(k)
	if err != nil {
		return nil, err
	}
	return pub.Bytes(), nil
}

// parseSM2 decodes the EC private key within an SM2 key's PKCS #8.
func parseSM2(inner []byte) (*sm2.PrivateKey, error) {
	d, err := ecScalar(inner, "SM2")
	if err != nil {
		return nil, err
	}
	defer clear(d)
	k, err := sm2.NewPrivateKey(d)
	if err != nil {
		return nil, errors.New("SM2 private key out of range")
	}
	return k, nil
}

// parseSM2Public decodes an SM2 public key's SubjectPublicKeyInfo; ok is
// false for a key of another kind, and err is set for a point that is not
// on the curve.
func parseSM2Public(der []byte) (pub *ecdsa.PublicKey, ok bool, err error) {
	var p spki
	if rest, err := asn1.Unmarshal(der, &p); err != nil || len(rest) > 0 || !onCurve(p.Algorithm, oidSM2) {
		return nil, false, nil
	}
	pub, err = sm2.NewPublicKey(p.PublicKey.RightAlign())
	return pub, true, err
}
