package core_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"sync"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

// partitionFixture is a service on a real embedded store with one CMK behind
// alias/partitions and the three principals of the seed scenario.
type partitionFixture struct {
	svc         *core.Service
	store       storetest.Store
	keyID       string
	admin       *core.Principal
	provisioner *core.Principal
	producer    *core.Principal
}

func partitionPolicy(actions []string, resources ...string) *core.Policy {
	return core.MustPolicy(core.Statement{Effect: "Allow", Action: actions, Resource: resources})
}

func newPartitionFixture(t *testing.T, limiter core.Limiter) *partitionFixture {
	t.Helper()
	svc, store := memService(t, core.Config{Limiter: limiter})
	f := &partitionFixture{
		svc: svc, store: store,
		admin: &core.Principal{Name: "admin", AccessKeyID: "admin", Policy: core.FullAccess()},
		provisioner: &core.Principal{Name: "partition-provisioner", AccessKeyID: "prov",
			Policy: partitionPolicy([]string{"kms:GenerateDataKeyWithoutPlaintext"}, "acs:kms:*:*:key/*", "acs:kms:*:*:alias/*")},
		producer: &core.Principal{Name: "producer", AccessKeyID: "prod",
			Policy: partitionPolicy([]string{"kms:GetPartitionDataKey", "kms:Decrypt"}, "*")},
	}
	resp := f.call(t, f.admin, "CreateKey", nil)
	f.keyID = resp.(*alibaba.KeyMetadataResponse).KeyMetadata.KeyId
	f.call(t, f.admin, "CreateAlias", core.Params{"AliasName": "alias/partitions", "KeyId": f.keyID})
	return f
}

func (f *partitionFixture) handle(p *core.Principal, action string, params core.Params) (any, error) {
	return respond(f.svc)(f.svc.Handle(context.Background(), &core.Request{ID: "req", Action: action, Params: params, Caller: p}))
}

func (f *partitionFixture) call(t *testing.T, p *core.Principal, action string, params core.Params) any {
	t.Helper()
	resp, err := f.handle(p, action, params)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return resp
}

func wantPartitionErr(t *testing.T, err error, code string) {
	t.Helper()
	var ke *core.Error
	if !errors.As(err, &ke) || ke.Code != code {
		t.Fatalf("got error %v, want code %s", err, code)
	}
}

func partitionCtxJSON(t *testing.T, m map[string]string) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestProvisionPartitionMintsOneKeyUnderConcurrentDuplicateDeliveries(t *testing.T) {
	f := newPartitionFixture(t, nil)
	const deliveries = 64
	type outcome struct {
		p       core.Partition
		created bool
		err     error
	}
	out := make([]outcome, deliveries)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range deliveries {
		wg.Go(func() {
			<-start
			p, created, err := f.svc.ProvisionPartition(context.Background(), f.provisioner,
				core.PartitionRequest{PartitionID: "p-0001", KeyID: "alias/partitions"})
			out[i] = outcome{p, created, err}
		})
	}
	close(start)
	wg.Wait()

	stored, err := f.store.GetPartition(context.Background(), "p-0001")
	if err != nil {
		t.Fatal(err)
	}
	created := 0
	for i, o := range out {
		if o.err != nil {
			t.Fatalf("delivery %d: %v", i, o.err)
		}
		if o.created {
			created++
		}
		if string(o.p.CiphertextBlob) != string(stored.CiphertextBlob) || o.p.KeyVersionID != stored.KeyVersionID {
			t.Fatalf("delivery %d returned a ciphertext other than the stored one", i)
		}
	}
	if created != 1 {
		t.Fatalf("%d deliveries report creating the record, want exactly 1", created)
	}
	if stored.KeyID != f.keyID {
		t.Fatalf("record names key %q, want the alias's key %q", stored.KeyID, f.keyID)
	}
	resp := f.call(t, f.producer, "GetPartitionDataKey", core.Params{"PartitionId": "p-0001"}).(*alibaba.PartitionDataKeyResponse)
	if resp.CiphertextBlob != base64.StdEncoding.EncodeToString(stored.CiphertextBlob) {
		t.Fatal("GetPartitionDataKey returned a ciphertext other than the stored one")
	}
}

