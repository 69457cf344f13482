package awsjson_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// signingKey makes an asymmetric signing key of spec and returns its ID.
func signingKey(spec types.KeySpec) func(c *kms.Client) (*string, error) {
	return func(c *kms.Client) (*string, error) {
		k, err := c.CreateKey(bg, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: types.KeyUsageTypeSignVerify})
		if err != nil {
			return nil, err
		}
		return k.KeyMetadata.KeyId, nil
	}
}

// signedAndChecked signs msg under id, checks the signature with the public
// key GetPublicKey gives, outside the service, and has Verify check it.
// digest is what the signature is over: for pure Ed25519 the message, for
// Ed25519ph the SHA-512 of the digest sent.
func signedAndChecked(c *kms.Client, id *string, alg types.SigningAlgorithmSpec, msgType types.MessageType, msg, digest []byte, hash crypto.Hash) error {
	s, err := c.Sign(bg, &kms.SignInput{KeyId: id, Message: msg, MessageType: msgType, SigningAlgorithm: alg})
	if err != nil {
		return err
	}
	pk, err := c.GetPublicKey(bg, &kms.GetPublicKeyInput{KeyId: id})
	if err != nil {
		return err
	}
	ok := false
	var pub any
	if _, k1, _ := k1PublicKey(pk.PublicKey); k1 {
		ok = k1Verify(pk.PublicKey, digest, s.Signature)
	} else if alg == types.SigningAlgorithmSpecMlDsaShake256 {
		ok = mldsaVerify(pk.PublicKey, digest, s.Signature)
	} else if pub, err = x509.ParsePKIXPublicKey(pk.PublicKey); err != nil {
		return stateOutcome("public key: " + err.Error())
	}
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(p, digest, s.Signature)
	case *rsa.PublicKey:
		ok = rsa.VerifyPSS(p, hash, digest, s.Signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	case ed25519.PublicKey:
		if alg == types.SigningAlgorithmSpecEd25519PhSha512 {
			ok = ed25519.VerifyWithOptions(p, digest, s.Signature, &ed25519.Options{Hash: crypto.SHA512}) == nil
		} else {
			ok = ed25519.Verify(p, digest, s.Signature)
		}
	}
	if !ok || s.SigningAlgorithm != alg || !slices.Contains(pk.SigningAlgorithms, alg) {
		return stateOutcome("the public key does not verify the signature")
	}
	v, err := c.Verify(bg, &kms.VerifyInput{KeyId: id, Message: msg, MessageType: msgType, Signature: s.Signature, SigningAlgorithm: alg})
	if err == nil && !v.SignatureValid {
		return stateOutcome("SignatureValid false")
	}
	return err
}

