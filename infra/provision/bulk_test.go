package provision_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/provision"
)

// directEvent is a direct invocation asking for n partitions from first on.
func directEvent(tb testing.TB, prefix string, first, n int) []byte {
	tb.Helper()
	type entry struct {
		PartitionId string
	}
	ev := struct{ Partitions []entry }{Partitions: make([]entry, n)}
	for i := range n {
		ev.Partitions[i].PartitionId = fmt.Sprintf("%s-%06d", prefix, first+i)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// TestProvisionTenThousandPartitionsThroughTheDirectPath runs the bulk case in
// full: one direct invocation of 10,000 partitions, 100 of them already
// provisioned and 10 invalid, under the caller's QPS limit.
func TestProvisionTenThousandPartitionsThroughTheDirectPath(t *testing.T) {
	e := newEnv(t, inproc.NewLimiter())
	e.provisioner.QPS = 20000
	p := e.provisioner_(provision.Options{Workers: 8})
	ctx := context.Background()
	if _, err := p.Handle(ctx, directEvent(t, "p", 0, 100)); err != nil {
		t.Fatal(err)
	}
	var ev struct{ Partitions []map[string]string }
	if err := json.Unmarshal(directEvent(t, "p", 0, 10_000), &ev); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		ev.Partitions[5000+i]["PartitionId"] = fmt.Sprintf("bad id %d", i)
	}
	raw, _ := json.Marshal(ev)

	start := time.Now()
	resp, err := p.Handle(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	rep := resp.(provision.Report)
	if len(rep.Results) != 10_000 || rep.Created != 9_890 || rep.AlreadyPresent != 100 || rep.Failed != 10 {
		t.Fatalf("%d results, counts %+v; want 9890 created, 100 already present, 10 failed", len(rep.Results), rep.Counts)
	}
	for i, r := range rep.Results {
		if want := fmt.Sprintf("p-%06d", i); r.Status != provision.StatusFailed && r.PartitionId != want {
			t.Fatalf("result %d is for %s, want %s: results must keep the request order", i, r.PartitionId, want)
		}
	}
	if _, err := e.store.GetPartition(ctx, "p-009999"); err != nil {
		t.Fatalf("last partition: %v", err)
	}
	t.Logf("10,000 partitions in %s (%.0f/s)", elapsed.Round(time.Millisecond), 10_000/elapsed.Seconds())
}

func TestBulkRunKeepsToTheCallersQPSInsteadOfFailing(t *testing.T) {
	e := newEnv(t, inproc.NewLimiter())
	e.provisioner.QPS, e.provisioner.Burst = 100, 20
	ctx := context.Background()

	start := time.Now()
	resp, err := e.provisioner_(provision.Options{}).Handle(ctx, directEvent(t, "q", 0, 70))
	if err != nil {
		t.Fatal(err)
	}
	if rep := resp.(provision.Report); rep.Created != 70 {
		t.Fatalf("counts %+v, want all 70 created after waiting out Throttling", rep.Counts)
	}
	// 20 in the burst, then 50 at 100/s.
	if elapsed := time.Since(start); elapsed < 400*time.Millisecond {
		t.Fatalf("70 partitions took %s; the QPS limit of 100 was not applied", elapsed)
	}

	impatient := e.provisioner_(provision.Options{ThrottleWait: time.Millisecond})
	resp, err = impatient.Handle(ctx, directEvent(t, "r", 0, 70))
	if err != nil {
		t.Fatal(err)
	}
	rep := resp.(provision.Report)
	throttled := 0
	for _, r := range rep.Results {
		if r.Code == core.CodeThrottling {
			throttled++
		}
	}
	if throttled == 0 || throttled != rep.Failed {
		t.Fatalf("with no time to wait, %d of %d failures are Throttling; want some, and only those", throttled, rep.Failed)
	}
}