func TestPartitionRedeliveryReturnsRecordWithoutMintingEvenAfterKeyDisabled(t *testing.T) {
	f := newPartitionFixture(t, nil)
	ctx := context.Background()
	req := core.PartitionRequest{PartitionID: "tenant-7.p-1.a_b", KeyID: "alias/partitions"}
	first, created, err := f.svc.ProvisionPartition(ctx, f.provisioner, req)
	if err != nil || !created {
		t.Fatalf("first delivery: created=%v err=%v", created, err)
	}
	f.call(t, f.admin, "DisableKey", core.Params{"KeyId": f.keyID})
	again, created, err := f.svc.ProvisionPartition(ctx, f.provisioner, req)
	if err != nil || created {
		t.Fatalf("redelivery: created=%v err=%v, want the existing record", created, err)
	}
	if string(again.CiphertextBlob) != string(first.CiphertextBlob) {
		t.Fatal("redelivery returned a different ciphertext")
	}
	_, _, err = f.svc.ProvisionPartition(ctx, f.provisioner, core.PartitionRequest{PartitionID: "p-new", KeyID: "alias/partitions"})
	wantPartitionErr(t, err, core.CodeDisabled)
	if _, err := f.store.GetPartition(ctx, "p-new"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("a refused partition left a record: %v", err)
	}
}

