package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/provision"
)

// freshEnv points the configuration at a fresh local data dir (embedded
// store, generated root key, development principal) holding no key yet.
func freshEnv(t *testing.T) {
	t.Helper()
	for _, v := range []string{"KMS_STORE", "REDIS_URL", "KMS_PRINCIPALS_FILE", "KMS_ROOT_KEY", "KMS_ROOT_KEY_FILE",
		"KMS_ROOT_KEY_SOURCE", "KMS_ROOT_KEY_CMK", "KMS_ROOT_KEY_CONTEXT", "KMS_ROOT_KEY_ENDPOINT",
		"KMS_PARTITION_KEY_ID", "AWS_LAMBDA_RUNTIME_API", "FC_RUNTIME_API"} {
		t.Setenv(v, "")
	}
	t.Setenv("KMS_DATA_DIR", t.TempDir())
	t.Setenv("KMS_LOG_LEVEL", "error")
}

// localEnv is freshEnv with alias/partitions created.
func localEnv(t *testing.T) {
	t.Helper()
	freshEnv(t)
	ctx := context.Background()
	svc, err := config.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	dev := svc.DevPrincipal
	resp, err := svc.KMS.Handle(ctx, &core.Request{ID: "r", Action: "CreateKey", Caller: dev})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.(core.Key).ID
	if _, err := svc.KMS.Handle(ctx, &core.Request{ID: "r", Action: "CreateAlias", Caller: dev,
		Params: core.Params{"AliasName": "alias/partitions", "KeyId": id}}); err != nil {
		t.Fatal(err)
	}
}

func writeIDs(t *testing.T, lines []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBackfillProvisionsEveryIDAndReportsCounts(t *testing.T) {
	localEnv(t)
	ctx := context.Background()

	var first []string
	for i := range 5 {
		first = append(first, fmt.Sprintf("p-%04d", i))
	}
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"-file", writeIDs(t, first)}, &out, &errb, false); code != 0 {
		t.Fatalf("first backfill exited %d: %s", code, errb.String())
	}

	lines := []string{"# partitions created before provisioning went live", ""}
	for i := range 300 {
		lines = append(lines, fmt.Sprintf("  p-%04d  ", i))
	}
	lines = append(lines, "not a valid id")
	out.Reset()
	errb.Reset()
	code := run(ctx, []string{"-file", writeIDs(t, lines), "-workers", "4"}, &out, &errb, false)
	if code != 1 {
		t.Fatalf("exit %d with a failed partition, want 1; stderr:\n%s", code, errb.String())
	}
	if got, want := out.String(), "created=295 already_present=5 failed=1 not_attempted=0\n"; got != want {
		t.Fatalf("stdout %q, want %q", got, want)
	}
	if !strings.Contains(errb.String(), "failed not a valid id: InvalidParameter") {
		t.Fatalf("the failure is not shown on stderr:\n%s", errb.String())
	}
	if strings.Contains(errb.String(), "\r") {
		t.Fatal("a carriage return was written to a non-terminal")
	}
	if !strings.Contains(errb.String(), "done: 301/301 (100.0%)  created 295  already present 5  failed 1") {
		t.Fatalf("no final progress line:\n%s", errb.String())
	}

	svc, err := config.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if _, err := svc.KMS.Store().(core.PartitionStore).GetPartition(ctx, "p-0299"); err != nil {
		t.Fatalf("p-0299 not provisioned: %v", err)
	}
}

