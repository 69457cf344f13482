package core_test

import (
	"context"
	"encoding/base64"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/memory"
)

// usageStore is the in-memory store, counting the uses recorded through it
// and failing them while fail is set.
type usageStore struct {
	*memory.Store
	records atomic.Int64
	fail    atomic.Bool
}

func (u *usageStore) RecordKeyUsage(ctx context.Context, id string, use core.KeyUsage) error {
	u.records.Add(1)
	if u.fail.Load() {
		return core.ErrUnavailable
	}
	return u.Store.RecordKeyUsage(ctx, id, use)
}

type usageFixture struct {
	t     *testing.T
	store *usageStore
	clock *stepClock
	svc   *core.Service
	admin *core.Principal
	n     int
	// lost are the uses UseLost heard of.
	lost []struct {
		key string
		err error
	}
}

func newUsageFixture(t *testing.T) *usageFixture {
	f := &usageFixture{t: t, store: &usageStore{Store: memory.New()},
		clock: &stepClock{now: time.Now().UTC().Add(time.Hour).Truncate(time.Millisecond).Add(123 * time.Microsecond)},
		admin: &core.Principal{Name: "admin", AccessKeyID: "LTAIadmin", Secret: core.NewSecret("s"), Policy: core.FullAccess()}}
	var err error
	f.svc, err = core.New(core.Config{Store: f.store, Partitions: f.store, Usage: f.store, Root: randomRoot(t), Clock: f.clock, Region: "cn-hangzhou", AccountID: "1234567890123456",
		UseLost: func(_ context.Context, key string, err error) {
			f.lost = append(f.lost, struct {
				key string
				err error
			}{key, err})
		}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// do runs action as caller under a request ID of its own, which it returns.
func (f *usageFixture) do(caller *core.Principal, action string, p core.Params) (string, any, error) {
	f.n++
	id := "req-" + string(rune('a'+f.n))
	out, err := f.svc.Handle(context.Background(), &core.Request{ID: id, Action: action, Params: p, Caller: caller})
	return id, out, err
}

func (f *usageFixture) ok(action string, p core.Params) (string, any) {
	f.t.Helper()
	id, out, err := f.do(f.admin, action, p)
	if err != nil {
		f.t.Fatalf("%s: %v", action, err)
	}
	return id, out
}

func (f *usageFixture) lastUsage(keyID string) core.KeyLastUsage {
	f.t.Helper()
	_, out := f.ok("GetKeyLastUsage", core.Params{"KeyId": keyID})
	return out.(core.KeyLastUsage)
}

// wantUse asserts key's last use is action in request id at the fixture's
// clock as it was then (at).
func (f *usageFixture) wantUse(keyID, action, id string, at time.Time) {
	f.t.Helper()
	got := f.lastUsage(keyID).Usage
	want := core.KeyUsage{Action: action, At: at.Truncate(time.Millisecond), RequestID: id}
	if got != want {
		f.t.Fatalf("last use of %s: got %+v, want %+v", keyID, got, want)
	}
}

func TestKeyLastUsageRecordsTheFirstUseInEachMinute(t *testing.T) {
	f := newUsageFixture(t)
	_, out := f.ok("CreateKey", nil)
	key := out.(core.Key)

	u := f.lastUsage(key.ID)
	if u.KeyID != key.ID || !u.KeyCreated.Equal(key.CreatedAt) || u.Usage != (core.KeyUsage{}) {
		t.Fatalf("a new key: %+v", u)
	}
	if u.TrackingStart.Before(u.KeyCreated) {
		t.Fatalf("tracking starts %v, before the key was made (%v)", u.TrackingStart, u.KeyCreated)
	}

	// Reading a key's metadata is no use of it.
	f.ok("DescribeKey", core.Params{"KeyId": key.ID})
	if f.store.records.Load() != 0 {
		t.Fatal("DescribeKey recorded a use")
	}

	first := f.clock.Now()
	encID, out := f.ok("Encrypt", core.Params{"KeyId": key.ID, "Plaintext": "aGVsbG8="})
	blob := base64.StdEncoding.EncodeToString(out.(core.Sealed).Blob)
	f.wantUse(key.ID, "Encrypt", encID, first)

	// Within the minute, more uses cost no write and move nothing.
	f.clock.Advance(59 * time.Second)
	for range 5 {
		f.ok("Decrypt", core.Params{"CiphertextBlob": blob})
	}
	if n := f.store.records.Load(); n != 1 {
		t.Fatalf("%d uses recorded in one minute, want 1", n)
	}
	f.wantUse(key.ID, "Encrypt", encID, first)

	// The first use in the next minute is recorded.
	f.clock.Advance(2 * time.Second)
	decID, _ := f.ok("Decrypt", core.Params{"CiphertextBlob": blob})
	f.wantUse(key.ID, "Decrypt", decID, f.clock.Now())
	at := f.clock.Now()

	// A dry run, a refused request and a failed one use nothing.
	f.clock.Advance(time.Minute)
	if _, _, err := f.do(f.admin, "Encrypt", core.Params{"KeyId": key.ID, "Plaintext": "aGVsbG8=", "DryRun": "true"}); core.AsError(err).Code != core.CodeDryRunOperation {
		t.Fatalf("dry run: %v", err)
	}
	reader := &core.Principal{Name: "reader", AccessKeyID: "LTAIreader", Secret: core.NewSecret("s"),
		Policy: core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:DescribeKey"}, Resource: []string{"*"}})}
	if _, _, err := f.do(reader, "Encrypt", core.Params{"KeyId": key.ID, "Plaintext": "aGVsbG8="}); core.AsError(err).Code != core.CodeNoPermission {
		t.Fatalf("refused: %v", err)
	}
	if _, _, err := f.do(f.admin, "Decrypt", core.Params{"CiphertextBlob": blob, "EncryptionContext": `{"a":"b"}`}); err == nil {
		t.Fatal("a blob opened under another context")
	}
	f.wantUse(key.ID, "Decrypt", decID, at)

	// Nor may a caller who is not allowed it read a key's last use.
	if _, _, err := f.do(reader, "GetKeyLastUsage", core.Params{"KeyId": key.ID}); core.AsError(err).Code != core.CodeNoPermission {
		t.Fatalf("GetKeyLastUsage without kms:GetKeyLastUsage: %v", err)
	}
	if _, _, err := f.do(f.admin, "GetKeyLastUsage", core.Params{"KeyId": "00000000-0000-4000-8000-000000000000"}); core.AsError(err).Code != core.CodeKeyNotFound {
		t.Fatalf("GetKeyLastUsage of no key: %v", err)
	}
}

func TestKeyLastUsageOfReEncryptNamesBothKeys(t *testing.T) {
	f := newUsageFixture(t)
	_, a := f.ok("CreateKey", nil)
	_, b := f.ok("CreateKey", nil)
	src, dst := a.(core.Key).ID, b.(core.Key).ID
	_, out := f.ok("GenerateDataKeyWithoutPlaintext", core.Params{"KeyId": src})
	f.clock.Advance(time.Minute)
	id, _ := f.ok("ReEncrypt", core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(out.(core.Sealed).Blob), "DestinationKeyId": dst})
	f.wantUse(src, "ReEncrypt", id, f.clock.Now())
	f.wantUse(dst, "ReEncrypt", id, f.clock.Now())
}

func TestKeyLastUsageOfProvisioningNamesTheEvent(t *testing.T) {
	f := newUsageFixture(t)
	_, out := f.ok("CreateKey", nil)
	key := out.(core.Key).ID
	req := core.PartitionRequest{PartitionID: "p-1", KeyID: key, RequestID: "event-1"}
	if _, created, err := f.svc.ProvisionPartition(context.Background(), f.admin, req); err != nil || !created {
		t.Fatalf("provision: %v %v", created, err)
	}
	at := f.clock.Now()
	f.wantUse(key, "GenerateDataKeyWithoutPlaintext", "event-1", at)

	// A redelivery mints nothing, and uses nothing.
	f.clock.Advance(time.Minute)
	req.RequestID = "event-2"
	if _, created, err := f.svc.ProvisionPartition(context.Background(), f.admin, req); err != nil || created {
		t.Fatalf("redelivery: %v %v", created, err)
	}
	f.wantUse(key, "GenerateDataKeyWithoutPlaintext", "event-1", at)
}

// A use the store fails to record fails no request, is told to UseLost
// with its key and the store's error, and is not tried again within the
// minute.
func TestKeyLastUsageFailingStoreFailsNoRequest(t *testing.T) {
	f := newUsageFixture(t)
	_, out := f.ok("CreateKey", nil)
	key := out.(core.Key).ID
	f.store.fail.Store(true)
	for range 3 {
		f.ok("GenerateDataKeyWithoutPlaintext", core.Params{"KeyId": key})
	}
	if n := f.store.records.Load(); n != 1 {
		t.Fatalf("%d writes tried, want 1", n)
	}
	if len(f.lost) != 1 || f.lost[0].key != key || !errors.Is(f.lost[0].err, core.ErrUnavailable) {
		t.Fatalf("UseLost heard %+v, want one loss of %s", f.lost, key)
	}
	f.store.fail.Store(false)
	f.clock.Advance(time.Minute)
	id, _ := f.ok("GenerateDataKeyWithoutPlaintext", core.Params{"KeyId": key})
	f.wantUse(key, "GenerateDataKeyWithoutPlaintext", id, f.clock.Now())
}

func TestKeyLastUsageWithoutAStoreIsRefused(t *testing.T) {
	svc, err := core.New(core.Config{Store: memory.New(), Root: randomRoot(t)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := do(t, svc, "CreateKey", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = do(t, svc, "GetKeyLastUsage", core.Params{"KeyId": out.(core.Key).ID})
	if ke := core.AsError(err); ke == nil || ke.Code != core.CodeInvalidParameter {
		t.Fatalf("got %v", err)
	}
}
