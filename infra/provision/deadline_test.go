package provision_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/provision"
	"github.com/kmsless/kmsless/infra/store/bolt"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

// slowStore takes delay to store a partition, and gives up when its context
// ends first, as a remote store's client does.
type slowStore struct {
	storetest.Store
	delay time.Duration
}

func (s slowStore) CreatePartition(ctx context.Context, p core.Partition) (core.Partition, bool, error) {
	t := time.NewTimer(s.delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return core.Partition{}, false, ctx.Err()
	case <-t.C:
	}
	return s.Store.CreatePartition(ctx, p)
}

// TestRunStopsBeforeTheDeadlineWithEveryPartitionStoredOrFailed: an event the
// store is too slow for ends DeadlineMargin before the invocation's deadline,
// in time to report, and what it reports matches what was stored.
func TestRunStopsBeforeTheDeadlineWithEveryPartitionStoredOrFailed(t *testing.T) {
	store, err := bolt.Open(filepath.Join(t.TempDir(), "kms.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	e := newEnvOn(t, slowStore{Store: store, delay: 100 * time.Millisecond}, inproc.NewLimiter())
	e.store = store

	ctx, cancel := context.WithTimeout(context.Background(), provision.DeadlineMargin+350*time.Millisecond)
	defer cancel()
	resp, err := e.provisioner_(provision.Options{Workers: 4}).Handle(ctx, directEvent(t, "slow", 0, 100))
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the report came after the invocation's deadline")
	}
	rep := resp.(provision.Report)
	if rep.Created == 0 || rep.Failed == 0 || rep.Created+rep.Failed != 100 {
		t.Fatalf("counts %+v; want some of the 100 created and the rest failed", rep.Counts)
	}
	for _, r := range rep.Results {
		_, stored := e.stored(t, r.PartitionId)
		switch {
		case r.Status == provision.StatusCreated && !stored:
			t.Errorf("%s reported created but not stored", r.PartitionId)
		case r.Status == provision.StatusFailed && r.Code != core.CodeServiceUnavailableTemporary:
			t.Errorf("%s failed with %s %q; want ServiceUnavailableTemporary, to be retried", r.PartitionId, r.Code, r.Message)
		case r.Status == provision.StatusFailed && stored:
			t.Errorf("%s reported failed but stored", r.PartitionId)
		}
	}
}

// TestRunGivenLessThanTheMarginStillProvisions: a function whose whole
// timeout is under DeadlineMargin keeps a quarter of it for the report and
// spends the rest provisioning.
func TestRunGivenLessThanTheMarginStillProvisions(t *testing.T) {
	e := newEnv(t, inproc.NewLimiter())
	ctx, cancel := context.WithTimeout(context.Background(), provision.DeadlineMargin/2)
	defer cancel()
	resp, err := e.provisioner_(provision.Options{Workers: 4}).Handle(ctx, directEvent(t, "short", 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	if rep := resp.(provision.Report); rep.Created != 3 {
		t.Fatalf("counts %+v; want the 3 partitions created", rep.Counts)
	}
}
