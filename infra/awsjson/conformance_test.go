package awsjson_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kmsless/kmsless/infra/rootkey/rootkeytest"
)

// A conformance suite run against any AWS KMS endpoint: each case reports an
// outcome ("ok" or the exception's code), compared with what AWS's API
// reference documents. kmsless must match; nsmithuk/local-kms, the reference
// implementation many use locally, is run alongside and where it differs the
// difference is logged.

type conformanceCase struct {
	name string
	// want is the outcome AWS's API reference documents.
	want string
	run  func(c *kms.Client, key string) error
}

func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	// An answer that is no AWS error, such as local-kms's to an
	// operation it lacks, is told by its status.
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return fmt.Sprintf("HTTP %d, no AWS error", re.HTTPStatusCode())
	}
	return "error: " + err.Error()
}

var ctxA = map[string]string{"tenant": "acme"}

func conformanceCases() []conformanceCase {
	return []conformanceCase{
		{"Encrypt then Decrypt with the same context", "ok", func(c *kms.Client, key string) error {
			e, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: &key, Plaintext: []byte("p"), EncryptionContext: ctxA})
			if err != nil {
				return err
			}
			_, err = c.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: e.CiphertextBlob, EncryptionContext: ctxA})
			return err
		}},
		{"Decrypt with another context", "InvalidCiphertextException", func(c *kms.Client, key string) error {
			e, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: &key, Plaintext: []byte("p"), EncryptionContext: ctxA})
			if err != nil {
				return err
			}
			_, err = c.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: e.CiphertextBlob, EncryptionContext: map[string]string{"tenant": "other"}})
			return err
		}},
		{"Decrypt naming another key", "IncorrectKeyException", func(c *kms.Client, key string) error {
			other, err := c.CreateKey(bg, &kms.CreateKeyInput{})
			if err != nil {
				return err
			}
			e, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: &key, Plaintext: []byte("p")})
			if err != nil {
				return err
			}
			_, err = c.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: e.CiphertextBlob, KeyId: other.KeyMetadata.KeyId})
			return err
		}},
		{"GenerateDataKey with KeySpec and NumberOfBytes", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: &key, KeySpec: types.DataKeySpecAes256, NumberOfBytes: aws.Int32(32)})
			return err
		}},
		{"GenerateDataKey with neither", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: &key})
			return err
		}},
		{"GenerateDataKeyWithoutPlaintext with NumberOfBytes 1025", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.GenerateDataKeyWithoutPlaintext(bg, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: &key, NumberOfBytes: aws.Int32(1025)})
			return err
		}},
		{"Encrypt of 4097 bytes", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: &key, Plaintext: make([]byte, 4097)})
			return err
		}},
		{"GenerateRandom of 1025 bytes", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.GenerateRandom(bg, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(1025)})
			return err
		}},
		{"DescribeKey of an unknown key", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String("11111111-2222-3333-4444-555555555555")})
			return err
		}},
		{"CreateAlias twice", "AlreadyExistsException", func(c *kms.Client, key string) error {
			name := aws.String("alias/conformance-twice")
			if _, err := c.CreateAlias(bg, &kms.CreateAliasInput{AliasName: name, TargetKeyId: &key}); err != nil {
				return err
			}
			_, err := c.CreateAlias(bg, &kms.CreateAliasInput{AliasName: name, TargetKeyId: &key})
			return err
		}},
		{"Encrypt under a disabled key", "DisabledException", func(c *kms.Client, key string) error {
			k, err := c.CreateKey(bg, &kms.CreateKeyInput{})
			if err != nil {
				return err
			}
			if _, err := c.DisableKey(bg, &kms.DisableKeyInput{KeyId: k.KeyMetadata.KeyId}); err != nil {
				return err
			}
			_, err = c.Encrypt(bg, &kms.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: []byte("p")})
			return err
		}},
		{"Encrypt under a key pending deletion", "KMSInvalidStateException", func(c *kms.Client, key string) error {
			k, err := c.CreateKey(bg, &kms.CreateKeyInput{})
			if err != nil {
				return err
			}
			if _, err := c.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyMetadata.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
				return err
			}
			_, err = c.Encrypt(bg, &kms.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: []byte("p")})
			return err
		}},
		{"ScheduleKeyDeletion with a 31-day window", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: &key, PendingWindowInDays: aws.Int32(31)})
			return err
		}},
		{"CancelKeyDeletion leaves the key Disabled", "Disabled", func(c *kms.Client, key string) error {
			k, err := c.CreateKey(bg, &kms.CreateKeyInput{})
			if err != nil {
				return err
			}
			if _, err := c.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyMetadata.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
				return err
			}
			if _, err := c.CancelKeyDeletion(bg, &kms.CancelKeyDeletionInput{KeyId: k.KeyMetadata.KeyId}); err != nil {
				return err
			}
			d, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: k.KeyMetadata.KeyId})
			if err != nil {
				return err
			}
			return stateOutcome(string(d.KeyMetadata.KeyState))
		}},
		{"DryRun Encrypt", "DryRunOperationException", func(c *kms.Client, key string) error {
			_, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: &key, Plaintext: []byte("p"), DryRun: aws.Bool(true)})
			return err
		}},
		{"ListKeys with a made-up Marker", "InvalidMarkerException", func(c *kms.Client, key string) error {
			_, err := c.ListKeys(bg, &kms.ListKeysInput{Marker: aws.String("not-a-marker")})
			return err
		}},
		{"GetKeyPolicy default", "ok", func(c *kms.Client, key string) error {
			_, err := c.GetKeyPolicy(bg, &kms.GetKeyPolicyInput{KeyId: &key, PolicyName: aws.String("default")})
			return err
		}},
		{"EnableKeyRotation then GetKeyRotationStatus", "ok", func(c *kms.Client, key string) error {
			if _, err := c.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: &key}); err != nil {
				return err
			}
			s, err := c.GetKeyRotationStatus(bg, &kms.GetKeyRotationStatusInput{KeyId: &key})
			if err == nil && !s.KeyRotationEnabled {
				return stateOutcome("rotation off")
			}
			return err
		}},
	}
}

