package awsjson_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// agreementKey makes an ECC key for key agreement on spec and returns its ID.
func agreementKey(spec types.KeySpec) func(c *kms.Client) (*string, error) {
	return func(c *kms.Client) (*string, error) {
		k, err := c.CreateKey(bg, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: types.KeyUsageTypeKeyAgreement})
		if err != nil {
			return nil, err
		}
		return k.KeyMetadata.KeyId, nil
	}
}

// peerKey is a fresh peer's key on curve and its public key's DER
// SubjectPublicKeyInfo.
func peerKey(curve ecdh.Curve) (*ecdh.PrivateKey, []byte) {
	priv, err := curve.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKIXPublicKey(priv.PublicKey())
	if err != nil {
		panic(err)
	}
	return priv, der
}

// agreementCases check ECC keys for key agreement: DeriveSharedSecret,
// whose secret the peer derives outside the service from GetPublicKey's
// key, DescribeKey, and the refusals AWS documents.
func agreementCases() []conformanceCase {
	return []conformanceCase{
		{"DeriveSharedSecret under an ECC_NIST_P384 key, derived by the peer too", "ok", on(agreementKey(types.KeySpecEccNistP384), func(c *kms.Client, id *string) error {
			peer, der := peerKey(ecdh.P384())
			out, err := c.DeriveSharedSecret(bg, &kms.DeriveSharedSecretInput{KeyId: id, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: der})
			if err != nil {
				return err
			}
			pk, err := c.GetPublicKey(bg, &kms.GetPublicKeyInput{KeyId: id})
			if err != nil {
				return err
			}
			parsed, err := x509.ParsePKIXPublicKey(pk.PublicKey)
			if err != nil {
				return stateOutcome("public key: " + err.Error())
			}
			theirs, err := parsed.(*ecdsa.PublicKey).ECDH()
			if err != nil {
				return stateOutcome("public key: " + err.Error())
			}
			want, err := peer.ECDH(theirs)
			if err != nil {
				return stateOutcome("peer: " + err.Error())
			}
			if !bytes.Equal(out.SharedSecret, want) || out.KeyAgreementAlgorithm != types.KeyAgreementAlgorithmSpecEcdh ||
				out.KeyOrigin != types.OriginTypeAwsKms || !strings.HasSuffix(aws.ToString(out.KeyId), "key/"+aws.ToString(id)) ||
				pk.KeyUsage != types.KeyUsageTypeKeyAgreement || !slices.Equal(pk.KeyAgreementAlgorithms, []types.KeyAgreementAlgorithmSpec{types.KeyAgreementAlgorithmSpecEcdh}) {
				return stateOutcome(fmt.Sprintf("derived %x for %s (%s, %s); the peer derives %x; GetPublicKey %s %v",
					out.SharedSecret, aws.ToString(out.KeyId), out.KeyAgreementAlgorithm, out.KeyOrigin, want, pk.KeyUsage, pk.KeyAgreementAlgorithms))
			}
			return nil
		})},
		{"DeriveSharedSecret with a public key on another curve", "ValidationException", on(agreementKey(types.KeySpecEccNistP256), func(c *kms.Client, id *string) error {
			_, der := peerKey(ecdh.P521())
			_, err := c.DeriveSharedSecret(bg, &kms.DeriveSharedSecretInput{KeyId: id, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: der})
			return err
		})},
		{"DeriveSharedSecret under a signing key", "InvalidKeyUsageException", on(signingKey(types.KeySpecEccNistP256), func(c *kms.Client, id *string) error {
			_, der := peerKey(ecdh.P256())
			_, err := c.DeriveSharedSecret(bg, &kms.DeriveSharedSecretInput{KeyId: id, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: der})
			return err
		})},
		{"DeriveSharedSecret under a symmetric encryption key", "InvalidKeyUsageException", func(c *kms.Client, key string) error {
			_, der := peerKey(ecdh.P256())
			_, err := c.DeriveSharedSecret(bg, &kms.DeriveSharedSecretInput{KeyId: &key, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: der})
			return err
		}},
		{"DryRun DeriveSharedSecret", "DryRunOperationException", on(agreementKey(types.KeySpecEccNistP256), func(c *kms.Client, id *string) error {
			_, der := peerKey(ecdh.P256())
			_, err := c.DeriveSharedSecret(bg, &kms.DeriveSharedSecretInput{KeyId: id, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: der, DryRun: aws.Bool(true)})
			return err
		})},
		{"Sign under a key agreement key", "InvalidKeyUsageException", on(agreementKey(types.KeySpecEccNistP256), func(c *kms.Client, id *string) error {
			_, err := c.Sign(bg, &kms.SignInput{KeyId: id, Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			return err
		})},
		{"DescribeKey of an ECC_NIST_P521 key agreement key", "ok", on(agreementKey(types.KeySpecEccNistP521), func(c *kms.Client, id *string) error {
			d, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: id})
			if err != nil {
				return err
			}
			m := d.KeyMetadata
			if m.KeySpec != types.KeySpecEccNistP521 || m.KeyUsage != types.KeyUsageTypeKeyAgreement || len(m.SigningAlgorithms) != 0 ||
				!slices.Equal(m.KeyAgreementAlgorithms, []types.KeyAgreementAlgorithmSpec{types.KeyAgreementAlgorithmSpecEcdh}) {
				return stateOutcome(fmt.Sprintf("DescribeKey: %s %s %v", m.KeySpec, m.KeyUsage, m.KeyAgreementAlgorithms))
			}
			return nil
		})},
	}
}