func TestPartitionCiphertextMovedToAnotherPartitionFailsToDecrypt(t *testing.T) {
	f := newPartitionFixture(t, nil)
	ctx := context.Background()
	a, _, err := f.svc.ProvisionPartition(ctx, f.provisioner, core.PartitionRequest{PartitionID: "p-a", KeyID: "alias/partitions",
		EncryptionContext: core.EncryptionContext{"Tenant": "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := f.svc.ProvisionPartition(ctx, f.provisioner, core.PartitionRequest{PartitionID: "p-b", KeyID: f.keyID,
		EncryptionContext: core.EncryptionContext{"Tenant": "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"PartitionId": "p-a", "Tenant": "t1"}; partitionCtxJSON(t, a.EncryptionContext) != partitionCtxJSON(t, want) {
		t.Fatalf("record context %v, want %v", a.EncryptionContext, want)
	}
	blobA := base64.StdEncoding.EncodeToString(a.CiphertextBlob)
	// A's ciphertext presented as B's record: the consumer decrypts with B's context.
	_, err = f.handle(f.producer, "Decrypt", core.Params{"CiphertextBlob": blobA, "EncryptionContext": partitionCtxJSON(t, b.EncryptionContext)})
	wantPartitionErr(t, err, core.CodeInvalidCiphertext)

	resp := f.call(t, f.producer, "Decrypt", core.Params{"CiphertextBlob": blobA, "EncryptionContext": partitionCtxJSON(t, a.EncryptionContext)}).(*alibaba.DecryptResponse)
	key, err := base64.StdEncoding.DecodeString(resp.Plaintext)
	if err != nil || len(key) != 32 {
		t.Fatalf("decrypted data key is %d bytes (%v), want 32", len(key), err)
	}
	clear(key)
}

func TestProvisionPartitionRefusesPartitionIdOverride(t *testing.T) {
	f := newPartitionFixture(t, nil)
	ctx := context.Background()
	_, _, err := f.svc.ProvisionPartition(ctx, f.provisioner, core.PartitionRequest{PartitionID: "p-1", KeyID: "alias/partitions",
		EncryptionContext: core.EncryptionContext{"PartitionId": "p-2"}})
	wantPartitionErr(t, err, core.CodeInvalidParameter)
	if _, err := f.store.GetPartition(ctx, "p-1"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("a refused request left a record: %v", err)
	}
	// Repeating the partition's own ID is no override.
	p, created, err := f.svc.ProvisionPartition(ctx, f.provisioner, core.PartitionRequest{PartitionID: "p-1", KeyID: "alias/partitions",
		EncryptionContext: core.EncryptionContext{"PartitionId": "p-1"}})
	if err != nil || !created || p.EncryptionContext["PartitionId"] != "p-1" {
		t.Fatalf("created=%v err=%v context=%v", created, err, p.EncryptionContext)
	}
}

func TestProvisionPartitionRejectsBadRequestsWithoutWriting(t *testing.T) {
	f := newPartitionFixture(t, nil)
	long := make([]byte, core.MaxPartitionIDLen+1)
	for i := range long {
		long[i] = 'a'
	}
	huge := make([]byte, core.MaxEncryptionContextLen)
	for i := range huge {
		huge[i] = 'x'
	}
	cases := []struct {
		name string
		req  core.PartitionRequest
		code string
	}{
		{"missing PartitionId", core.PartitionRequest{KeyID: "alias/partitions"}, core.CodeMissingParameter},
		{"PartitionId with a wildcard", core.PartitionRequest{PartitionID: "p-*", KeyID: "alias/partitions"}, core.CodeInvalidParameter},
		{"PartitionId with a space", core.PartitionRequest{PartitionID: "p 1", KeyID: "alias/partitions"}, core.CodeInvalidParameter},
		{"PartitionId too long", core.PartitionRequest{PartitionID: string(long), KeyID: "alias/partitions"}, core.CodeInvalidParameter},
		{"missing KeyId", core.PartitionRequest{PartitionID: "p-1"}, core.CodeMissingParameter},
		{"unknown alias", core.PartitionRequest{PartitionID: "p-1", KeyID: "alias/nope"}, core.CodeAliasNotFound},
		{"unknown key", core.PartitionRequest{PartitionID: "p-1", KeyID: "key-nope"}, core.CodeKeyNotFound},
		{"context too long once merged", core.PartitionRequest{PartitionID: "p-1", KeyID: "alias/partitions",
			EncryptionContext: core.EncryptionContext{"k": string(huge[:core.MaxEncryptionContextLen-20])}}, core.CodeInvalidParameter},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.svc.ProvisionPartition(context.Background(), f.provisioner, tc.req)
			wantPartitionErr(t, err, tc.code)
		})
	}
	if _, err := f.store.GetPartition(context.Background(), "p-1"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("a refused request left a record: %v", err)
	}
}

func TestPartitionTrustSplit(t *testing.T) {
	f := newPartitionFixture(t, nil)
	ctx := context.Background()
	p, _, err := f.svc.ProvisionPartition(ctx, f.provisioner, core.PartitionRequest{PartitionID: "p-1", KeyID: "alias/partitions"})
	if err != nil {
		t.Fatal(err)
	}
	blob := base64.StdEncoding.EncodeToString(p.CiphertextBlob)

	t.Run("provisioner is refused Decrypt", func(t *testing.T) {
		_, err := f.handle(f.provisioner, "Decrypt", core.Params{"CiphertextBlob": blob, "EncryptionContext": `{"PartitionId":"p-1"}`})
		wantPartitionErr(t, err, core.CodeNoPermission)
	})
	t.Run("provisioner is refused GetPartitionDataKey", func(t *testing.T) {
		_, err := f.handle(f.provisioner, "GetPartitionDataKey", core.Params{"PartitionId": "p-1"})
		wantPartitionErr(t, err, core.CodeNoPermission)
	})
	t.Run("producer is refused provisioning and nothing is minted", func(t *testing.T) {
		_, _, err := f.svc.ProvisionPartition(ctx, f.producer, core.PartitionRequest{PartitionID: "p-2", KeyID: "alias/partitions"})
		wantPartitionErr(t, err, core.CodeNoPermission)
		if _, err := f.store.GetPartition(ctx, "p-2"); !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("a refused caller left a record: %v", err)
		}
	})
	t.Run("provisioner limited to another key is refused", func(t *testing.T) {
		other := &core.Principal{Name: "other", AccessKeyID: "other",
			Policy: partitionPolicy([]string{"kms:GenerateDataKeyWithoutPlaintext"}, "acs:kms:*:*:key/key-someone-else")}
		_, _, err := f.svc.ProvisionPartition(ctx, other, core.PartitionRequest{PartitionID: "p-3", KeyID: f.keyID})
		wantPartitionErr(t, err, core.CodeNoPermission)
	})
	t.Run("GetPartitionDataKey is scoped to the partition resource", func(t *testing.T) {
		scoped := &core.Principal{Name: "scoped", AccessKeyID: "scoped",
			Policy: partitionPolicy([]string{"kms:GetPartitionDataKey"}, "acs:kms:*:*:partition/tenant-a.*")}
		_, err := f.handle(scoped, "GetPartitionDataKey", core.Params{"PartitionId": "p-1"})
		wantPartitionErr(t, err, core.CodeNoPermission)
	})
}