// allConformanceCases are conformanceCases and the cases of each topic.
func allConformanceCases() []conformanceCase {
	var all []conformanceCase
	for _, cs := range [][]conformanceCase{conformanceCases(), aliasCases(), tagCases(), cryptoCases(), dataKeyPairCases(), macCases(), signCases(), rsaCases(), agreementCases(), lifecycleCases(), createKeyCases()} {
		all = append(all, cs...)
	}
	return all
}

// newKey makes a symmetric key and returns its ID.
func newKey(c *kms.Client) (*string, error) {
	k, err := c.CreateKey(bg, &kms.CreateKeyInput{})
	if err != nil {
		return nil, err
	}
	return k.KeyMetadata.KeyId, nil
}

// disabledKey makes a key and disables it.
func disabledKey(c *kms.Client) (*string, error) {
	id, err := newKey(c)
	if err != nil {
		return nil, err
	}
	_, err = c.DisableKey(bg, &kms.DisableKeyInput{KeyId: id})
	return id, err
}

// pendingKey makes a key and schedules its deletion.
func pendingKey(c *kms.Client) (*string, error) {
	id, err := newKey(c)
	if err != nil {
		return nil, err
	}
	_, err = c.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(7)})
	return id, err
}

// on runs op on a key that state makes, in that state.
func on(state func(*kms.Client) (*string, error), op func(c *kms.Client, id *string) error) func(*kms.Client, string) error {
	return func(c *kms.Client, _ string) error {
		id, err := state(c)
		if err != nil {
			return err
		}
		return op(c, id)
	}
}

// withARNPart is arn with its field i (3: region, 4: account) replaced.
func withARNPart(arn string, i int, v string) *string {
	parts := strings.SplitN(arn, ":", 6)
	parts[i] = v
	return aws.String(strings.Join(parts, ":"))
}

// unchecked sends a request as it is, without the SDK's check of its
// required members, so that the service's answer to a missing one is seen.
func unchecked(o *kms.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		_, err := s.Initialize.Remove("OperationInputValidation")
		return err
	})
}