// signCases check asymmetric signing keys: Sign and Verify, GetPublicKey,
// DescribeKey, and their refusals.
func signCases() []conformanceCase {
	msg := []byte("invoice 42: 100 EUR")
	sum := sha256.Sum256(msg)
	sum512 := sha512.Sum512(msg)
	prehash := sha512.Sum512(sum512[:])
	return []conformanceCase{
		{"Sign a RAW message under an ML_DSA_65 key, checked outside", "ok", on(signingKey(types.KeySpecMlDsa65), func(c *kms.Client, id *string) error {
			return signedAndChecked(c, id, types.SigningAlgorithmSpecMlDsaShake256, types.MessageTypeRaw, msg, msg, 0)
		})},
		{"Sign an EXTERNAL_MU under an ML_DSA_44 key", "ok", on(signingKey(types.KeySpecMlDsa44), func(c *kms.Client, id *string) error {
			_, err := c.Sign(bg, &kms.SignInput{KeyId: id, Message: make([]byte, 64), MessageType: types.MessageTypeExternalMu, SigningAlgorithm: types.SigningAlgorithmSpecMlDsaShake256})
			return err
		})},
		{"Sign a DIGEST under an ML_DSA_44 key", "ValidationException", on(signingKey(types.KeySpecMlDsa44), func(c *kms.Client, id *string) error {
			_, err := c.Sign(bg, &kms.SignInput{KeyId: id, Message: sum[:], MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecMlDsaShake256})
			return err
		})},
		{"DescribeKey of an ML_DSA_87 key", "ok", on(signingKey(types.KeySpecMlDsa87), func(c *kms.Client, id *string) error {
			d, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: id})
			if err != nil {
				return err
			}
			m := d.KeyMetadata
			if m.KeySpec != types.KeySpecMlDsa87 || m.KeyUsage != types.KeyUsageTypeSignVerify ||
				!slices.Equal(m.SigningAlgorithms, []types.SigningAlgorithmSpec{types.SigningAlgorithmSpecMlDsaShake256}) {
				return stateOutcome(fmt.Sprintf("DescribeKey: %s %s %v", m.KeySpec, m.KeyUsage, m.SigningAlgorithms))
			}
			return nil
		})},
		{"Sign a RAW message under an ECC_SECG_P256K1 key, checked outside", "ok", on(signingKey(types.KeySpecEccSecgP256k1), func(c *kms.Client, id *string) error {
			return signedAndChecked(c, id, types.SigningAlgorithmSpecEcdsaSha256, types.MessageTypeRaw, msg, sum[:], crypto.SHA256)
		})},
		{"Verify a signature made outside under an ECC_SECG_P256K1 key's public key, by another key", "KMSInvalidSignatureException", on(signingKey(types.KeySpecEccSecgP256k1), func(c *kms.Client, id *string) error {
			other, err := secp256k1.GeneratePrivateKey()
			if err != nil {
				return err
			}
			_, err = c.Verify(bg, &kms.VerifyInput{KeyId: id, Message: sum[:], MessageType: types.MessageTypeDigest,
				Signature: k1ecdsa.Sign(other, sum[:]).Serialize(), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			return err
		})},
		{"DescribeKey of an ECC_SECG_P256K1 key", "ok", on(signingKey(types.KeySpecEccSecgP256k1), func(c *kms.Client, id *string) error {
			d, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: id})
			if err != nil {
				return err
			}
			m := d.KeyMetadata
			if m.KeySpec != types.KeySpecEccSecgP256k1 || m.KeyUsage != types.KeyUsageTypeSignVerify ||
				!slices.Equal(m.SigningAlgorithms, []types.SigningAlgorithmSpec{types.SigningAlgorithmSpecEcdsaSha256}) {
				return stateOutcome(fmt.Sprintf("DescribeKey: %s %s %v", m.KeySpec, m.KeyUsage, m.SigningAlgorithms))
			}
			return nil
		})},
		{"Sign a RAW message under an ECC_NIST_EDWARDS25519 key with ED25519_SHA_512, checked outside", "ok", on(signingKey(types.KeySpecEccNistEdwards25519), func(c *kms.Client, id *string) error {
			return signedAndChecked(c, id, types.SigningAlgorithmSpecEd25519Sha512, types.MessageTypeRaw, msg, msg, 0)
		})},
		{"Sign a DIGEST under an ECC_NIST_EDWARDS25519 key with ED25519_PH_SHA_512, checked outside", "ok", on(signingKey(types.KeySpecEccNistEdwards25519), func(c *kms.Client, id *string) error {
			return signedAndChecked(c, id, types.SigningAlgorithmSpecEd25519PhSha512, types.MessageTypeDigest, sum512[:], prehash[:], crypto.SHA512)
		})},
		{"Sign a DIGEST with ED25519_SHA_512", "ValidationException", on(signingKey(types.KeySpecEccNistEdwards25519), func(c *kms.Client, id *string) error {
			_, err := c.Sign(bg, &kms.SignInput{KeyId: id, Message: sum512[:], MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEd25519Sha512})
			return err
		})},
		{"Sign a RAW message with ED25519_PH_SHA_512", "ValidationException", on(signingKey(types.KeySpecEccNistEdwards25519), func(c *kms.Client, id *string) error {
			_, err := c.Sign(bg, &kms.SignInput{KeyId: id, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEd25519PhSha512})
			return err
		})},
		{"DescribeKey of an ECC_NIST_EDWARDS25519 key", "ok", on(signingKey(types.KeySpecEccNistEdwards25519), func(c *kms.Client, id *string) error {
			d, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: id})
			if err != nil {
				return err
			}
			m := d.KeyMetadata
			if m.KeySpec != types.KeySpecEccNistEdwards25519 || m.KeyUsage != types.KeyUsageTypeSignVerify || !slices.Equal(m.SigningAlgorithms,
				[]types.SigningAlgorithmSpec{types.SigningAlgorithmSpecEd25519Sha512, types.SigningAlgorithmSpecEd25519PhSha512}) {
				return stateOutcome(fmt.Sprintf("DescribeKey: %s %s %v", m.KeySpec, m.KeyUsage, m.SigningAlgorithms))
			}
			return nil
		})},
		{"Sign a RAW message under an ECC_NIST_P256 key, checked outside", "ok", on(signingKey(types.KeySpecEccNistP256), func(c *kms.Client, id *string) error {
			return signedAndChecked(c, id, types.SigningAlgorithmSpecEcdsaSha256, types.MessageTypeRaw, msg, sum[:], crypto.SHA256)
		})},
		{"Sign a DIGEST under an RSA_2048 key with PSS, checked outside", "ok", on(signingKey(types.KeySpecRsa2048), func(c *kms.Client, id *string) error {
			return signedAndChecked(c, id, types.SigningAlgorithmSpecRsassaPssSha256, types.MessageTypeDigest, sum[:], sum[:], crypto.SHA256)
		})},
		{"Verify another message", "KMSInvalidSignatureException", on(signingKey(types.KeySpecEccNistP256), func(c *kms.Client, id *string) error {
			s, err := c.Sign(bg, &kms.SignInput{KeyId: id, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			if err != nil {
				return err
			}
			_, err = c.Verify(bg, &kms.VerifyInput{KeyId: id, Message: append(msg, '!'), Signature: s.Signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			return err
		})},
		{"Sign with an algorithm the key does not take", "InvalidKeyUsageException", on(signingKey(types.KeySpecEccNistP256), func(c *kms.Client, id *string) error {
			_, err := c.Sign(bg, &kms.SignInput{KeyId: id, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha384})
			return err
		})},
		{"Sign under a symmetric encryption key", "InvalidKeyUsageException", func(c *kms.Client, key string) error {
			_, err := c.Sign(bg, &kms.SignInput{KeyId: &key, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			return err
		}},
		{"Sign a DIGEST of the wrong length", "ValidationException", on(signingKey(types.KeySpecEccNistP256), func(c *kms.Client, id *string) error {
			_, err := c.Sign(bg, &kms.SignInput{KeyId: id, Message: msg, MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			return err
		})},
		{"DryRun Sign", "DryRunOperationException", on(signingKey(types.KeySpecEccNistP384), func(c *kms.Client, id *string) error {
			_, err := c.Sign(bg, &kms.SignInput{KeyId: id, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha384, DryRun: aws.Bool(true)})
			return err
		})},
		{"GetPublicKey of a symmetric encryption key", "UnsupportedOperationException", func(c *kms.Client, key string) error {
			_, err := c.GetPublicKey(bg, &kms.GetPublicKeyInput{KeyId: &key})
			return err
		}},
		{"Encrypt under a signing key", "InvalidKeyUsageException", on(signingKey(types.KeySpecEccNistP256), func(c *kms.Client, id *string) error {
			_, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")})
			return err
		})},
		{"EnableKeyRotation of a signing key", "UnsupportedOperationException", on(signingKey(types.KeySpecEccNistP256), func(c *kms.Client, id *string) error {
			_, err := c.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: id})
			return err
		})},
		{"DescribeKey of an ECC_NIST_P521 key", "ok", on(signingKey(types.KeySpecEccNistP521), func(c *kms.Client, id *string) error {
			d, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: id})
			if err != nil {
				return err
			}
			m := d.KeyMetadata
			if m.KeySpec != types.KeySpecEccNistP521 || m.KeyUsage != types.KeyUsageTypeSignVerify ||
				!slices.Equal(m.SigningAlgorithms, []types.SigningAlgorithmSpec{types.SigningAlgorithmSpecEcdsaSha512}) || len(m.EncryptionAlgorithms) != 0 {
				return stateOutcome("DescribeKey: " + string(m.KeySpec) + " " + string(m.KeyUsage))
			}
			return nil
		})},
	}
}

// rsaCases check RSA encryption keys: Encrypt and Decrypt with an RSAES
// algorithm, a ciphertext made outside with GetPublicKey's key, and the
// refusals AWS documents.
func rsaCases() []conformanceCase {
	rsaKey := func(c *kms.Client) (*string, error) {
		k, err := c.CreateKey(bg, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
		if err != nil {
			return nil, err
		}
		return k.KeyMetadata.KeyId, nil
	}
	secret := []byte("a data key sealed to the public key")
	return []conformanceCase{
		{"Encrypt then Decrypt under an RSA_2048 key with RSAES_OAEP_SHA_256", "ok", on(rsaKey, func(c *kms.Client, id *string) error {
			e, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: id, Plaintext: secret, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
			if err != nil {
				return err
			}
			d, err := c.Decrypt(bg, &kms.DecryptInput{KeyId: id, CiphertextBlob: e.CiphertextBlob, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
			if err == nil && (string(d.Plaintext) != string(secret) || d.EncryptionAlgorithm != types.EncryptionAlgorithmSpecRsaesOaepSha256) {
				return stateOutcome("Decrypt answered another plaintext")
			}
			return err
		})},
		{"Decrypt what GetPublicKey's key sealed outside, RSAES_OAEP_SHA_1", "ok", on(rsaKey, func(c *kms.Client, id *string) error {
			pk, err := c.GetPublicKey(bg, &kms.GetPublicKeyInput{KeyId: id})
			if err != nil {
				return err
			}
			pub, err := x509.ParsePKIXPublicKey(pk.PublicKey)
			if err != nil || !slices.Contains(pk.EncryptionAlgorithms, types.EncryptionAlgorithmSpecRsaesOaepSha1) || pk.KeyUsage != types.KeyUsageTypeEncryptDecrypt {
				return stateOutcome("GetPublicKey of an RSA encryption key")
			}
			sealed, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub.(*rsa.PublicKey), secret, nil)
			if err != nil {
				return err
			}
			d, err := c.Decrypt(bg, &kms.DecryptInput{KeyId: id, CiphertextBlob: sealed, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha1})
			if err == nil && string(d.Plaintext) != string(secret) {
				return stateOutcome("Decrypt answered another plaintext")
			}
			return err
		})},
		{"Encrypt under an RSA key without an EncryptionAlgorithm", "InvalidKeyUsageException", on(rsaKey, func(c *kms.Client, id *string) error {
			_, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: id, Plaintext: secret})
			return err
		})},
		{"Decrypt under an RSA key with the other OAEP hash", "InvalidCiphertextException", on(rsaKey, func(c *kms.Client, id *string) error {
			e, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: id, Plaintext: secret, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
			if err != nil {
				return err
			}
			_, err = c.Decrypt(bg, &kms.DecryptInput{KeyId: id, CiphertextBlob: e.CiphertextBlob, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha1})
			return err
		})},
		{"GenerateDataKey under an RSA key", "InvalidKeyUsageException", on(rsaKey, func(c *kms.Client, id *string) error {
			_, err := c.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: id, KeySpec: types.DataKeySpecAes256})
			return err
		})},
		{"DescribeKey of an RSA encryption key", "ok", on(rsaKey, func(c *kms.Client, id *string) error {
			d, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: id})
			if err != nil {
				return err
			}
			m := d.KeyMetadata
			if m.KeyUsage != types.KeyUsageTypeEncryptDecrypt || len(m.SigningAlgorithms) != 0 ||
				!slices.Equal(m.EncryptionAlgorithms, []types.EncryptionAlgorithmSpec{types.EncryptionAlgorithmSpecRsaesOaepSha1, types.EncryptionAlgorithmSpecRsaesOaepSha256}) {
				return stateOutcome("DescribeKey: " + string(m.KeySpec) + " " + string(m.KeyUsage))
			}
			return nil
		})},
	}
}