func TestBackfillRefusesBadUsage(t *testing.T) {
	localEnv(t)
	ctx := context.Background()
	var out, errb bytes.Buffer
	for _, args := range [][]string{{}, {"-file", "x", "extra"}, {"-file", "x", "-workers", "0"}} {
		if code := run(ctx, args, &out, &errb, false); code != 2 {
			t.Errorf("args %q: exit %d, want 2", args, code)
		}
	}
	if code := run(ctx, []string{"-file", writeIDs(t, []string{"p-1"}), "-access-key-id", "LTAInobody"}, &out, &errb, false); code != 2 {
		t.Errorf("unknown principal: exit %d, want 2", code)
	}
	if code := run(ctx, []string{"-file", writeIDs(t, []string{"# only a comment"})}, &out, &errb, false); code != 1 {
		t.Errorf("empty file: exit %d, want 1", code)
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestProgressRedrawsOneLineOnATerminal(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	var w bytes.Buffer
	p := newProgress(&w, true, 4, clk.now)
	for i, st := range []string{provision.StatusCreated, provision.StatusAlreadyPresent, provision.StatusFailed} {
		clk.t = clk.t.Add(time.Second)
		p.add(provision.Result{PartitionId: fmt.Sprint(i), Status: st})
	}
	if strings.Contains(w.String(), "\n") || strings.Count(w.String(), "\r") != 3 {
		t.Fatalf("terminal output %q: want three redraws of one line", w.String())
	}
	p.println("failed 2: X: y")
	clk.t = clk.t.Add(time.Second)
	p.add(provision.Result{Status: provision.StatusCreated})
	p.finish()
	got := w.String()
	if !strings.HasSuffix(got, "\r4/4 (100.0%)  created 2  already present 1  failed 1  1/s\033[K\n") {
		t.Fatalf("terminal output ends %q", got[max(0, len(got)-80):])
	}
	if !strings.Contains(got, "\r\033[Kfailed 2: X: y\n") {
		t.Fatalf("a message did not clear the progress line first: %q", got)
	}
}

func TestProgressPrintsPeriodicLinesElsewhere(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	var w bytes.Buffer
	p := newProgress(&w, false, 100, clk.now)
	for range 100 {
		clk.t = clk.t.Add(100 * time.Millisecond)
		p.add(provision.Result{Status: provision.StatusCreated})
	}
	p.finish()
	lines := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	// 10 s of work: a line at 5 s and at 10 s, then the final one.
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "progress: 50/100") || !strings.HasPrefix(lines[2], "done: 100/100") {
		t.Fatalf("plain output:\n%s", w.String())
	}
	if strings.Contains(w.String(), "\r") {
		t.Fatal("carriage return in plain output")
	}
}

func TestBackfillActsAsTheNamedPrincipal(t *testing.T) {
	localEnv(t)
	file := filepath.Join(t.TempDir(), "principals.yaml")
	if err := os.WriteFile(file, []byte(`principals:
  - name: reader
    accessKeyId: LTAI5tReader00000001
    accessKeySecret: reader-secret
    policy: {Version: "1", Statement: [{Effect: Allow, Action: ["kms:Decrypt"], Resource: ["*"]}]}
  - name: partition-provisioner
    accessKeyId: LTAI5tProvisioner0001
    accessKeySecret: provisioner-secret
    policy: {Version: "1", Statement: [{Effect: Allow, Action: ["kms:GenerateDataKeyWithoutPlaintext"], Resource: ["*"]}]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KMS_PRINCIPALS_FILE", file)
	ctx := context.Background()
	ids := writeIDs(t, []string{"p-1", "p-2"})
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"-file", ids, "-access-key-id", "LTAI5tReader00000001"}, &out, &errb, false); code != 1 ||
		out.String() != "created=0 already_present=0 failed=2 not_attempted=0\n" || !strings.Contains(errb.String(), core.CodeNoPermission) {
		t.Fatalf("as a reader: exit %d, %q\n%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run(ctx, []string{"-file", ids, "-access-key-id", "LTAI5tProvisioner0001"}, &out, &errb, false); code != 0 ||
		out.String() != "created=2 already_present=0 failed=0 not_attempted=0\n" {
		t.Fatalf("as the provisioner: exit %d, %q\n%s", code, out.String(), errb.String())
	}
}

// TestBackfillCreatesThePartitionKeyOnAFreshStore: like provision-partitions
// at start-up, a backfill under KMS_PARTITION_KEY_ID creates that alias when
// it does not exist yet, instead of failing every partition.
func TestBackfillCreatesThePartitionKeyOnAFreshStore(t *testing.T) {
	freshEnv(t)
	ctx := context.Background()
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"-file", writeIDs(t, []string{"p-1", "p-2"})}, &out, &errb, false); code != 0 ||
		out.String() != "created=2 already_present=0 failed=0 not_attempted=0\n" {
		t.Fatalf("backfill on a fresh store: exit %d, %q\n%s", code, out.String(), errb.String())
	}
	svc, err := config.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	a, err := svc.KMS.Store().GetAlias(ctx, "alias/partitions")
	if err != nil {
		t.Fatalf("alias/partitions was not created: %v", err)
	}
	p, err := svc.KMS.Store().(core.PartitionStore).GetPartition(ctx, "p-2")
	if err != nil || p.KeyID != a.KeyID {
		t.Fatalf("p-2 is %+v, %v; want it under alias/partitions (%s)", p, err, a.KeyID)
	}
}

// TestBackfillRefusesAKeyOutsideThePartitionKeys: -key names a key partitions
// may be provisioned under, one of KMS_PARTITION_KEYS; any other is refused
// before a partition is tried, and the usage says so.
func TestBackfillRefusesAKeyOutsideThePartitionKeys(t *testing.T) {
	localEnv(t)
	ctx := context.Background()
	ids := writeIDs(t, []string{"p-1"})
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"-file", ids, "-key", "alias/orders"}, &out, &errb, false); code != 2 ||
		!strings.Contains(errb.String(), `-key "alias/orders" is not in KMS_PARTITION_KEYS`) || out.Len() != 0 {
		t.Fatalf("-key alias/orders: exit %d, %q\n%s", code, out.String(), errb.String())
	}
	errb.Reset()
	if code := run(ctx, []string{"-h"}, &out, &errb, false); code != 2 || !strings.Contains(errb.String(), "KMS_PARTITION_KEYS") {
		t.Fatalf("-h: exit %d, usage does not name KMS_PARTITION_KEYS:\n%s", code, errb.String())
	}
	t.Setenv("KMS_PARTITION_KEYS", "alias/partitions,alias/orders")
	errb.Reset()
	if code := run(ctx, []string{"-file", ids, "-key", "alias/orders"}, &out, &errb, false); code != 1 ||
		!strings.Contains(errb.String(), "failed p-1: Forbidden.AliasNotFound") {
		t.Fatalf("-key alias/orders, listed but missing: exit %d\n%s", code, errb.String())
	}
}