func aliasCases() []conformanceCase {
	createAlias := func(name string) func(c *kms.Client, key string) error {
		return func(c *kms.Client, key string) error {
			_, err := c.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String(name), TargetKeyId: &key})
			return err
		}
	}
	return []conformanceCase{
		{"CreateAlias without the alias/ prefix", "ValidationException", createAlias("conformance-noprefix")},
		{"CreateAlias under alias/aws/", "NotAuthorizedException", createAlias("alias/aws/conformance")},
		{"CreateAlias of 257 characters", "ValidationException", createAlias("alias/" + strings.Repeat("a", 251))},
		{"CreateAlias with a space", "ValidationException", createAlias("alias/conformance space")},
		{"CreateAlias with a dot", "ValidationException", createAlias("alias/conformance.dot")},
		{"CreateAlias of 256 characters", "ok", createAlias("alias/" + strings.Repeat("b", 250))},
		{"CreateAlias to an unknown key", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String("alias/conformance-unknown"), TargetKeyId: aws.String("11111111-2222-3333-4444-555555555555")})
			return err
		}},
		{"CreateAlias to a key pending deletion", "KMSInvalidStateException", on(pendingKey, func(c *kms.Client, id *string) error {
			_, err := c.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String("alias/conformance-pending"), TargetKeyId: id})
			return err
		})},
		{"UpdateAlias to an unknown key", "NotFoundException", func(c *kms.Client, key string) error {
			name := aws.String("alias/conformance-update-unknown")
			if _, err := c.CreateAlias(bg, &kms.CreateAliasInput{AliasName: name, TargetKeyId: &key}); err != nil {
				return err
			}
			_, err := c.UpdateAlias(bg, &kms.UpdateAliasInput{AliasName: name, TargetKeyId: aws.String("11111111-2222-3333-4444-555555555555")})
			return err
		}},
		{"UpdateAlias of an unknown alias", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.UpdateAlias(bg, &kms.UpdateAliasInput{AliasName: aws.String("alias/conformance-never-made"), TargetKeyId: &key})
			return err
		}},
		{"UpdateAlias to another key", "ok", func(c *kms.Client, key string) error {
			name := aws.String("alias/conformance-update")
			if _, err := c.CreateAlias(bg, &kms.CreateAliasInput{AliasName: name, TargetKeyId: &key}); err != nil {
				return err
			}
			id, err := newKey(c)
			if err != nil {
				return err
			}
			if _, err := c.UpdateAlias(bg, &kms.UpdateAliasInput{AliasName: name, TargetKeyId: id}); err != nil {
				return err
			}
			d, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: name})
			if err == nil && aws.ToString(d.KeyMetadata.KeyId) != aws.ToString(id) {
				return stateOutcome("alias still on the first key")
			}
			return err
		}},
		{"DeleteAlias of an unknown alias", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.DeleteAlias(bg, &kms.DeleteAliasInput{AliasName: aws.String("alias/conformance-never-made")})
			return err
		}},
		{"DescribeKey by alias name and alias ARN", "ok", func(c *kms.Client, key string) error {
			name := "alias/conformance-describe"
			if _, err := c.CreateAlias(bg, &kms.CreateAliasInput{AliasName: &name, TargetKeyId: &key}); err != nil {
				return err
			}
			if _, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: &name}); err != nil {
				return err
			}
			arn := key[:strings.Index(key, ":key/")+1] + name
			d, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: &arn})
			if err == nil && aws.ToString(d.KeyMetadata.Arn) != key {
				return stateOutcome("another key")
			}
			return err
		}},
		{"DescribeKey by an unknown alias", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String("alias/conformance-never-made")})
			return err
		}},
		{"ListAliases with KeyId as a key ARN", "ok", func(c *kms.Client, key string) error {
			name := "alias/conformance-list"
			if _, err := c.CreateAlias(bg, &kms.CreateAliasInput{AliasName: &name, TargetKeyId: &key}); err != nil {
				return err
			}
			l, err := c.ListAliases(bg, &kms.ListAliasesInput{KeyId: &key})
			if err != nil {
				return err
			}
			for _, a := range l.Aliases {
				if aws.ToString(a.AliasName) == name {
					return nil
				}
			}
			return stateOutcome("alias not listed")
		}},
		// AWS documents ListAliases' KeyId as "the key ID or key ARN", not
		// an alias: an alias there names no key.
		{"ListAliases with KeyId as an alias name", "NotFoundException", func(c *kms.Client, key string) error {
			name := aws.String("alias/conformance-list-by-alias")
			if _, err := c.CreateAlias(bg, &kms.CreateAliasInput{AliasName: name, TargetKeyId: &key}); err != nil {
				return err
			}
			_, err := c.ListAliases(bg, &kms.ListAliasesInput{KeyId: name})
			return err
		}},
		{"ListAliases with KeyId as an alias ARN", "NotFoundException", func(c *kms.Client, key string) error {
			name := "alias/conformance-list-by-alias-arn"
			if _, err := c.CreateAlias(bg, &kms.CreateAliasInput{AliasName: &name, TargetKeyId: &key}); err != nil {
				return err
			}
			arn := key[:strings.Index(key, ":key/")+1] + name
			_, err := c.ListAliases(bg, &kms.ListAliasesInput{KeyId: &arn})
			return err
		}},
		{"ListAliases with KeyId of an unknown key", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.ListAliases(bg, &kms.ListAliasesInput{KeyId: aws.String("11111111-2222-3333-4444-555555555555")})
			return err
		}},
		{"ListAliases with Limit 0", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.ListAliases(bg, &kms.ListAliasesInput{Limit: aws.Int32(0)})
			return err
		}},
		{"ListAliases with Limit 101", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.ListAliases(bg, &kms.ListAliasesInput{Limit: aws.Int32(101)})
			return err
		}},
		{"ListKeys with Limit 0", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.ListKeys(bg, &kms.ListKeysInput{Limit: aws.Int32(0)})
			return err
		}},
		{"ListKeys with Limit 1001", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.ListKeys(bg, &kms.ListKeysInput{Limit: aws.Int32(1001)})
			return err
		}},
	}
}

