package core_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

// onDemand counts a key's versions made by rotations on demand.
func (f *svcFixture) onDemand(id string) int {
	f.t.Helper()
	vs, _, err := f.store.ListVersions(context.Background(), id, core.Page{})
	if err != nil {
		f.t.Fatal(err)
	}
	n := 0
	for _, v := range vs {
		if v.RotationType == core.RotationOnDemand {
			n++
		}
	}
	return n
}

// TestRotateKeyOnDemandStopsAtTwentyFive holds RotateKeyOnDemand to AWS's
// quota of 25 rotations on demand a key, counting those Alibaba's
// CreateKeyVersion made, which itself has no such bound; automatic
// rotation goes on past it.
func TestRotateKeyOnDemandStopsAtTwentyFive(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	for range 10 {
		f.ok("CreateKeyVersion", "KeyId", id)
	}
	for range 15 {
		f.ok("RotateKeyOnDemand", "KeyId", id)
	}
	_, err := f.call("RotateKeyOnDemand", "KeyId", id)
	mustCode(t, err, core.CodeLimitExceeded)
	if n := f.onDemand(id); n != 25 {
		t.Fatalf("%d rotations on demand after the refusal; want 25", n)
	}
	f.ok("CreateKeyVersion", "KeyId", id)
	f.ok("UpdateRotationPolicy", "KeyId", id, "EnableAutomaticRotation", "true", "RotationInterval", "7d")
	f.clock.Advance(8 * 24 * time.Hour)
	f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id)
	vs, total, err := f.store.ListVersions(context.Background(), id, core.Page{})
	if err != nil || total != 28 || vs[total-1].RotationType != core.RotationAutomatic {
		t.Fatalf("versions after an automatic rotation: %d (%v); want 28, the last automatic", total, err)
	}
}

// TestRacingRotationsOnDemandStopAtTheQuota: rotations racing on a key five
// short of the quota make exactly five versions; the rest are refused.
func TestRacingRotationsOnDemandStopAtTheQuota(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	for range 20 {
		f.ok("CreateKeyVersion", "KeyId", id)
	}
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		made, over int
	)
	for range 12 {
		wg.Go(func() {
			_, err := f.call("RotateKeyOnDemand", "KeyId", id)
			mu.Lock()
			defer mu.Unlock()
			var ke *core.Error
			switch {
			case err == nil:
				made++
			case errors.As(err, &ke) && ke.Code == core.CodeLimitExceeded:
				over++
			case errors.As(err, &ke) && ke.Code == core.CodeStateModifiedFailed:
			default:
				t.Errorf("RotateKeyOnDemand: %v", err)
			}
		})
	}
	wg.Wait()
	if n := f.onDemand(id); n != 25 || made != 5 || over == 0 {
		t.Fatalf("%d rotations made, %d refused over the quota, %d on demand in all; want 5, some, 25", made, over, n)
	}
}
