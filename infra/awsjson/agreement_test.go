package awsjson_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

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
	mlkemKey := func(c *kms.Client) (*string, error) {
		k, err := c.CreateKey(bg, &kms.CreateKeyInput{KeySpec: types.KeySpecMlKem1024, KeyUsage: types.KeyUsageTypeEncapsulateDecapsulate})
		if err != nil {
			return nil, err
		}
		return k.KeyMetadata.KeyId, nil
	}
	return []conformanceCase{
		{"Decapsulate what Encapsulate and a party outside encapsulated under an ML_KEM_1024 key", "ok", on(mlkemKey, func(c *kms.Client, id *string) error {
			e, err := c.Encapsulate(bg, &kms.EncapsulateInput{KeyId: id, EncapsulationAlgorithm: types.EncapsulationAlgorithmSpecMlKem})
			if err != nil {
				return err
			}
			d, err := c.Decapsulate(bg, &kms.DecapsulateInput{KeyId: id, EncapsulationAlgorithm: types.EncapsulationAlgorithmSpecMlKem, SharedSecretCiphertextBlob: e.SharedSecretCiphertextBlob})
			if err != nil {
				return err
			}
			if len(e.SharedSecretCiphertextBlob) != 1568 || !bytes.Equal(d.SharedSecret, e.SharedSecret) || d.EncapsulationAlgorithm != types.EncapsulationAlgorithmSpecMlKem {
				return stateOutcome(fmt.Sprintf("Encapsulate gave %d bytes of ciphertext; Decapsulate %x, not %x", len(e.SharedSecretCiphertextBlob), d.SharedSecret, e.SharedSecret))
			}
			pk, err := c.GetPublicKey(bg, &kms.GetPublicKeyInput{KeyId: id})
			if err != nil {
				return err
			}
			ct, secret, ok := mlkemEncapsulate(pk.PublicKey)
			if !ok || !slices.Equal(pk.EncapsulationAlgorithms, []types.EncapsulationAlgorithmSpec{types.EncapsulationAlgorithmSpecMlKem}) {
				return stateOutcome(fmt.Sprintf("GetPublicKey: %v", pk.EncapsulationAlgorithms))
			}
			d, err = c.Decapsulate(bg, &kms.DecapsulateInput{KeyId: id, EncapsulationAlgorithm: types.EncapsulationAlgorithmSpecMlKem, SharedSecretCiphertextBlob: ct})
			if err != nil {
				return err
			}
			if !bytes.Equal(d.SharedSecret, secret) {
				return stateOutcome("Decapsulate does not recover the secret encapsulated outside")
			}
			return nil
		})},
		{"Encapsulate under an ECC key agreement key", "InvalidKeyUsageException", on(agreementKey(types.KeySpecEccNistP256), func(c *kms.Client, id *string) error {
			_, err := c.Encapsulate(bg, &kms.EncapsulateInput{KeyId: id, EncapsulationAlgorithm: types.EncapsulationAlgorithmSpecMlKem})
			return err
		})},
		{"DescribeKey of an ML_KEM_1024 key", "ok", on(mlkemKey, func(c *kms.Client, id *string) error {
			d, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: id})
			if err != nil {
				return err
			}
			m := d.KeyMetadata
			if m.KeySpec != types.KeySpecMlKem1024 || m.KeyUsage != types.KeyUsageTypeEncapsulateDecapsulate ||
				!slices.Equal(m.EncapsulationAlgorithms, []types.EncapsulationAlgorithmSpec{types.EncapsulationAlgorithmSpecMlKem}) {
				return stateOutcome(fmt.Sprintf("DescribeKey: %s %s %v", m.KeySpec, m.KeyUsage, m.EncapsulationAlgorithms))
			}
			return nil
		})},
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

// OpenSSL's ML-KEM, through Python's cryptography, is a party outside the
// service: Decapsulate recovers the secret it encapsulated under an
// ML_KEM_768 key's public key, and an ML_KEM_768 data key pair's private
// key, in PKCS #8's seed form, decapsulates there what its public key
// encapsulated. botocore has no Encapsulate or Decapsulate yet, so the AWS
// SDK for Go sends them.
func TestMLKEMAgainstOpenSSL(t *testing.T) {
	needPython(t, "cryptography.hazmat.primitives.asymmetric.mlkem")
	e := newEnv(t)
	judge := func(args ...string) []string {
		out, err := exec.Command("python3", append([]string{"testdata/mlkem_judge.py"}, args...)...).Output()
		if err != nil {
			t.Fatalf("mlkem_judge.py %s: %v", args[0], err)
		}
		return strings.Fields(string(out))
	}
	k, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{KeySpec: types.KeySpecMlKem768, KeyUsage: types.KeyUsageTypeEncapsulateDecapsulate})
	if err != nil {
		t.Fatal(err)
	}
	pk, err := e.aws.GetPublicKey(bg, &kms.GetPublicKeyInput{KeyId: k.KeyMetadata.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	made := judge("encapsulate", hex.EncodeToString(pk.PublicKey))
	ct, _ := hex.DecodeString(made[1])
	d, err := e.aws.Decapsulate(bg, &kms.DecapsulateInput{KeyId: k.KeyMetadata.KeyId, EncapsulationAlgorithm: types.EncapsulationAlgorithmSpecMlKem, SharedSecretCiphertextBlob: ct})
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(d.SharedSecret) != made[0] {
		t.Errorf("Decapsulate gave %x; OpenSSL encapsulated %s", d.SharedSecret, made[0])
	}
	symmetric, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := e.aws.GenerateDataKeyPair(bg, &kms.GenerateDataKeyPairInput{KeyId: symmetric.KeyMetadata.KeyId, KeyPairSpec: types.DataKeyPairSpecMlKem768})
	if err != nil {
		t.Fatal(err)
	}
	if got := judge("pair", hex.EncodeToString(pair.PublicKey), hex.EncodeToString(pair.PrivateKeyPlaintext)); len(got) != 1 || got[0] != "ok" {
		t.Errorf("OpenSSL on the ML_KEM_768 data key pair: %v", got)
	}
}