func tagCases() []conformanceCase {
	tagOne := func(k, v string) func(c *kms.Client, key string) error {
		return func(c *kms.Client, key string) error {
			_, err := c.TagResource(bg, &kms.TagResourceInput{KeyId: &key, Tags: []types.Tag{{TagKey: &k, TagValue: &v}}})
			return err
		}
	}
	return []conformanceCase{
		{"TagResource with a key beginning aws:", "TagException", tagOne("aws:conformance", "v")},
		{"TagResource with an empty key", "ValidationException", tagOne("", "v")},
		{"TagResource with a key of 129 characters", "ValidationException", tagOne(strings.Repeat("k", 129), "v")},
		{"TagResource with a value of 257 characters", "ValidationException", tagOne("conformance", strings.Repeat("v", 257))},
		{"TagResource with an empty value", "ok", tagOne("conformance-empty", "")},
		{"TagResource with 51 tags", "TagException", on(newKey, func(c *kms.Client, id *string) error {
			tags := make([]types.Tag, 51)
			for i := range tags {
				tags[i] = types.Tag{TagKey: aws.String(fmt.Sprintf("k%02d", i)), TagValue: aws.String("v")}
			}
			_, err := c.TagResource(bg, &kms.TagResourceInput{KeyId: id, Tags: tags})
			return err
		})},
		{"TagResource on an unknown key", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String("11111111-2222-3333-4444-555555555555"),
				Tags: []types.Tag{{TagKey: aws.String("k"), TagValue: aws.String("v")}}})
			return err
		}},
		{"TagResource on a key pending deletion", "KMSInvalidStateException", on(pendingKey, func(c *kms.Client, id *string) error {
			_, err := c.TagResource(bg, &kms.TagResourceInput{KeyId: id, Tags: []types.Tag{{TagKey: aws.String("k"), TagValue: aws.String("v")}}})
			return err
		})},
		{"UntagResource on a key pending deletion", "KMSInvalidStateException", on(pendingKey, func(c *kms.Client, id *string) error {
			_, err := c.UntagResource(bg, &kms.UntagResourceInput{KeyId: id, TagKeys: []string{"k"}})
			return err
		})},
		{"CreateKey with 51 tags", "TagException", func(c *kms.Client, key string) error {
			tags := make([]types.Tag, 51)
			for i := range tags {
				tags[i] = types.Tag{TagKey: aws.String(fmt.Sprintf("k%02d", i)), TagValue: aws.String("v")}
			}
			_, err := c.CreateKey(bg, &kms.CreateKeyInput{Tags: tags})
			return err
		}},
		{"UntagResource of an absent tag", "ok", func(c *kms.Client, key string) error {
			_, err := c.UntagResource(bg, &kms.UntagResourceInput{KeyId: &key, TagKeys: []string{"conformance-never-set"}})
			return err
		}},
		{"ListResourceTags after TagResource", "ok", on(newKey, func(c *kms.Client, id *string) error {
			if _, err := c.TagResource(bg, &kms.TagResourceInput{KeyId: id, Tags: []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("blue")}}}); err != nil {
				return err
			}
			l, err := c.ListResourceTags(bg, &kms.ListResourceTagsInput{KeyId: id})
			if err != nil {
				return err
			}
			if len(l.Tags) != 1 || aws.ToString(l.Tags[0].TagKey) != "team" || aws.ToString(l.Tags[0].TagValue) != "blue" {
				return stateOutcome(fmt.Sprintf("tags %v", l.Tags))
			}
			return nil
		})},
		{"ListResourceTags with Limit 51", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.ListResourceTags(bg, &kms.ListResourceTagsInput{KeyId: &key, Limit: aws.Int32(51)})
			return err
		}},
	}
}

