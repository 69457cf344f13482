package awsjson_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/kmsless/kmsless/internal/testclock"
)

// TestSDKGetKeyLastUsage drives GetKeyLastUsage through AWS's Go SDK: a key
// no one has used answers no KeyLastUsage; a use answers its operation, as
// AWS names it, its time and the request ID the SDK was given; within a
// minute a later use moves nothing, and after it the next one is recorded.
func TestSDKGetKeyLastUsage(t *testing.T) {
	clock := testclock.New(time.Now().Add(time.Hour))
	e := newEnv(t, withClock(clock))
	id := e.createKey()

	last := func(ref string) *kms.GetKeyLastUsageOutput {
		t.Helper()
		out, err := e.aws.GetKeyLastUsage(bg, &kms.GetKeyLastUsageInput{KeyId: aws.String(ref)})
		if err != nil {
			t.Fatalf("GetKeyLastUsage(%s): %v", ref, err)
		}
		return out
	}
	wantUse := func(ref, op string, md middleware.Metadata, at time.Time) {
		t.Helper()
		rid, _ := awsmiddleware.GetRequestIDMetadata(md)
		u := last(ref).KeyLastUsage
		if u == nil || string(u.Operation) != op || aws.ToString(u.KmsRequestId) != rid || rid == "" ||
			!aws.ToTime(u.Timestamp).Equal(at.Truncate(time.Second)) || u.CloudTrailEventId != nil {
			t.Fatalf("last use of %s: %+v, want %s in request %q at %v", ref, u, op, rid, at)
		}
	}

	fresh := last(keyARN(id))
	if fresh.KeyLastUsage != nil || aws.ToString(fresh.KeyId) != id || fresh.KeyCreationDate == nil ||
		fresh.TrackingStartDate == nil || fresh.TrackingStartDate.Before(*fresh.KeyCreationDate) {
		t.Fatalf("a key no one used: %+v", fresh)
	}

	enc, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("p")})
	if err != nil {
		t.Fatal(err)
	}
	wantUse(id, "Encrypt", enc.ResultMetadata, clock.Now())
	at := clock.Now()
	clock.Advance(30 * time.Second)
	if _, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
		t.Fatal(err)
	}
	wantUse(id, "Encrypt", enc.ResultMetadata, at)
	clock.Advance(31 * time.Second)
	dec, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	if err != nil {
		t.Fatal(err)
	}
	wantUse(id, "Decrypt", dec.ResultMetadata, clock.Now())

	// Alibaba's AsymmetricSign is AWS's Sign.
	made, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	signer := aws.ToString(made.KeyMetadata.KeyId)
	digest := sha256.Sum256([]byte("m"))
	sig, err := e.aws.Sign(bg, &kms.SignInput{KeyId: aws.String(signer), Message: digest[:], MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	if err != nil {
		t.Fatal(err)
	}
	wantUse(signer, "Sign", sig.ResultMetadata, clock.Now())

	// AWS takes a key ID or key ARN here, not an alias.
	if _, err := e.aws.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String("alias/used"), TargetKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"alias/used", "alias/none", "00000000-0000-4000-8000-000000000000"} {
		_, err := e.aws.GetKeyLastUsage(bg, &kms.GetKeyLastUsageInput{KeyId: aws.String(ref)})
		apiError(t, err, "NotFoundException")
	}
}
