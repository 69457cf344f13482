package awsjson_test

import (
	"errors"
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

// TestSDKEnableKeyRotationCountsFromTheDayItIsEnabled: the first automatic
// rotation comes RotationPeriodInDays after EnableKeyRotation, however old
// the key, on the NextRotationDate GetKeyRotationStatus gives.
func TestSDKEnableKeyRotationCountsFromTheDayItIsEnabled(t *testing.T) {
	clock := testclock.New(time.Now())
	e := newEnv(t, withClock(clock))
	id := e.createKey()
	clock.Advance(50 * 24 * time.Hour)
	enabled := clock.Now().UTC().Truncate(time.Second)
	if _, err := e.aws.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: aws.String(id), RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	st, err := e.aws.GetKeyRotationStatus(bg, &kms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	due := enabled.Add(90 * 24 * time.Hour)
	if st.NextRotationDate == nil || !st.NextRotationDate.Equal(due) {
		t.Fatalf("NextRotationDate %v, want %v: 90 days after rotation was enabled", st.NextRotationDate, due)
	}
	rotations := func() []types.RotationsListEntry {
		t.Helper()
		if _, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		out, err := e.aws.ListKeyRotations(bg, &kms.ListKeyRotationsInput{KeyId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Rotations
	}
	clock.Advance(due.Sub(clock.Now()) - time.Second)
	if r := rotations(); len(r) != 0 {
		t.Fatalf("rotated a second before NextRotationDate: %+v", r)
	}
	clock.Advance(time.Second)
	r := rotations()
	if len(r) != 1 || r[0].RotationType != types.RotationTypeAutomatic || r[0].RotationDate == nil || !r[0].RotationDate.Equal(due) {
		t.Fatalf("on NextRotationDate: %+v, want one automatic rotation dated %v", r, due)
	}
}

// TestSDKRotateKeyOnDemandQuota: the 26th rotation on demand of a key is
// AWS's LimitExceededException, and changes nothing.
func TestSDKRotateKeyOnDemandQuota(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	for range 25 {
		if _, err := e.aws.RotateKeyOnDemand(bg, &kms.RotateKeyOnDemandInput{KeyId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
	}
	var limit *types.LimitExceededException
	if _, err := e.aws.RotateKeyOnDemand(bg, &kms.RotateKeyOnDemandInput{KeyId: aws.String(id)}); !errors.As(err, &limit) {
		t.Fatalf("the 26th RotateKeyOnDemand: want *types.LimitExceededException, got %v", err)
	}
	out, err := e.aws.ListKeyRotations(bg, &kms.ListKeyRotationsInput{KeyId: aws.String(id), Limit: aws.Int32(1000)})
	if err != nil || len(out.Rotations) != 25 {
		t.Fatalf("ListKeyRotations: %d rotations (%v); want 25", len(out.Rotations), err)
	}
}