func cryptoCases() []conformanceCase {
	encrypt := func(c *kms.Client, key string, ctx map[string]string) ([]byte, error) {
		e, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: &key, Plaintext: []byte("p"), EncryptionContext: ctx})
		if err != nil {
			return nil, err
		}
		return e.CiphertextBlob, nil
	}
	return []conformanceCase{
		{"ReEncrypt to another key", "ok", func(c *kms.Client, key string) error {
			blob, err := encrypt(c, key, ctxA)
			if err != nil {
				return err
			}
			id, err := newKey(c)
			if err != nil {
				return err
			}
			_, err = c.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: blob, SourceEncryptionContext: ctxA, DestinationKeyId: id})
			return err
		}},
		{"ReEncrypt to a disabled key", "DisabledException", func(c *kms.Client, key string) error {
			blob, err := encrypt(c, key, nil)
			if err != nil {
				return err
			}
			id, err := disabledKey(c)
			if err != nil {
				return err
			}
			_, err = c.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: id})
			return err
		}},
		{"ReEncrypt with another source context", "InvalidCiphertextException", func(c *kms.Client, key string) error {
			blob, err := encrypt(c, key, ctxA)
			if err != nil {
				return err
			}
			_, err = c.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: blob, SourceEncryptionContext: map[string]string{"tenant": "other"}, DestinationKeyId: &key})
			return err
		}},
		{"ReEncrypt without DestinationKeyId", "ValidationException", func(c *kms.Client, key string) error {
			blob, err := encrypt(c, key, nil)
			if err != nil {
				return err
			}
			_, err = c.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: blob}, unchecked)
			return err
		}},
		{"Decrypt of a made-up blob", "InvalidCiphertextException", func(c *kms.Client, key string) error {
			_, err := c.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: []byte("this is not a ciphertext blob of any key at all, not even close")})
			return err
		}},
		{"Decrypt of a made-up blob naming a key", "InvalidCiphertextException", func(c *kms.Client, key string) error {
			_, err := c.Decrypt(bg, &kms.DecryptInput{KeyId: &key, CiphertextBlob: []byte("this is not a ciphertext blob of any key at all, not even close")})
			return err
		}},
		{"Decrypt of an empty blob", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: []byte{}})
			return err
		}},
		{"Decrypt of 6145 bytes", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: make([]byte, 6145)})
			return err
		}},
		{"Decrypt with RSAES_OAEP_SHA_256 under a symmetric key", "InvalidKeyUsageException", func(c *kms.Client, key string) error {
			blob, err := encrypt(c, key, nil)
			if err != nil {
				return err
			}
			_, err = c.Decrypt(bg, &kms.DecryptInput{KeyId: &key, CiphertextBlob: blob, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
			return err
		}},
		{"Decrypt under a disabled key", "DisabledException", on(newKey, func(c *kms.Client, id *string) error {
			blob, err := encrypt(c, aws.ToString(id), nil)
			if err != nil {
				return err
			}
			if _, err := c.DisableKey(bg, &kms.DisableKeyInput{KeyId: id}); err != nil {
				return err
			}
			_, err = c.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: blob})
			return err
		})},
		{"Decrypt under a key pending deletion", "KMSInvalidStateException", on(newKey, func(c *kms.Client, id *string) error {
			blob, err := encrypt(c, aws.ToString(id), nil)
			if err != nil {
				return err
			}
			if _, err := c.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(7)}); err != nil {
				return err
			}
			_, err = c.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: blob})
			return err
		})},
		{"Encrypt of an empty plaintext", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: &key, Plaintext: []byte{}})
			return err
		}},
		{"Encrypt with an empty context key", "ok", func(c *kms.Client, key string) error {
			_, err := encrypt(c, key, map[string]string{"": "v"})
			return err
		}},
		{"Encrypt with RSAES_OAEP_SHA_1 under a symmetric key", "InvalidKeyUsageException", func(c *kms.Client, key string) error {
			_, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: &key, Plaintext: []byte("p"), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha1})
			return err
		}},
		{"Encrypt with 11 grant tokens", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: &key, Plaintext: []byte("p"), GrantTokens: make([]string, 11)})
			return err
		}},
		{"Encrypt under an unknown alias", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String("alias/conformance-never-made"), Plaintext: []byte("p")})
			return err
		}},
		{"GenerateDataKey with KeySpec AES_128", "ok", func(c *kms.Client, key string) error {
			d, err := c.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: &key, KeySpec: types.DataKeySpecAes128})
			if err == nil && len(d.Plaintext) != 16 {
				return stateOutcome(fmt.Sprintf("%d bytes", len(d.Plaintext)))
			}
			return err
		}},
		{"GenerateDataKey with NumberOfBytes 0", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: &key, NumberOfBytes: aws.Int32(0)})
			return err
		}},
		{"GenerateDataKey with KeySpec AES_512", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: &key, KeySpec: "AES_512"})
			return err
		}},
		{"GenerateDataKey under a disabled key", "DisabledException", on(disabledKey, func(c *kms.Client, id *string) error {
			_, err := c.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: id, KeySpec: types.DataKeySpecAes256})
			return err
		})},
		{"GenerateRandom of 0 bytes", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.GenerateRandom(bg, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(0)})
			return err
		}},
		{"GenerateRandom of 1024 bytes", "ok", func(c *kms.Client, key string) error {
			r, err := c.GenerateRandom(bg, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(1024)})
			if err == nil && len(r.Plaintext) != 1024 {
				return stateOutcome(fmt.Sprintf("%d bytes", len(r.Plaintext)))
			}
			return err
		}},
	}
}

