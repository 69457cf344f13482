package core

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/x509"

	gmecdh "github.com/emmansun/gmsm/ecdh"
	"github.com/emmansun/gmsm/sm2"
)

// A key agreement key is a NIST curve or SM2 key whose private key, with a
// peer's public key, derives the ECDH shared secret the peer derives with
// the key's public key (DeriveSharedSecret, as AWS has it for KEY_AGREEMENT
// keys). The secret is the raw x-coordinate of the shared point (Z in NIST
// SP 800-56A), which the caller passes through a key derivation function of
// its choice. Like a signing key, it has one version and does not rotate.

// UsageKeyAgreement is the usage of a key agreement key.
const UsageKeyAgreement = "KEY_AGREEMENT"

// maxPeerKey bounds the peer's public key, in bytes, as AWS bounds it; a
// P-521 public key's SubjectPublicKeyInfo takes 158.
const maxPeerKey = 8192

// KeyAgreementLimits bounds, per caller, the secrets derived under key
// agreement keys of the specs whose ECDH costs far more than a request:
// 0.52 ms of CPU on P-384 and 2.3 ms on P-521 (Go's variable-base scalar
// multiplication, much slower there than a signature's), against 65 µs on
// P-256 and 53 on SM2, which spend only the request rate. Each holds a
// caller to about a tenth of a core per spec, as PrivateKeyLimits does.
var KeyAgreementLimits = map[string]Limit{
	"ECC_NIST_P384": PerSecond(200, 200),
	"ECC_NIST_P521": PerSecond(40, 40),
}

// ecdhAlgorithm is the one key agreement algorithm.
var ecdhAlgorithm = Algorithm{keyKeyAgreementAlgorithm, "ECDH"}

// KeyAgreementAlgorithms lists the algorithm of a key agreement key, ECDH,
// and nil for any other key.
func (k Key) KeyAgreementAlgorithms() []string {
	if k.KeyUsage != UsageKeyAgreement {
		return nil
	}
	return []string{ecdhAlgorithm.name}
}

// SharedSecret is the result of DeriveSharedSecret: the secret, which Wipe
// clears once it is answered.
type SharedSecret struct {
	KeyID, VersionID, Algorithm string
	Secret                      []byte
}

func (c *call) deriveSharedSecret() (any, error) {
	alg, err := c.required("KeyAgreementAlgorithm")
	if err != nil {
		return nil, err
	}
	if alg != ecdhAlgorithm.name {
		return nil, invalidParam("KeyAgreementAlgorithm", "it must be ECDH")
	}
	c.facts.Algorithm = &ecdhAlgorithm
	der, err := c.bytes("PublicKey", maxPeerKey)
	if err != nil {
		return nil, err
	}
	peer, err := peerKey(der)
	if err != nil {
		return nil, err
	}
	k, vid, priv, err := c.privateKey(CodeInvalidKeyUsage, UsageKeyAgreement, alg)
	if err != nil {
		return nil, err
	}
	var secret []byte
	switch ours := priv.(type) {
	case *ecdh.PrivateKey:
		p, ok := peer.(*ecdh.PublicKey)
		if !ok || ours.Curve() != p.Curve() {
			return nil, offCurve(&k)
		}
		secret, err = ours.ECDH(p)
	case *gmecdh.PrivateKey:
		p, ok := peer.(*gmecdh.PublicKey)
		if !ok {
			return nil, offCurve(&k)
		}
		secret, err = ours.ECDH(p)
	default:
		return nil, internal("key %s version %s holds no ECDH key", k.ID, vid)
	}
	if err != nil {
		return nil, invalidParam("PublicKey", "it makes no shared secret with the key %q", k.ID)
	}
	return SharedSecret{KeyID: k.ID, VersionID: vid, Algorithm: alg, Secret: secret}, nil
}

// peerKey reads a peer's public key, the DER SubjectPublicKeyInfo of a
// point on a NIST curve or SM2's, as ECDH takes it.
func peerKey(der []byte) (any, error) {
	bad := invalidParam("PublicKey", "it must be the DER SubjectPublicKeyInfo of a NIST curve or SM2 public key")
	if pub, ok, err := parseSM2Public(der); ok {
		if err != nil {
			return nil, bad
		}
		peer, err := sm2.PublicKeyToECDH(pub)
		if err != nil {
			return nil, bad
		}
		return peer, nil
	}
	parsed, err := x509.ParsePKIXPublicKey(der)
	pub, ok := parsed.(*ecdsa.PublicKey)
	if err != nil || !ok {
		return nil, bad
	}
	peer, err := pub.ECDH()
	if err != nil {
		return nil, bad
	}
	return peer, nil
}

// offCurve refuses a peer's public key on another curve than k's.
func offCurve(k *Key) error {
	return invalidParam("PublicKey", "it is not on the curve of the key %q, whose KeySpec is %s", k.ID, k.KeySpec)
}
