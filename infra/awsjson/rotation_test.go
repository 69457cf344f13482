package awsjson_test

import (
	"slices"
	"testing"
	"time"

	alikms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsless/kmsless/internal/testclock"
)

// TestSDKListKeyRotationsTellsAutomaticFromOnDemand: each rotation says
// which kind made it, AUTOMATIC for the schedule's and ON_DEMAND for
// RotateKeyOnDemand's and Alibaba's CreateKeyVersion's, and the first key
// material says neither.
func TestSDKListKeyRotationsTellsAutomaticFromOnDemand(t *testing.T) {
	clock := testclock.New(time.Now())
	e := newEnv(t, withClock(clock))
	id := e.createKey()
	if _, err := e.aws.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: aws.String(id), RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.aws.RotateKeyOnDemand(bg, &kms.RotateKeyOnDemandInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	// The Alibaba client signs at the wall clock's time: it goes before the
	// service's clock moves.
	if _, err := e.ali.CreateKeyVersion(&alikms.CreateKeyVersionRequest{KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(90 * 24 * time.Hour)
	if _, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("due")}); err != nil {
		t.Fatal(err)
	}
	out, err := e.aws.ListKeyRotations(bg, &kms.ListKeyRotationsInput{KeyId: aws.String(id), IncludeKeyMaterial: types.IncludeKeyMaterialAllKeyMaterial})
	if err != nil {
		t.Fatal(err)
	}
	var got []types.RotationType
	for _, r := range out.Rotations {
		got = append(got, r.RotationType)
	}
	want := []types.RotationType{"", types.RotationTypeOnDemand, types.RotationTypeOnDemand, types.RotationTypeAutomatic}
	if !slices.Equal(got, want) {
		t.Fatalf("rotation types %q, want %q", got, want)
	}
}