// dataKeyPairCases check GenerateDataKeyPair and its WithoutPlaintext twin:
// the public key is the private key's, the blob decrypts (under its context
// only) to the private key, and the key's state and the spec are checked as
// for data keys.
func dataKeyPairCases() []conformanceCase {
	pair := func(spec types.DataKeyPairSpec, withPlaintext bool) func(c *kms.Client, key string) error {
		return func(c *kms.Client, key string) error {
			var blob, pub, priv []byte
			if withPlaintext {
				out, err := c.GenerateDataKeyPair(bg, &kms.GenerateDataKeyPairInput{KeyId: &key, KeyPairSpec: spec, EncryptionContext: ctxA})
				if err != nil {
					return err
				}
				blob, pub, priv = out.PrivateKeyCiphertextBlob, out.PublicKey, out.PrivateKeyPlaintext
			} else {
				out, err := c.GenerateDataKeyPairWithoutPlaintext(bg, &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: &key, KeyPairSpec: spec, EncryptionContext: ctxA})
				if err != nil {
					return err
				}
				blob, pub = out.PrivateKeyCiphertextBlob, out.PublicKey
			}
			d, err := c.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ctxA})
			if err != nil {
				return err
			}
			if withPlaintext && !bytes.Equal(d.Plaintext, priv) {
				return stateOutcome("the blob decrypts to another private key")
			}
			return samePair(pub, d.Plaintext)
		}
	}
	return []conformanceCase{
		{"GenerateDataKeyPair RSA_2048", "ok", pair(types.DataKeyPairSpecRsa2048, true)},
		{"GenerateDataKeyPair ECC_NIST_P256", "ok", pair(types.DataKeyPairSpecEccNistP256, true)},
		{"GenerateDataKeyPair ECC_SECG_P256K1", "ok", pair(types.DataKeyPairSpecEccSecgP256k1, true)},
		{"GenerateDataKeyPairWithoutPlaintext ECC_NIST_P384", "ok", pair(types.DataKeyPairSpecEccNistP384, false)},
		{"GenerateDataKeyPairWithoutPlaintext RSA_2048", "ok", pair(types.DataKeyPairSpecRsa2048, false)},
		{"GenerateDataKeyPair with KeyPairSpec RSA_1024", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.GenerateDataKeyPair(bg, &kms.GenerateDataKeyPairInput{KeyId: &key, KeyPairSpec: "RSA_1024"})
			return err
		}},
		{"GenerateDataKeyPair without KeyPairSpec", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.GenerateDataKeyPair(bg, &kms.GenerateDataKeyPairInput{KeyId: &key}, unchecked)
			return err
		}},
		{"GenerateDataKeyPair with a disabled key", "DisabledException", on(disabledKey, func(c *kms.Client, id *string) error {
			_, err := c.GenerateDataKeyPair(bg, &kms.GenerateDataKeyPairInput{KeyId: id, KeyPairSpec: types.DataKeyPairSpecEccNistP256})
			return err
		})},
		{"GenerateDataKeyPairWithoutPlaintext with a key pending deletion", "KMSInvalidStateException", on(pendingKey, func(c *kms.Client, id *string) error {
			_, err := c.GenerateDataKeyPairWithoutPlaintext(bg, &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: id, KeyPairSpec: types.DataKeyPairSpecEccNistP256})
			return err
		})},
		{"Decrypt a data key pair's blob with another context", "InvalidCiphertextException", func(c *kms.Client, key string) error {
			out, err := c.GenerateDataKeyPairWithoutPlaintext(bg, &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: &key, KeyPairSpec: types.DataKeyPairSpecEccNistP256, EncryptionContext: ctxA})
			if err != nil {
				return err
			}
			_, err = c.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: out.PrivateKeyCiphertextBlob, EncryptionContext: map[string]string{"tenant": "other"}})
			return err
		}},
	}
}

// samePair checks that pub (SubjectPublicKeyInfo) is the public half of der
// (PKCS #8).
func samePair(pub, der []byte) error {
	if k1, err := k1Pair(pub, der); k1 {
		return err
	}
	p, err := x509.ParsePKIXPublicKey(pub)
	if err != nil {
		return stateOutcome("public key: " + err.Error())
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return stateOutcome("private key: " + err.Error())
	}
	if !p.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.(crypto.Signer).Public()) {
		return stateOutcome("the private key is not the public key's")
	}
	return nil
}

