package rootkey

import (
	"context"
	"errors"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/kmsless/kmsless/core"
)

// FromAWSKMS asks AWS KMS to decrypt w.Blob with the credentials, region and
// endpoint of the SDK's default chain: the function's own role on Lambda, and
// the standard AWS_* variables (AWS_REGION, AWS_ENDPOINT_URL_KMS, …) anywhere.
// The Plaintext it returns is zeroed; the SDK's own copy, the response body it
// decoded, is beyond reach.
func FromAWSKMS(ctx context.Context, w Wrapped) (*core.RootKey, error) {
	ciphertext, err := w.ciphertext()
	if err != nil {
		return nil, err
	}
	ctx, cancel := w.withTimeout(ctx)
	defer cancel()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: set AWS_REGION (Lambda sets it)")
	}
	// Asked for here, so a missing role reads as such and not as an unreachable KMS.
	if cfg.Credentials == nil {
		return nil, errors.New("no AWS credentials: give the function a role, or set the standard AWS_* variables")
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("no AWS credentials: give the function a role, or set the standard AWS_* variables: %w", err)
	}
	in := &kms.DecryptInput{CiphertextBlob: ciphertext, EncryptionContext: w.Context}
	if w.KeyID != "" {
		in.KeyId = &w.KeyID
	}
	out, err := kms.NewFromConfig(cfg).Decrypt(ctx, in)
	if err != nil {
		return nil, awsError(ctx, err)
	}
	return fromPlaintext(out.Plaintext)
}

func awsError(ctx context.Context, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		return refusal(api.ErrorCode(), api.ErrorMessage())
	}
	return unreachable(err, ctx.Err() != nil)
}
