package awsjson_test

import (
	"bytes"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// hmacKey makes an HMAC key of spec and returns its ID.
func hmacKey(spec types.KeySpec) func(c *kms.Client) (*string, error) {
	return func(c *kms.Client) (*string, error) {
		k, err := c.CreateKey(bg, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
		if err != nil {
			return nil, err
		}
		return k.KeyMetadata.KeyId, nil
	}
}

// macCases check HMAC keys: GenerateMac and VerifyMac, what DescribeKey says
// of them, and the refusals of an HMAC key where an encryption key belongs
// and the other way round.
func macCases() []conformanceCase {
	msg := []byte("tenant=acme&user=alice")
	return []conformanceCase{
		{"GenerateMac then VerifyMac under an HMAC_384 key", "ok", on(hmacKey(types.KeySpecHmac384), func(c *kms.Client, id *string) error {
			m, err := c.GenerateMac(bg, &kms.GenerateMacInput{KeyId: id, Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha384})
			if err != nil {
				return err
			}
			if len(m.Mac) != 48 || m.MacAlgorithm != types.MacAlgorithmSpecHmacSha384 || !bytes.HasSuffix([]byte(aws.ToString(m.KeyId)), []byte(*id)) {
				return stateOutcome("GenerateMac answered another shape")
			}
			v, err := c.VerifyMac(bg, &kms.VerifyMacInput{KeyId: id, Message: msg, Mac: m.Mac, MacAlgorithm: types.MacAlgorithmSpecHmacSha384})
			if err == nil && !v.MacValid {
				return stateOutcome("MacValid false")
			}
			return err
		})},
		{"VerifyMac of another message", "KMSInvalidMacException", on(hmacKey(types.KeySpecHmac256), func(c *kms.Client, id *string) error {
			m, err := c.GenerateMac(bg, &kms.GenerateMacInput{KeyId: id, Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
			if err != nil {
				return err
			}
			_, err = c.VerifyMac(bg, &kms.VerifyMacInput{KeyId: id, Message: append(msg, '!'), Mac: m.Mac, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
			return err
		})},
		{"GenerateMac with an algorithm of another size", "InvalidKeyUsageException", on(hmacKey(types.KeySpecHmac256), func(c *kms.Client, id *string) error {
			_, err := c.GenerateMac(bg, &kms.GenerateMacInput{KeyId: id, Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha512})
			return err
		})},
		{"GenerateMac under a symmetric encryption key", "InvalidKeyUsageException", func(c *kms.Client, key string) error {
			_, err := c.GenerateMac(bg, &kms.GenerateMacInput{KeyId: &key, Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
			return err
		}},
		{"GenerateMac of 4097 bytes", "ValidationException", on(hmacKey(types.KeySpecHmac256), func(c *kms.Client, id *string) error {
			_, err := c.GenerateMac(bg, &kms.GenerateMacInput{KeyId: id, Message: make([]byte, 4097), MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
			return err
		})},
		{"DryRun GenerateMac", "DryRunOperationException", on(hmacKey(types.KeySpecHmac224), func(c *kms.Client, id *string) error {
			_, err := c.GenerateMac(bg, &kms.GenerateMacInput{KeyId: id, Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha224, DryRun: aws.Bool(true)})
			return err
		})},
		{"Encrypt under an HMAC key", "InvalidKeyUsageException", on(hmacKey(types.KeySpecHmac256), func(c *kms.Client, id *string) error {
			_, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")})
			return err
		})},
		{"GenerateDataKey under an HMAC key", "InvalidKeyUsageException", on(hmacKey(types.KeySpecHmac512), func(c *kms.Client, id *string) error {
			_, err := c.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: id, KeySpec: types.DataKeySpecAes256})
			return err
		})},
		{"EnableKeyRotation of an HMAC key", "UnsupportedOperationException", on(hmacKey(types.KeySpecHmac256), func(c *kms.Client, id *string) error {
			_, err := c.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: id})
			return err
		})},
		{"DescribeKey of an HMAC_512 key", "ok", on(hmacKey(types.KeySpecHmac512), func(c *kms.Client, id *string) error {
			d, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: id})
			if err != nil {
				return err
			}
			m := d.KeyMetadata
			if m.KeySpec != types.KeySpecHmac512 || m.KeyUsage != types.KeyUsageTypeGenerateVerifyMac ||
				!slices.Equal(m.MacAlgorithms, []types.MacAlgorithmSpec{types.MacAlgorithmSpecHmacSha512}) || len(m.EncryptionAlgorithms) != 0 {
				return stateOutcome("DescribeKey: " + string(m.KeySpec) + " " + string(m.KeyUsage))
			}
			return nil
		})},
	}
}