func lifecycleCases() []conformanceCase {
	return []conformanceCase{
		{"DescribeKey by key ARN of another region", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: withARNPart(key, 3, "us-west-1")})
			return err
		}},
		{"DescribeKey by key ARN of another account", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: withARNPart(key, 4, "999999999999")})
			return err
		}},
		// KeyId is any string of 1 to 2048 characters in AWS's model: one
		// that no key could have is a key that is not found.
		{"DescribeKey of a malformed key ID", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String("not a key ID!")})
			return err
		}},
		{"DescribeKey of a key ID of 2048 characters", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String(strings.Repeat("k", 2048))})
			return err
		}},
		{"DescribeKey by a key ARN ending in an alias", "NotFoundException", func(c *kms.Client, key string) error {
			arn := key[:strings.Index(key, ":key/")] + ":key/alias/conformance"
			_, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: &arn})
			return err
		}},
		{"Encrypt under an alias with a space", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String("alias/no such alias"), Plaintext: []byte("p")})
			return err
		}},
		{"EnableKey of a key ID with a slash", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.EnableKey(bg, &kms.EnableKeyInput{KeyId: aws.String("key/1234")})
			return err
		}},
		{"Decrypt with an empty KeyId", "ValidationException", func(c *kms.Client, key string) error {
			e, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: &key, Plaintext: []byte("p")})
			if err != nil {
				return err
			}
			_, err = c.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: e.CiphertextBlob, KeyId: aws.String("")})
			return err
		}},
		{"ReEncrypt with an empty SourceKeyId", "ValidationException", func(c *kms.Client, key string) error {
			e, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: &key, Plaintext: []byte("p")})
			if err != nil {
				return err
			}
			_, err = c.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: e.CiphertextBlob, SourceKeyId: aws.String(""), DestinationKeyId: &key})
			return err
		}},
		{"DescribeKey of a key ID of 2049 characters", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String(strings.Repeat("k", 2049))})
			return err
		}},
		{"ListAliases with an empty KeyId", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.ListAliases(bg, &kms.ListAliasesInput{KeyId: aws.String("")})
			return err
		}},
		{"DescribeKey with an empty KeyId", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String("")})
			return err
		}},
		{"DescribeKey of a key pending deletion", "PendingDeletion", on(pendingKey, func(c *kms.Client, id *string) error {
			d, err := c.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: id})
			if err != nil {
				return err
			}
			return stateOutcome(string(d.KeyMetadata.KeyState))
		})},
		{"EnableKey on a key pending deletion", "KMSInvalidStateException", on(pendingKey, func(c *kms.Client, id *string) error {
			_, err := c.EnableKey(bg, &kms.EnableKeyInput{KeyId: id})
			return err
		})},
		{"DisableKey on a key pending deletion", "KMSInvalidStateException", on(pendingKey, func(c *kms.Client, id *string) error {
			_, err := c.DisableKey(bg, &kms.DisableKeyInput{KeyId: id})
			return err
		})},
		{"EnableKey on an enabled key", "ok", func(c *kms.Client, key string) error {
			_, err := c.EnableKey(bg, &kms.EnableKeyInput{KeyId: &key})
			return err
		}},
		{"ScheduleKeyDeletion with a 6-day window", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: &key, PendingWindowInDays: aws.Int32(6)})
			return err
		}},
		{"ScheduleKeyDeletion twice", "KMSInvalidStateException", on(pendingKey, func(c *kms.Client, id *string) error {
			_, err := c.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(7)})
			return err
		})},
		{"ScheduleKeyDeletion of an unknown key", "NotFoundException", func(c *kms.Client, key string) error {
			_, err := c.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: aws.String("11111111-2222-3333-4444-555555555555")})
			return err
		}},
		{"CancelKeyDeletion on an enabled key", "KMSInvalidStateException", func(c *kms.Client, key string) error {
			_, err := c.CancelKeyDeletion(bg, &kms.CancelKeyDeletionInput{KeyId: &key})
			return err
		}},
		{"UpdateKeyDescription of 8193 characters", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.UpdateKeyDescription(bg, &kms.UpdateKeyDescriptionInput{KeyId: &key, Description: aws.String(strings.Repeat("d", 8193))})
			return err
		}},
		{"UpdateKeyDescription on a key pending deletion", "KMSInvalidStateException", on(pendingKey, func(c *kms.Client, id *string) error {
			_, err := c.UpdateKeyDescription(bg, &kms.UpdateKeyDescriptionInput{KeyId: id, Description: aws.String("d")})
			return err
		})},
		{"GetKeyRotationStatus of a disabled key", "ok", on(disabledKey, func(c *kms.Client, id *string) error {
			_, err := c.GetKeyRotationStatus(bg, &kms.GetKeyRotationStatusInput{KeyId: id})
			return err
		})},
		{"EnableKeyRotation on a disabled key", "DisabledException", on(disabledKey, func(c *kms.Client, id *string) error {
			_, err := c.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: id})
			return err
		})},
		{"EnableKeyRotation on a key pending deletion", "KMSInvalidStateException", on(pendingKey, func(c *kms.Client, id *string) error {
			_, err := c.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: id})
			return err
		})},
		{"DisableKeyRotation on a disabled key", "DisabledException", on(disabledKey, func(c *kms.Client, id *string) error {
			_, err := c.DisableKeyRotation(bg, &kms.DisableKeyRotationInput{KeyId: id})
			return err
		})},
		{"RotateKeyOnDemand on a disabled key", "DisabledException", on(disabledKey, func(c *kms.Client, id *string) error {
			_, err := c.RotateKeyOnDemand(bg, &kms.RotateKeyOnDemandInput{KeyId: id})
			return err
		})},
		{"EnableKeyRotation with RotationPeriodInDays 89", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: &key, RotationPeriodInDays: aws.Int32(89)})
			return err
		}},
		{"EnableKeyRotation with RotationPeriodInDays 2560", "ok", func(c *kms.Client, key string) error {
			_, err := c.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: &key, RotationPeriodInDays: aws.Int32(2560)})
			return err
		}},
		{"EnableKeyRotation with RotationPeriodInDays 2561", "ValidationException", func(c *kms.Client, key string) error {
			_, err := c.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: &key, RotationPeriodInDays: aws.Int32(2561)})
			return err
		}},
	}
}

