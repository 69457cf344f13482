package provision_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/provision"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

// wireOn wires a service from env as a function instance does.
func wireOn(t *testing.T, env map[string]string) *config.Service {
	t.Helper()
	set, err := config.Read(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	svc, err := config.Wire(context.Background(), set, slog.New(slog.DiscardHandler), config.PrincipalsOptional())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	return svc
}

func TestConcurrentColdStartsCreateOnePartitionKey(t *testing.T) {
	raw, err := core.GenerateRootKey()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"KMS_ROOT_KEY":         base64.StdEncoding.EncodeToString(raw),
		"KMS_STORE":            storetest.PostgresDatabase(t, "kms_bootstrap_"),
		"KMS_DATA_DIR":         t.TempDir(),
		"KMS_PARTITION_KEY_ID": "alias/partitions",
	}
	const instances = 8
	svcs := make([]*config.Service, instances)
	for i := range svcs {
		svcs[i] = wireOn(t, env)
	}
	var wg sync.WaitGroup
	errs := make([]error, instances)
	for i, svc := range svcs {
		wg.Go(func() { errs[i] = provision.EnsurePartitionKey(context.Background(), svc) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	ctx := context.Background()
	store := svcs[0].KMS.Store()
	a, err := store.GetAlias(ctx, "alias/partitions")
	if err != nil {
		t.Fatalf("no alias/partitions after start-up: %v", err)
	}
	keys, total, err := store.ListKeys(ctx, time.Time{}, core.Page{})
	if err != nil || total != 1 || keys[0].ID != a.KeyID {
		t.Fatalf("the racing cold starts left %d keys (%v); want only the alias's %s", total, err, a.KeyID)
	}

	// The first event finds the key, on every instance.
	for i, svc := range svcs {
		p, created, err := svc.KMS.ProvisionPartition(ctx, provision.Caller(svc.KMS, svc.Settings.PartitionKeys),
			core.PartitionRequest{PartitionID: "first", KeyID: "alias/partitions"})
		if err != nil || p.KeyID != a.KeyID || created != (i == 0) {
			t.Fatalf("instance %d: first event: %+v created=%v %v", i, p, created, err)
		}
	}

	// A later start-up changes nothing.
	if err := provision.EnsurePartitionKey(ctx, wireOn(t, env)); err != nil {
		t.Fatal(err)
	}
	if again, err := store.GetAlias(ctx, "alias/partitions"); err != nil || again.KeyID != a.KeyID {
		t.Fatalf("a second start-up re-pointed the alias: %+v %v", again, err)
	}
}

func TestPartitionKeyGivenByIDIsNotCreated(t *testing.T) {
	raw, err := core.GenerateRootKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	svc := wireOn(t, map[string]string{
		"KMS_ROOT_KEY":         base64.StdEncoding.EncodeToString(raw),
		"KMS_DATA_DIR":         dir,
		"KMS_PARTITION_KEY_ID": "key-0123456789abcdefghijklmn",
	})
	if err := provision.EnsurePartitionKey(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	if _, total, err := svc.KMS.Store().ListKeys(context.Background(), time.Time{}, core.Page{}); err != nil || total != 0 {
		t.Fatalf("a key ID made start-up create %d keys (%v)", total, err)
	}
}

func TestPartitionKeyGivenByAWSAliasARNIsCreated(t *testing.T) {
	raw, err := core.GenerateRootKey()
	if err != nil {
		t.Fatal(err)
	}
	svc := wireOn(t, map[string]string{
		"KMS_ROOT_KEY":         base64.StdEncoding.EncodeToString(raw),
		"KMS_DATA_DIR":         t.TempDir(),
		"KMS_PARTITION_KEY_ID": "arn:aws:kms:cn-hangzhou:000000000000:alias/partitions",
	})
	if err := provision.EnsurePartitionKey(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.KMS.Store().GetAlias(context.Background(), "alias/partitions"); err != nil {
		t.Fatalf("alias/partitions, named by its AWS ARN, was not created: %v", err)
	}
}
