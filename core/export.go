package core

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"hash"
)

// Exporting data keys: ExportDataKey and GenerateAndExportDataKey hand a data
// key to a cryptographic module encrypted under that module's public key, so
// that the plaintext never leaves the service.
//
// Alibaba's API pairs WrappingKeySpec RSA_2048 with RSAES_OAEP_SHA_256 or
// RSAES_OAEP_SHA_1, and EC_SM2 with SM2PKE, whose ciphertext is written as
// AsymmetricEncrypt writes it (sm2.go). RSAES_PKCS1_V1_5, which Alibaba's
// API does not offer for these actions, is InvalidParameter.

// maxPublicKeyBlob bounds PublicKeyBlob, in base64 characters, before it is
// decoded: a 2048-bit RSA SubjectPublicKeyInfo is 294 bytes, 392 characters.
const maxPublicKeyBlob = 1024

// exportWrap is the public key and algorithm a data key is exported with:
// an RSA key and its OAEP hash, or an SM2 key.
type exportWrap struct {
	rsa  *rsa.PublicKey
	hash func() hash.Hash
	sm2  *ecdsa.PublicKey
	alg  string
}

// exportWrapping reads WrappingKeySpec, WrappingAlgorithm and PublicKeyBlob, and
// refuses a public key that is not what WrappingKeySpec says.
func (c *call) exportWrapping() (exportWrap, error) {
	spec, err := c.required("WrappingKeySpec")
	if err != nil {
		return exportWrap{}, err
	}
	if spec != "RSA_2048" && spec != "EC_SM2" {
		return exportWrap{}, invalidParam("WrappingKeySpec", "it must be RSA_2048 or EC_SM2")
	}
	w := exportWrap{alg: c.str("WrappingAlgorithm")}
	switch {
	case w.alg == "":
		return exportWrap{}, missingParam("WrappingAlgorithm")
	case spec == "EC_SM2" && w.alg != sm2PKE.name:
		return exportWrap{}, invalidParam("WrappingAlgorithm", "with WrappingKeySpec EC_SM2 it must be SM2PKE")
	case spec == "EC_SM2":
	case w.alg == "RSAES_OAEP_SHA_256":
		w.hash = sha256.New
	case w.alg == "RSAES_OAEP_SHA_1":
		w.hash = sha1.New
	default:
		return exportWrap{}, invalidParam("WrappingAlgorithm", "with WrappingKeySpec RSA_2048 it must be RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1")
	}
	text, err := c.required("PublicKeyBlob")
	if err != nil {
		return exportWrap{}, err
	}
	if len(text) > maxPublicKeyBlob {
		return exportWrap{}, invalidParam("PublicKeyBlob", "it is longer than %d characters; an RSA_2048 public key in base64 is about 400", maxPublicKeyBlob)
	}
	der, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return exportWrap{}, invalidParam("PublicKeyBlob", "it is not valid base64")
	}
	if spec == "EC_SM2" {
		pub, ok, err := parseSM2Public(der)
		if !ok || err != nil {
			return exportWrap{}, invalidParam("PublicKeyBlob", "it is not the DER SubjectPublicKeyInfo of an SM2 public key, which WrappingKeySpec EC_SM2 names")
		}
		w.sm2 = pub
		return w, nil
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return exportWrap{}, invalidParam("PublicKeyBlob", "it is not a DER-encoded public key (SubjectPublicKeyInfo)")
	}
	rp, ok := pub.(*rsa.PublicKey)
	if !ok {
		return exportWrap{}, invalidParam("PublicKeyBlob", "it is not an RSA public key, which WrappingKeySpec RSA_2048 names")
	}
	if rp.N.BitLen() != 2048 {
		return exportWrap{}, invalidParam("PublicKeyBlob", "it is a %d-bit RSA key, not the 2048-bit key WrappingKeySpec RSA_2048 names", rp.N.BitLen())
	}
	// What crypto/rsa would refuse only once the data key is in hand, after
	// a DryRun had said yes.
	if rp.N.Bit(0) == 0 || rp.E < 3 || rp.E&1 == 0 || rp.E > 1<<31-1 {
		return exportWrap{}, invalidParam("PublicKeyBlob", "it is not a valid RSA public key")
	}
	w.rsa = rp
	return w, nil
}

// fits refuses a data key of n bytes that is too long for the wrap: OAEP
// encrypts at most k - 2·hLen - 2 bytes under a k-byte modulus, 190 bytes
// under RSA_2048 with SHA-256 and 214 with SHA-1. SM2PKE takes any data key.
func (w exportWrap) fits(param string, n int) error {
	if w.rsa == nil {
		return nil
	}
	if most := w.rsa.Size() - 2*w.hash().Size() - 2; n > most {
		return invalidParam(param, "the data key is %d bytes, and %s under RSA_2048 encrypts at most %d", n, w.alg, most)
	}
	return nil
}

// encryptExport encrypts a data key under the wrap's public key.
func (c *call) encryptExport(w exportWrap, key []byte) ([]byte, error) {
	var out []byte
	var err error
	if w.sm2 != nil {
		out, err = sm2Encrypt(c.s.rand, w.sm2, key)
	} else {
		out, err = rsa.EncryptOAEP(w.hash(), c.s.rand, w.rsa, key, nil)
	}
	if err != nil {
		// exportWrapping and fits have checked the key and the size as
		// crypto/rsa and sm2 do: what is left is the public key's fault.
		return nil, invalidParam("PublicKeyBlob", "it cannot encrypt the data key")
	}
	return out, nil
}

// exportDataKey opens a blob, as Decrypt does and with Decrypt's checks and
// authorization on the key the blob names, and returns its data key
// encrypted under the caller's public key.
func (c *call) exportDataKey() (any, error) {
	w, err := c.exportWrapping()
	if err != nil {
		return nil, err
	}
	// DryRun must see whether the data key fits the public key.
	o, err := c.openEvenIfDry("CiphertextBlob", "EncryptionContext", "")
	if err != nil {
		return nil, err
	}
	defer clear(o.Plaintext)
	if err := w.fits("CiphertextBlob", len(o.Plaintext)); err != nil {
		return nil, err
	}
	if c.dry {
		return nil, errDryRunOK
	}
	out, err := c.encryptExport(w, o.Plaintext)
	if err != nil {
		return nil, err
	}
	return Exported{KeyID: o.KeyID, VersionID: o.VersionID, ExportedKey: out}, nil
}

// generateAndExportDataKey is GenerateDataKey whose plaintext is returned
// encrypted under the caller's public key.
func (c *call) generateAndExportDataKey() (any, error) {
	n, err := c.dataKeySize()
	if err != nil {
		return nil, err
	}
	ctx, err := c.context("EncryptionContext")
	if err != nil {
		return nil, err
	}
	w, err := c.exportWrapping()
	if err != nil {
		return nil, err
	}
	if err := w.fits("NumberOfBytes", n); err != nil {
		return nil, err
	}
	c.facts.Context = ctx
	var k Key
	if err := c.sealingKey(&k, "KeyId"); err != nil {
		return nil, err
	}
	dk, err := c.newDataKey(&k, ctx, n)
	if err != nil {
		return nil, err
	}
	defer clear(dk.Plaintext)
	out, err := c.encryptExport(w, dk.Plaintext)
	if err != nil {
		return nil, err
	}
	return SealedAndExported{Sealed: dk.Sealed, ExportedKey: out}, nil
}