func createKeyCases() []conformanceCase {
	create := func(in kms.CreateKeyInput) func(c *kms.Client, key string) error {
		return func(c *kms.Client, key string) error {
			_, err := c.CreateKey(bg, &in)
			return err
		}
	}
	return []conformanceCase{
		{"CreateKey with KeySpec SYMMETRIC_DEFAULT and KeyUsage ENCRYPT_DECRYPT", "ok",
			create(kms.CreateKeyInput{KeySpec: types.KeySpecSymmetricDefault, KeyUsage: types.KeyUsageTypeEncryptDecrypt})},
		{"CreateKey with KeyUsage SIGN_VERIFY and no KeySpec", "ValidationException",
			create(kms.CreateKeyInput{KeyUsage: types.KeyUsageTypeSignVerify})},
		{"CreateKey with KeySpec HMAC_256 and no KeyUsage", "ValidationException",
			create(kms.CreateKeyInput{KeySpec: types.KeySpecHmac256})},
		{"CreateKey with KeySpec RSA_2048 and no KeyUsage", "ValidationException",
			create(kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048})},
		{"CreateKey with KeySpec ECC_NIST_P256 and KeyUsage ENCRYPT_DECRYPT", "ValidationException",
			create(kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeEncryptDecrypt})},
		{"CreateKey with both KeySpec and CustomerMasterKeySpec", "ValidationException",
			create(kms.CreateKeyInput{KeySpec: types.KeySpecSymmetricDefault, CustomerMasterKeySpec: types.CustomerMasterKeySpecSymmetricDefault})},
		{"CreateKey with KeySpec RSA_2048 and KeyUsage ENCRYPT_DECRYPT", "ok",
			create(kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt})},
		{"CreateKey with KeySpec HMAC_256 and KeyUsage GENERATE_VERIFY_MAC", "ok",
			create(kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})},
		{"CreateKey with CustomerMasterKeySpec ECC_NIST_P256 and KeyUsage SIGN_VERIFY", "ok",
			create(kms.CreateKeyInput{CustomerMasterKeySpec: types.CustomerMasterKeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})},
		{"CreateKey with a Description of 8193 characters", "ValidationException",
			create(kms.CreateKeyInput{Description: aws.String(strings.Repeat("d", 8193))})},
	}
}

// stateOutcome reports a state as an outcome that is not an error code.
type stateOutcome string

func (s stateOutcome) Error() string { return string(s) }

func runConformance(t *testing.T, c *kms.Client) map[string]string {
	t.Helper()
	k, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, cc := range allConformanceCases() {
		err := cc.run(c, aws.ToString(k.KeyMetadata.Arn))
		var st stateOutcome
		if errors.As(err, &st) {
			got[cc.name] = string(st)
		} else {
			got[cc.name] = outcome(err)
		}
	}
	return got
}

// kmslessDeviations are the cases where kmsless knowingly differs from AWS's
// documentation, with the outcome it gives.
var kmslessDeviations = map[string]string{
	// Alias names are shared with the Alibaba Cloud KMS API, whose names
	// are at most 255 characters, "alias/" included: a longer one could not
	// be used or deleted through it.
	"CreateAlias of 256 characters": "ValidationException",
	// Rotation periods are shared with the Alibaba Cloud KMS API, whose
	// RotationInterval is at most 730 days.
	"EnableKeyRotation with RotationPeriodInDays 2560": "ValidationException",
}

func TestConformanceAgainstAWSDocsAndLocalKMS(t *testing.T) {
	cases := allConformanceCases()
	names := map[string]bool{}
	for _, cc := range cases {
		if names[cc.name] {
			t.Fatalf("two cases are named %q", cc.name)
		}
		names[cc.name] = true
	}
	for name := range kmslessDeviations {
		if !names[name] {
			t.Fatalf("kmslessDeviations names %q, which is no case", name)
		}
	}
	e := newEnv(t)
	ours := runConformance(t, e.aws)
	for _, cc := range cases {
		want := cc.want
		if d, ok := kmslessDeviations[cc.name]; ok {
			want = d
		}
		if ours[cc.name] != want {
			t.Errorf("kmsless, %s: %s; want %s", cc.name, ours[cc.name], want)
		}
	}
	if testing.Short() {
		return
	}
	l := rootkeytest.StartLocalKMS(t)
	ref := kms.New(kms.Options{Region: rootkeytest.AWSRegion, BaseEndpoint: aws.String(l.Endpoint),
		Credentials: aws.AnonymousCredentials{}, Retryer: aws.NopRetryer{}})
	theirs := runConformance(t, ref)
	var diffs []string
	for _, cc := range cases {
		if theirs[cc.name] == ours[cc.name] && ours[cc.name] != cc.want {
			diffs = append(diffs, cc.name+": both "+ours[cc.name]+", AWS documents "+cc.want)
		}
		if theirs[cc.name] != ours[cc.name] {
			var verdict string
			switch {
			case ours[cc.name] == cc.want:
				verdict = "kmsless matches AWS's docs"
			case theirs[cc.name] == cc.want && kmslessDeviations[cc.name] != "":
				verdict = "local-kms matches AWS's docs; kmsless deviates on purpose"
			case theirs[cc.name] == cc.want:
				verdict = "local-kms matches AWS's docs"
			default:
				verdict = "neither matches AWS's docs"
			}
			diffs = append(diffs, cc.name+": kmsless "+ours[cc.name]+", local-kms "+theirs[cc.name]+", AWS documents "+cc.want+" ("+verdict+")")
		}
	}
	sort.Strings(diffs)
	t.Logf("kmsless and local-kms differ in %d of %d cases:\n  %s", len(diffs), len(cases), strings.Join(diffs, "\n  "))
}