func TestGetPartitionDataKeyUnknownPartitionIsNotFound(t *testing.T) {
	f := newPartitionFixture(t, nil)
	_, err := f.handle(f.producer, "GetPartitionDataKey", core.Params{"PartitionId": "p-missing"})
	wantPartitionErr(t, err, core.CodePartitionNotFound)
	if got := alibaba.Status(core.CodePartitionNotFound); got != 404 {
		t.Fatalf("status %d, want 404", got)
	}
	_, err = f.handle(f.producer, "GetPartitionDataKey", nil)
	wantPartitionErr(t, err, core.CodeMissingParameter)
	_, err = f.handle(f.producer, "GetPartitionDataKey", core.Params{"PartitionId": "p?"})
	wantPartitionErr(t, err, core.CodeInvalidParameter)
}

func TestProvisionPartitionCountsAgainstCallerQPS(t *testing.T) {
	f := newPartitionFixture(t, inproc.NewLimiter())
	slow := *f.provisioner
	slow.QPS, slow.Burst = 1, 1
	ctx := context.Background()
	if _, _, err := f.svc.ProvisionPartition(ctx, &slow, core.PartitionRequest{PartitionID: "p-1", KeyID: "alias/partitions"}); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.svc.ProvisionPartition(ctx, &slow, core.PartitionRequest{PartitionID: "p-2", KeyID: "alias/partitions"})
	wantPartitionErr(t, err, core.CodeThrottling)
	var ke *core.Error
	if errors.As(err, &ke) && ke.RetryAfter <= 0 {
		t.Fatalf("Throttling carries no RetryAfter")
	}
}

func TestPartitionDataKeyResponseEncodesAsJSONObjectAndXMLText(t *testing.T) {
	f := newPartitionFixture(t, nil)
	if _, _, err := f.svc.ProvisionPartition(context.Background(), f.provisioner, core.PartitionRequest{PartitionID: "p-1", KeyID: "alias/partitions",
		EncryptionContext: core.EncryptionContext{"a<b": "c"}}); err != nil {
		t.Fatal(err)
	}
	resp := f.call(t, f.producer, "GetPartitionDataKey", core.Params{"PartitionId": "p-1"})
	j, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var back struct{ EncryptionContext map[string]string }
	if err := json.Unmarshal(j, &back); err != nil || back.EncryptionContext["PartitionId"] != "p-1" || back.EncryptionContext["a<b"] != "c" {
		t.Fatalf("JSON context %s (%v)", j, err)
	}
	x, err := xml.Marshal(resp)
	if err != nil {
		t.Fatalf("XML encoding failed: %v", err)
	}
	var xback struct{ EncryptionContext string }
	if err := xml.Unmarshal(x, &xback); err != nil {
		t.Fatal(err)
	}
	var ctx map[string]string
	if err := json.Unmarshal([]byte(xback.EncryptionContext), &ctx); err != nil || ctx["PartitionId"] != "p-1" {
		t.Fatalf("XML context %q (%v)", xback.EncryptionContext, err)
	}
}

// A provisioner's policy may scope the partitions it mints for by their
// context, as a consumer's may: ProvisionPartition sees the partition's.
func TestProvisionerScopedByPartitionContext(t *testing.T) {
	f := newPartitionFixture(t, nil)
	scoped := &core.Principal{Name: "tenant-a-provisioner", AccessKeyID: "prov-a", Policy: core.MustPolicy(core.Statement{
		Effect: "Allow", Action: []string{"kms:GenerateDataKeyWithoutPlaintext"}, Resource: []string{"*"},
		Condition: []core.Condition{{Operator: "StringLike", Key: "kms:EncryptionContext:PartitionId", Values: []string{"tenant-a-*"}}},
	})}
	ctx := context.Background()
	if _, _, err := f.svc.ProvisionPartition(ctx, scoped, core.PartitionRequest{PartitionID: "tenant-a-1", KeyID: "alias/partitions"}); err != nil {
		t.Fatalf("tenant A's partition: %v", err)
	}
	_, _, err := f.svc.ProvisionPartition(ctx, scoped, core.PartitionRequest{PartitionID: "tenant-b-1", KeyID: "alias/partitions"})
	if ke := core.AsError(err); ke == nil || ke.Code != core.CodeNoPermission {
		t.Fatalf("tenant B's partition: %v", err)
	}
	if _, err := f.store.GetPartition(ctx, "tenant-b-1"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("a refused partition was stored: %v", err)
	}
}