// An ML-DSA key signs EXTERNAL_MU, the message's 64-byte representative μ
// computed outside (here by FIPS 204's definition, with SHA-3 from Go's
// library): circl's ML-DSA verifies the signature against the message
// itself, and so does Verify with the message, RAW. A μ of another size is
// a ValidationException; Verify of μ, which Go's ML-DSA does not offer, is
// UnsupportedOperationException, and so is nothing but a refusal.
func TestSDKSignsMLDSAExternalMu(t *testing.T) {
	e := newEnv(t)
	id, err := signingKey(types.KeySpecMlDsa65)(e.aws)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := e.aws.GetPublicKey(bg, &kms.GetPublicKeyInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("a release artifact larger than Sign takes whole; "), 200) // 10,000 bytes
	mu := mldsaMu(pk.PublicKey, msg)
	s, err := e.aws.Sign(bg, &kms.SignInput{KeyId: id, Message: mu, MessageType: types.MessageTypeExternalMu, SigningAlgorithm: types.SigningAlgorithmSpecMlDsaShake256})
	if err != nil {
		t.Fatal(err)
	}
	if s.SigningAlgorithm != types.SigningAlgorithmSpecMlDsaShake256 || !mldsaVerify(pk.PublicKey, msg, s.Signature) {
		t.Fatalf("circl does not verify the signature of μ against the message (%s)", s.SigningAlgorithm)
	}
	if mldsaVerify(pk.PublicKey, msg[1:], s.Signature) {
		t.Fatal("circl verifies the signature against another message")
	}
	short := []byte("signed whole")
	s2, err := e.aws.Sign(bg, &kms.SignInput{KeyId: id, Message: mldsaMu(pk.PublicKey, short), MessageType: types.MessageTypeExternalMu, SigningAlgorithm: types.SigningAlgorithmSpecMlDsaShake256})
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.aws.Verify(bg, &kms.VerifyInput{KeyId: id, Message: short, MessageType: types.MessageTypeRaw, Signature: s2.Signature, SigningAlgorithm: types.SigningAlgorithmSpecMlDsaShake256})
	if err != nil || !v.SignatureValid {
		t.Fatalf("Verify of the message itself: %+v, %v", v, err)
	}
	_, err = e.aws.Sign(bg, &kms.SignInput{KeyId: id, Message: mu[:63], MessageType: types.MessageTypeExternalMu, SigningAlgorithm: types.SigningAlgorithmSpecMlDsaShake256})
	apiError(t, err, "ValidationException")
	_, err = e.aws.Verify(bg, &kms.VerifyInput{KeyId: id, Message: mu, MessageType: types.MessageTypeExternalMu, Signature: s.Signature, SigningAlgorithm: types.SigningAlgorithmSpecMlDsaShake256})
	apiError(t, err, "UnsupportedOperationException")
}
