package awsjson_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

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
	for _, cc := range conformanceCases() {
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
var kmslessDeviations = map[string]string{}

func TestConformanceAgainstAWSDocsAndLocalKMS(t *testing.T) {
	e := newEnv(t)
	ours := runConformance(t, e.aws)
	for _, cc := range conformanceCases() {
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
	for _, cc := range conformanceCases() {
		if theirs[cc.name] == ours[cc.name] && ours[cc.name] != cc.want {
			diffs = append(diffs, cc.name+": both "+ours[cc.name]+", AWS documents "+cc.want)
		}
		if theirs[cc.name] != ours[cc.name] {
			verdict := "kmsless matches AWS's docs"
			if theirs[cc.name] == cc.want {
				verdict = "local-kms matches AWS's docs"
			}
			diffs = append(diffs, cc.name+": kmsless "+ours[cc.name]+", local-kms "+theirs[cc.name]+", AWS documents "+cc.want+" ("+verdict+")")
		}
	}
	sort.Strings(diffs)
	t.Logf("kmsless and local-kms differ in %d of %d cases:\n  %s", len(diffs), len(conformanceCases()), strings.Join(diffs, "\n  "))
}
