package core_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/store/memory"
)

var background = context.Background()

// stepClock is a core.Clock that moves only when told.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// countingStore is the in-memory store, counting the writes made through it.
type countingStore struct {
	*memory.Store
	writes atomic.Int64
	// mostSecrets is the most secrets one listing has returned.
	mostSecrets atomic.Int64
	// aliasesDown fails every listing of aliases; aliasListings counts
	// them.
	aliasesDown   atomic.Bool
	aliasListings atomic.Int64
}

var errAliasesDown = fmt.Errorf("the store is down: %w", core.ErrUnavailable)

func (c *countingStore) ListAliases(ctx context.Context, keyID string, asOf time.Time, p core.Page) ([]core.Alias, int, error) {
	c.aliasListings.Add(1)
	if c.aliasesDown.Load() {
		return nil, 0, errAliasesDown
	}
	return c.Store.ListAliases(ctx, keyID, asOf, p)
}

func (c *countingStore) listedSecrets(n int) {
	for {
		most := c.mostSecrets.Load()
		if int64(n) <= most || c.mostSecrets.CompareAndSwap(most, int64(n)) {
			return
		}
	}
}

func (c *countingStore) ListSecrets(ctx context.Context, asOf time.Time, p core.Page) ([]core.GenericSecret, int, error) {
	secs, total, err := c.Store.ListSecrets(ctx, asOf, p)
	c.listedSecrets(len(secs))
	return secs, total, err
}

func (c *countingStore) ListSecretsAfter(ctx context.Context, after string, limit int) ([]core.GenericSecret, error) {
	secs, err := c.Store.ListSecretsAfter(ctx, after, limit)
	c.listedSecrets(len(secs))
	return secs, err
}

func (c *countingStore) CreateKey(ctx context.Context, k core.Key, v core.KeyVersion, more ...core.KeyVersion) error {
	c.writes.Add(1)
	return c.Store.CreateKey(ctx, k, v, more...)
}

func (c *countingStore) UpdateKey(ctx context.Context, k core.Key) error {
	c.writes.Add(1)
	return c.Store.UpdateKey(ctx, k)
}

func (c *countingStore) AddVersion(ctx context.Context, k core.Key, v core.KeyVersion) error {
	c.writes.Add(1)
	return c.Store.AddVersion(ctx, k, v)
}

func (c *countingStore) DeleteKey(ctx context.Context, id string, revision int64) error {
	c.writes.Add(1)
	return c.Store.DeleteKey(ctx, id, revision)
}

func (c *countingStore) CreateAlias(ctx context.Context, a core.Alias) error {
	c.writes.Add(1)
	return c.Store.CreateAlias(ctx, a)
}

func (c *countingStore) UpdateAlias(ctx context.Context, a core.Alias) error {
	c.writes.Add(1)
	return c.Store.UpdateAlias(ctx, a)
}

func (c *countingStore) DeleteAlias(ctx context.Context, name string) error {
	c.writes.Add(1)
	return c.Store.DeleteAlias(ctx, name)
}

func (c *countingStore) CreatePartition(ctx context.Context, p core.Partition) (core.Partition, bool, error) {
	c.writes.Add(1)
	return c.Store.CreatePartition(ctx, p)
}

// countingRand is crypto/rand, counting the bytes drawn: a request that
// mints nothing draws none.
type countingRand struct{ n atomic.Int64 }

func (r *countingRand) Read(p []byte) (int, error) {
	n, err := rand.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// svcFixture is a core.Service on an in-memory store, with a fake clock and a
// full-access caller.
type svcFixture struct {
	t     testing.TB
	root  []byte
	store *countingStore
	rand  *countingRand
	clock *stepClock
	svc   *core.Service
	admin *core.Principal
	// destroyed is what the service reported destroyed past its deletion
	// date (Config.Destroyed), in order.
	destroyedMu sync.Mutex
	destroyed   []core.Destruction
}

func (f *svcFixture) destructions() []core.Destruction {
	f.destroyedMu.Lock()
	defer f.destroyedMu.Unlock()
	return slices.Clone(f.destroyed)
}

func newSvcFixture(t testing.TB) *svcFixture {
	root := make([]byte, 32)
	_, _ = rand.Read(root)
	f := &svcFixture{
		root:  root,
		store: &countingStore{Store: memory.New()},
		rand:  &countingRand{},
		clock: &stepClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		admin: &core.Principal{Name: "admin", AccessKeyID: "LTAIadmin", Secret: core.NewSecret("s"), Policy: core.FullAccess()},
		t:     t,
	}
	f.open(t, root)
	return f
}

// open makes a service over the fixture's store with the given root key.
func (f *svcFixture) open(t testing.TB, root []byte) {
	rk, err := core.NewRootKey(root)
	if err != nil {
		t.Fatal(err)
	}
	f.svc, err = core.New(core.Config{Store: f.store, Partitions: f.store, Secrets: f.store, Grants: f.store, Certificates: f.store, Usage: f.store, Access: f.store, Root: rk, Clock: f.clock, Rand: f.rand, Region: "cn-hangzhou", AccountID: "1234567890123456",
		Destroyed: func(_ context.Context, d core.Destruction) {
			f.destroyedMu.Lock()
			defer f.destroyedMu.Unlock()
			f.destroyed = append(f.destroyed, d)
		}})
	if err != nil {
		t.Fatal(err)
	}
}

// restart replaces the service with a new instance, under root, over the same
// store: nothing carries over but what the store holds.
func (f *svcFixture) restart(root []byte) {
	f.t.Helper()
	f.open(f.t, root)
}

// storeSecrets writes n secrets, named s0000 onwards, straight into the
// store, each with no version (enough for listings), as shape sets it.
func (f *svcFixture) storeSecrets(n int, shape func(i int, sec *core.GenericSecret)) {
	f.t.Helper()
	now := f.clock.Now()
	for i := range n {
		sec := core.GenericSecret{Name: fmt.Sprintf("s%04d", i), KeyID: "key", CreatedAt: now, UpdatedAt: now, Stages: map[string]string{}, Revision: 1}
		shape(i, &sec)
		if err := f.store.CreateSecret(context.Background(), sec); err != nil {
			f.t.Fatal(err)
		}
	}
}

func svcParams(kv ...string) core.Params {
	p := core.Params{}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	return p
}

// call runs an action as the admin and returns its Alibaba response object, so
// tests read results as callers see them.
func (f *svcFixture) call(action string, kv ...string) (any, error) {
	return respond(f.svc)(f.svc.Handle(background, &core.Request{ID: "REQ", Action: action, Params: svcParams(kv...), Caller: f.admin}))
}

// respond renders a result as its Alibaba response object.
func respond(svc *core.Service) func(any, error) (any, error) {
	return func(result any, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return alibaba.Response(svc, "REQ", result)
	}
}

func (f *svcFixture) ok(action string, kv ...string) any {
	f.t.Helper()
	r, err := f.call(action, kv...)
	if err != nil {
		f.t.Fatalf("%s: %v", action, err)
	}
	return r
}

func (f *svcFixture) createKey(kv ...string) string {
	f.t.Helper()
	return f.ok("CreateKey", kv...).(*alibaba.KeyMetadataResponse).KeyMetadata.KeyId
}

func (f *svcFixture) describe(id string) alibaba.KeyMetadata {
	f.t.Helper()
	return f.ok("DescribeKey", "KeyId", id).(*alibaba.KeyMetadataResponse).KeyMetadata
}

func (f *svcFixture) versions(id string) []alibaba.KeyVersionEntry {
	f.t.Helper()
	return f.ok("ListKeyVersions", "KeyId", id, "PageSize", "100").(*alibaba.ListKeyVersionsResponse).KeyVersions.KeyVersion
}

// mustCode asserts err is a *core.Error with code.
func mustCode(t testing.TB, err error, code string) *core.Error {
	t.Helper()
	var ke *core.Error
	if !errors.As(err, &ke) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ke.Code != code {
		t.Fatalf("want %s, got %s: %s", code, ke.Code, ke.Message)
	}
	return ke
}

func TestCreateKeyVersionKeepsEveryOlderBlobDecryptable(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	type made struct{ blob, version, plaintext string }
	var blobs []made
	for range 4 {
		r := f.ok("GenerateDataKey", "KeyId", id, "EncryptionContext", `{"tenant":"acme"}`).(*alibaba.DataKeyResponse)
		blobs = append(blobs, made{r.CiphertextBlob, r.KeyVersionId, r.Plaintext})
		nv := f.ok("CreateKeyVersion", "KeyId", id).(*alibaba.KeyVersionResponse).KeyVersion.KeyVersionId
		if nv == r.KeyVersionId {
			t.Fatal("CreateKeyVersion kept the same primary version")
		}
		if got := f.describe(id).PrimaryKeyVersion; got != nv {
			t.Fatalf("primary %s, want the new version %s", got, nv)
		}
	}
	if n := len(f.versions(id)); n != 5 {
		t.Fatalf("%d versions, want 5", n)
	}
	seen := map[string]bool{}
	for _, b := range blobs {
		seen[b.version] = true
		d := f.ok("Decrypt", "CiphertextBlob", b.blob, "EncryptionContext", `{"tenant":"acme"}`).(*alibaba.DecryptResponse)
		if d.Plaintext != b.plaintext || d.KeyVersionId != b.version {
			t.Fatalf("blob of version %s decrypted as version %s", b.version, d.KeyVersionId)
		}
	}
	if len(seen) != 4 {
		t.Fatalf("blobs were made under %d versions, want 4", len(seen))
	}
}

func TestAutomaticRotationHappensWhenDue(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey("EnableAutomaticRotation", "true", "RotationInterval", "7d")
	v1 := f.describe(id).PrimaryKeyVersion
	old := f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id).(*alibaba.CiphertextResponse)

	f.clock.Advance(7*24*time.Hour - time.Second)
	if r := f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id).(*alibaba.CiphertextResponse); r.KeyVersionId != v1 {
		t.Fatalf("rotated a second early: %s", r.KeyVersionId)
	}
	f.clock.Advance(time.Second)
	r := f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id).(*alibaba.CiphertextResponse)
	if r.KeyVersionId == v1 {
		t.Fatal("no rotation when due")
	}
	m := f.describe(id)
	if m.PrimaryKeyVersion != r.KeyVersionId || m.LastRotationDate != "2026-03-08T12:00:00Z" || m.NextRotationDate != "2026-03-15T12:00:00Z" {
		t.Fatalf("after rotation: primary %s, last %s, next %s", m.PrimaryKeyVersion, m.LastRotationDate, m.NextRotationDate)
	}
	if again := f.ok("Encrypt", "KeyId", id, "Plaintext", "aGk=").(*alibaba.CiphertextResponse); again.KeyVersionId != r.KeyVersionId {
		t.Fatalf("rotated again without being due: %s", again.KeyVersionId)
	}
	if n := len(f.versions(id)); n != 2 {
		t.Fatalf("%d versions, want 2", n)
	}
	d := f.ok("Decrypt", "CiphertextBlob", old.CiphertextBlob).(*alibaba.DecryptResponse)
	if d.KeyVersionId != v1 {
		t.Fatalf("old blob decrypted under %s", d.KeyVersionId)
	}
}

func TestDifferentRootKeyCannotOpenStoredKeys(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	blob := f.ok("Encrypt", "KeyId", id, "Plaintext", "cGVyc2lzdGVk").(*alibaba.CiphertextResponse).CiphertextBlob

	other := make([]byte, 32)
	_, _ = rand.Read(other)
	f.restart(other)
	_, err := f.call("Decrypt", "CiphertextBlob", blob)
	ke := mustCode(t, err, core.CodeInternalFailure)
	if strings.Contains(ke.Message, id) {
		t.Errorf("the caller's message describes internals: %s", ke.Message)
	}
	_, err = f.call("GenerateDataKeyWithoutPlaintext", "KeyId", id)
	mustCode(t, err, core.CodeInternalFailure)

	f.restart(f.root)
	if _, err := f.call("Decrypt", "CiphertextBlob", blob); err != nil {
		t.Fatalf("the right root key no longer opens the blob: %v", err)
	}
}

func TestDryRunMintsAndWritesNothing(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey("EnableAutomaticRotation", "true", "RotationInterval", "7d")
	other := f.createKey()
	blob := f.ok("Encrypt", "KeyId", id, "Plaintext", "aGk=").(*alibaba.CiphertextResponse).CiphertextBlob
	f.clock.Advance(30 * 24 * time.Hour) // rotation is due: a real call would rotate
	before := f.versions(id)
	writes, drawn := f.store.writes.Load(), f.rand.n.Load()

	for _, c := range [][]string{
		{"GenerateDataKeyWithoutPlaintext", "KeyId", id},
		{"GenerateDataKey", "KeyId", id, "NumberOfBytes", "64"},
		{"Encrypt", "KeyId", id, "Plaintext", "aGk="},
		{"Decrypt", "CiphertextBlob", blob},
		{"ReEncrypt", "CiphertextBlob", blob, "DestinationKeyId", other},
		{"GenerateDataKeyPair", "KeyId", id, "KeyPairSpec", "RSA_4096"},
		{"GenerateDataKeyPairWithoutPlaintext", "KeyId", id, "KeyPairSpec", "ECC_NIST_P256"},
	} {
		_, err := f.call(c[0], append(c[1:], "DryRun", "true")...)
		mustCode(t, err, core.CodeDryRunOperation)
	}
	if w := f.store.writes.Load() - writes; w != 0 {
		t.Errorf("DryRun made %d store writes", w)
	}
	if n := f.rand.n.Load() - drawn; n != 0 {
		t.Errorf("DryRun drew %d random bytes", n)
	}
	if after := f.versions(id); len(after) != len(before) {
		t.Errorf("DryRun changed the versions: %d → %d", len(before), len(after))
	}
}

func TestDryRunAnswersValidationAndAccessDenied(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	_, err := f.call("GenerateDataKeyWithoutPlaintext", "KeyId", id, "NumberOfBytes", "0", "DryRun", "true")
	mustCode(t, err, core.CodeValidation)
	_, err = f.call("Decrypt", "CiphertextBlob", "AAAA", "DryRun", "true")
	mustCode(t, err, core.CodeValidation)
	_, err = f.call("GenerateDataKeyWithoutPlaintext", "DryRun", "true")
	mustCode(t, err, core.CodeValidation)

	reader := &core.Principal{Name: "reader", AccessKeyID: "LTAIreader", Secret: core.NewSecret("s"),
		Policy: core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{"*"}})}
	_, err = f.svc.Handle(background, &core.Request{Action: "GenerateDataKeyWithoutPlaintext", Params: svcParams("KeyId", id, "DryRun", "true"), Caller: reader})
	mustCode(t, err, core.CodeAccessDenied)
	_, err = f.svc.Handle(background, &core.Request{Action: "GenerateDataKeyWithoutPlaintext", Params: svcParams("KeyId", id), Caller: reader})
	mustCode(t, err, core.CodeNoPermission)
}

func TestScheduledDeletionDestroysKeyOnceWindowPasses(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	f.ok("CreateAlias", "AliasName", "alias/doomed", "KeyId", id)
	blob := f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id).(*alibaba.CiphertextResponse).CiphertextBlob
	f.ok("ScheduleKeyDeletion", "KeyId", id, "PendingWindowInDays", "7")
	if m := f.describe(id); m.KeyState != "PendingDeletion" || m.DeleteDate != "2026-03-08T12:00:00Z" {
		t.Fatalf("scheduled: state %s, DeleteDate %s", m.KeyState, m.DeleteDate)
	}

	f.clock.Advance(7*24*time.Hour - time.Second)
	if m := f.describe(id); m.KeyState != "PendingDeletion" {
		t.Fatalf("a second before the date: %s", m.KeyState)
	}
	f.clock.Advance(time.Second)
	// Past the date the key is gone to every reader, and reading it, DryRun
	// included, writes nothing.
	writes := f.store.writes.Load()
	_, err := f.call("DescribeKey", "KeyId", id)
	mustCode(t, err, core.CodeKeyNotFound)
	_, err = f.call("Decrypt", "CiphertextBlob", blob, "DryRun", "true")
	mustCode(t, err, core.CodeValidation)
	// Its alias went with it.
	_, err = f.call("GenerateDataKey", "KeyId", "alias/doomed", "DryRun", "true")
	mustCode(t, err, core.CodeAliasNotFound)
	if n := f.store.writes.Load() - writes; n != 0 {
		t.Fatalf("reads of an expired key made %d store writes", n)
	}
	// The next change of the key destroys it.
	_, err = f.call("CancelKeyDeletion", "KeyId", id)
	mustCode(t, err, core.CodeKeyNotFound)
	if _, err := f.store.GetKey(background, id); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("the key is still in the store: %v", err)
	}
	if _, err := f.store.GetAlias(background, "alias/doomed"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("the key's alias is still in the store: %v", err)
	}
	if vs, _, err := f.store.ListVersions(background, id, core.Page{Limit: 10}); err == nil && len(vs) > 0 {
		t.Fatalf("%d versions of the key are still in the store", len(vs))
	}
}

// TestParamsEdgeCases runs parameter values at and past their bounds through the
// actions that read them.
func TestParamsEdgeCases(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	cases := []struct {
		action string
		kv     []string
		code   string // "" = success
	}{
		{"GenerateDataKeyWithoutPlaintext", []string{"NumberOfBytes", "1"}, ""},
		{"GenerateDataKeyWithoutPlaintext", []string{"NumberOfBytes", "1024"}, ""},
		{"GenerateDataKeyWithoutPlaintext", []string{"NumberOfBytes", "0"}, core.CodeInvalidParameter},
		{"GenerateDataKeyWithoutPlaintext", []string{"NumberOfBytes", "1025"}, core.CodeInvalidParameter},
		{"GenerateDataKeyWithoutPlaintext", []string{"NumberOfBytes", "32.0"}, core.CodeInvalidParameter},
		{"GenerateDataKeyWithoutPlaintext", []string{"NumberOfBytes", " 32"}, core.CodeInvalidParameter},
		{"GenerateDataKeyWithoutPlaintext", []string{"NumberOfBytes", "0x20"}, core.CodeInvalidParameter},
		{"GenerateDataKeyWithoutPlaintext", []string{"NumberOfBytes", "99999999999999999999"}, core.CodeInvalidParameter},
		{"GenerateDataKeyWithoutPlaintext", []string{"KeySpec", "AES_128"}, ""},
		{"GenerateDataKeyWithoutPlaintext", []string{"KeySpec", "aes_128"}, core.CodeInvalidParameter},
		{"GenerateDataKeyWithoutPlaintext", []string{"DryRun", "TRUE"}, core.CodeDryRunOperation},
		{"GenerateDataKeyWithoutPlaintext", []string{"DryRun", "false"}, ""},
		{"GenerateDataKeyWithoutPlaintext", []string{"DryRun", "1"}, core.CodeInvalidParameter},
		{"GenerateDataKeyWithoutPlaintext", []string{"EncryptionContext", ""}, ""},
		{"GenerateDataKeyWithoutPlaintext", []string{"EncryptionContext", "{}"}, ""},
		{"GenerateDataKeyWithoutPlaintext", []string{"EncryptionContext", "[]"}, core.CodeInvalidParameter},
		{"GenerateDataKeyWithoutPlaintext", []string{"EncryptionContext", `{"a":"1"} {}`}, core.CodeInvalidParameter},
		{"GenerateDataKeyWithoutPlaintext", []string{"EncryptionContext", `{"a":"1","a":"2"}`}, core.CodeInvalidParameter},
		{"GenerateDataKeyWithoutPlaintext", []string{"EncryptionContext", `{"a":null}`}, core.CodeInvalidParameter},
		{"ListKeys", []string{"PageSize", "100"}, ""},
		{"ListKeys", []string{"PageSize", "101"}, core.CodeInvalidParameter},
		{"ListKeys", []string{"PageSize", "0"}, core.CodeInvalidParameter},
		{"ListKeys", []string{"PageNumber", "0"}, core.CodeInvalidParameter},
		{"ListKeys", []string{"PageNumber", "1073741824"}, ""},
		{"ScheduleKeyDeletion", []string{"PendingWindowInDays", "6"}, core.CodeInvalidParameter},
		{"ScheduleKeyDeletion", []string{"PendingWindowInDays", "367"}, core.CodeInvalidParameter},
		{"ScheduleKeyDeletion", []string{}, core.CodeMissingParameter},
		{"UpdateRotationPolicy", []string{"EnableAutomaticRotation", "true", "RotationInterval", "6d"}, core.CodeInvalidParameter},
		{"UpdateRotationPolicy", []string{"EnableAutomaticRotation", "true", "RotationInterval", "731d"}, core.CodeInvalidParameter},
		{"UpdateRotationPolicy", []string{"EnableAutomaticRotation", "true", "RotationInterval", "1w"}, core.CodeInvalidParameter},
		{"UpdateRotationPolicy", []string{"EnableAutomaticRotation", "true", "RotationInterval", "-7d"}, core.CodeInvalidParameter},
		{"UpdateRotationPolicy", []string{"EnableAutomaticRotation", "true", "RotationInterval", "604800s"}, ""},
		{"UpdateRotationPolicy", []string{"EnableAutomaticRotation", "true", "RotationInterval", "99999999999999999999d"}, core.CodeInvalidParameter},
		{"UpdateRotationPolicy", []string{}, core.CodeMissingParameter},
		{"CreateAlias", []string{"AliasName", "alias/"}, core.CodeInvalidParameter},
		{"CreateAlias", []string{"AliasName", "alias/acs/reserved"}, core.CodeInvalidParameter},
		{"CreateAlias", []string{"AliasName", "alias/has space"}, core.CodeInvalidParameter},
		{"CreateAlias", []string{"AliasName", "noprefix"}, core.CodeInvalidParameter},
		{"CreateAlias", []string{"AliasName", "alias/" + strings.Repeat("a", 250)}, core.CodeInvalidParameter},
		{"CreateAlias", []string{"AliasName", "alias/" + strings.Repeat("a", 249)}, ""},
		{"Encrypt", []string{"Plaintext", "not base64!"}, core.CodeInvalidParameter},
		{"Encrypt", []string{}, core.CodeMissingParameter},
		{"Decrypt", []string{"CiphertextBlob", "%%%"}, core.CodeInvalidCiphertext},
	}
	for _, c := range cases {
		kv := c.kv
		if c.action != "ListKeys" && c.action != "Decrypt" {
			kv = append([]string{"KeyId", id}, kv...)
		}
		_, err := f.call(c.action, kv...)
		if c.code == "" {
			if err != nil {
				t.Errorf("%s %q: %v", c.action, c.kv, err)
			}
			continue
		}
		var ke *core.Error
		if !errors.As(err, &ke) || ke.Code != c.code {
			t.Errorf("%s %q: got %v, want %s", c.action, c.kv, err, c.code)
			continue
		}
		if len(c.kv) > 0 && c.code == core.CodeInvalidParameter && !strings.Contains(ke.Message, c.kv[len(c.kv)-2]) {
			t.Errorf("%s %q: message does not name %s: %s", c.action, c.kv, c.kv[len(c.kv)-2], ke.Message)
		}
	}
}

func TestKeyIDForms(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	f.ok("CreateAlias", "AliasName", "alias/forms", "KeyId", id)
	for _, ref := range []string{id, "alias/forms", "acs:kms:cn-hangzhou:1234567890123456:key/" + id, "acs:kms:cn-hangzhou:1234567890123456:alias/forms"} {
		if got := f.describe(ref).KeyId; got != id {
			t.Errorf("%s resolved to %s", ref, got)
		}
	}
	for ref, code := range map[string]string{
		"key/../" + id: core.CodeInvalidParameter,
		"acs:kms:us-west-1:1234567890123456:key/" + id:  core.CodeKeyNotFound,
		"acs:kms:cn-hangzhou:1234567890123456:bucket/x": core.CodeInvalidParameter,
		"key-nosuchkey":  core.CodeKeyNotFound,
		"alias/nosuch":   core.CodeAliasNotFound,
		"alias/bad name": core.CodeInvalidParameter,
	} {
		_, err := f.call("DescribeKey", "KeyId", ref)
		mustCode(t, err, code)
	}
}

// TestRefusalsQuoteABoundedPrefixOfTheInput: a refusal that quotes what the
// caller sent quotes a bounded prefix of it, however long the parameter,
// so that neither the answer nor the audit record that keeps its message
// grows with the input (each quoted byte could be escaped into four), and
// it stays text, cut between characters.
func TestRefusalsQuoteABoundedPrefixOfTheInput(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	long := strings.Repeat("\x01", 30000)
	escaped := strings.Repeat(`\u0001`, 5000) // in JSON, 5,000 bytes of 0x01
	foreign := "acs:kms:us-west-1:1234567890123456:key/" + strings.Repeat("k", 60000)
	for name, c := range map[string]struct {
		action string
		kv     []string
	}{
		"a tag key twice in Tags":      {"TagResource", []string{"KeyId", id, "Tags", `[{"TagKey":"` + escaped + `"},{"TagKey":"` + escaped + `"}]`}},
		"a tag key twice in Tag.N":     {"TagResources", []string{"ResourceType", "key", "ResourceId.1", id, "Tag.1.Key", long, "Tag.2.Key", long}},
		"an unknown filter Key":        {"ListKeys", []string{"Filters", `[{"Key":"` + escaped + `","Values":[]}]`}},
		"a value of no KeyState":       {"ListKeys", []string{"Filters", `[{"Key":"KeyState","Values":["` + escaped + `"]}]`}},
		"a filter member of its own":   {"ListKeys", []string{"Filters", `[{"` + escaped + `":1}]`}},
		"a key of another region":      {"DescribeKey", []string{"KeyId", foreign}},
		"a resource of another region": {"ListTagResources", []string{"ResourceId.1", foreign}},
		// Found by FuzzTags: a Tag.1.K… of 8,000 bytes whose value was not
		// UTF-8 was named whole.
		"a long name, a NUL in its value": {"DescribeKey", []string{"KeyId", id, strings.Repeat("n", 60000), "\x00"}},
		"a long name, a value not UTF-8":  {"DescribeKey", []string{"KeyId", id, strings.Repeat("\xdd", 60000), "\xff"}},
	} {
		_, err := f.call(c.action, c.kv...)
		var ke *core.Error
		if !errors.As(err, &ke) {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(ke.Message) > 512 {
			t.Errorf("%s: a message of %d bytes: %.120s…", name, len(ke.Message), ke.Message)
		}
		if !utf8.ValidString(ke.Message) {
			t.Errorf("%s: the message is not UTF-8: %q", name, ke.Message)
		}
	}
}

// TestClipTextCutsBetweenCharacters: the bound on quoted text never splits
// a character, and each run of bytes that are not UTF-8 comes out as "?".
func TestClipTextCutsBetweenCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"short":                    "short",
		strings.Repeat("k", 64):    strings.Repeat("k", 64),
		strings.Repeat("k", 65):    strings.Repeat("k", 64) + "…",
		strings.Repeat("钥", 30):    strings.Repeat("钥", 21) + "…", // 64 bytes end inside the 22nd
		"a\xffb":                   "a?b",
		strings.Repeat("\xdd", 99): "?…",
	} {
		if got := core.ClipText(in); got != want {
			t.Errorf("ClipText(%.20q…) = %q, want %q", in, got, want)
		}
	}
}

func TestUnknownActionAndMissingCaller(t *testing.T) {
	f := newSvcFixture(t)
	_, err := f.call("DestroyEverything")
	mustCode(t, err, core.CodeInvalidParameter)
	// An unknown action is named in a bounded message, however long.
	_, err = f.call(strings.Repeat("Destroy", 2000))
	mustCode(t, err, core.CodeInvalidParameter)
	if msg := core.AsError(err).Message; len(msg) > 200 {
		t.Fatalf("a refusal of %d bytes: %.200s…", len(msg), msg)
	}
	_, err = f.call("")
	mustCode(t, err, core.CodeMissingParameter)
	_, err = f.svc.Handle(background, &core.Request{Action: "ListKeys"})
	mustCode(t, err, core.CodeNoPermission)
}

func TestActionsAreListedInOneSortedOrder(t *testing.T) {
	first := core.Actions()
	if !slices.IsSorted(first) || len(first) == 0 {
		t.Fatalf("Actions() = %v, want a sorted list", first)
	}
	for range 20 {
		if got := core.Actions(); !slices.Equal(got, first) {
			t.Fatalf("Actions() changed between calls: %v then %v", first, got)
		}
	}
}

// TestTagsAreReadEachMemberOneWay holds the Tags parameter to exact member
// names, each once: a member in another case is not TagKey, and a member given
// twice is refused rather than settled by whichever came last.
func TestTagsAreReadEachMemberOneWay(t *testing.T) {
	f := newSvcFixture(t)
	for tags, want := range map[string]map[string]string{
		`[{"TagKey":"team","TagValue":"a"},{"TagKey":"env"}]`:   {"team": "a", "env": ""},
		`[{"TagKey":"team","TagValue":null}]`:                   {"team": ""},
		`[{"TagKey":"team","TagValue":"a","Note":{"n":[1,2]}}]`: {"team": "a"},
		`[{"TagKey":"team","tagkey":"other"}]`:                  {"team": ""},
		`[]`:                                                    {},
		`[{"tagkey":"team"}]`:                                   nil,
		`[{"TagKey":"team","TagKey":"other"}]`:                  nil,
		`[{"TagKey":"team","TagValue":"a","TagValue":"b"}]`:     nil,
		`[{"TagKey":"team"},{"TagKey":"team"}]`:                 nil,
		`[{"TagKey":1}]`:                                        nil,
		`[["TagKey","team"]]`:                                   nil,
		`[{"TagKey":"team"}] []`:                                nil,
		`[{"TagKey":"team"}`:                                    nil,
		`null`:                                                  nil,
	} {
		got, err := f.svc.Handle(background, &core.Request{Action: "CreateKey", Params: core.Params{"Tags": tags}, Caller: f.admin})
		if want == nil {
			if ke := core.AsError(err); ke == nil || ke.Code != core.CodeInvalidParameter || !strings.Contains(ke.Message, "Tags") {
				t.Errorf("%s: got %v, want InvalidParameter naming Tags", tags, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tags, err)
			continue
		}
		if k := got.(core.Key); !maps.Equal(k.Tags, want) {
			t.Errorf("%s: tags %v, want %v", tags, k.Tags, want)
		}
	}
}

// TestManagementActionsFollowTheKeyStateTables checks the management actions
// against Alibaba's "Impact of CMK status on API operations" table, which AWS's
// key-state table agrees with: UpdateKeyDescription is refused only pending
// deletion, and a rotation policy changes, on or off, only on an Enabled key.
func TestManagementActionsFollowTheKeyStateTables(t *testing.T) {
	f := newSvcFixture(t)
	enabled := f.createKey()
	disabled := f.createKey()
	f.ok("DisableKey", "KeyId", disabled)
	pending := f.createKey()
	f.ok("ScheduleKeyDeletion", "KeyId", pending, "PendingWindowInDays", "7")
	importing := f.createKey("Origin", core.OriginExternal)
	keys := []struct{ state, id string }{{"Enabled", enabled}, {"Disabled", disabled}, {"PendingDeletion", pending}, {"PendingImport", importing}}

	cases := []struct {
		action string
		kv     []string
		want   []string // per state, in keys' order; "" = success
	}{
		{"UpdateKeyDescription", []string{"Description", "x"}, []string{"", "", core.CodePendingDeletion, ""}},
		{"UpdateRotationPolicy", []string{"EnableAutomaticRotation", "true", "RotationInterval", "30d"}, []string{"", core.CodeDisabled, core.CodePendingDeletion, core.CodePendingImport}},
		{"UpdateRotationPolicy", []string{"EnableAutomaticRotation", "false"}, []string{"", core.CodeDisabled, core.CodePendingDeletion, core.CodePendingImport}},
		{"EnableKeyRotation", nil, []string{"", core.CodeDisabled, core.CodePendingDeletion, core.CodePendingImport}},
		{"DisableKeyRotation", nil, []string{"", core.CodeDisabled, core.CodePendingDeletion, core.CodePendingImport}},
	}
	for _, c := range cases {
		for i, k := range keys {
			_, err := f.call(c.action, append([]string{"KeyId", k.id}, c.kv...)...)
			var ke *core.Error
			switch want := c.want[i]; {
			case want == "" && err != nil:
				t.Errorf("%s %q on a %s key: %v, want success", c.action, c.kv, k.state, err)
			case want != "" && (!errors.As(err, &ke) || ke.Code != want):
				t.Errorf("%s %q on a %s key: %v, want %s", c.action, c.kv, k.state, err, want)
			}
		}
	}
	if d := f.describe(pending).Description; d != "" {
		t.Errorf("the refused UpdateKeyDescription left description %q", d)
	}
	if m := f.describe(disabled); m.AutomaticRotation != "Disabled" {
		t.Errorf("the refused rotation policy left AutomaticRotation %s", m.AutomaticRotation)
	}
}

// TestOnDemandRotationKeepsTheAutomaticSchedule: a version made by hand
// (RotateKeyOnDemand, and CreateKeyVersion alike) moves LastRotationDate but not
// the next automatic rotation, as AWS documents: "On-demand rotations do not
// change existing automatic rotation schedules".
func TestOnDemandRotationKeepsTheAutomaticSchedule(t *testing.T) {
	for _, action := range []string{"RotateKeyOnDemand", "CreateKeyVersion"} {
		t.Run(action, func(t *testing.T) {
			f := newSvcFixture(t)
			id := f.createKey("EnableAutomaticRotation", "true", "RotationInterval", "30d")
			f.clock.Advance(20 * 24 * time.Hour)
			if _, err := f.call(action, "KeyId", id); err != nil {
				t.Fatal(err)
			}
			m := f.describe(id)
			if m.LastRotationDate != "2026-03-21T12:00:00Z" || m.NextRotationDate != "2026-03-31T12:00:00Z" {
				t.Fatalf("after %s on day 20: last %s, next %s; want last 2026-03-21T12:00:00Z, next 2026-03-31T12:00:00Z", action, m.LastRotationDate, m.NextRotationDate)
			}
			manual := m.PrimaryKeyVersion

			f.clock.Advance(10 * 24 * time.Hour)
			r := f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id).(*alibaba.CiphertextResponse)
			if r.KeyVersionId == manual {
				t.Fatal("no automatic rotation on the day it was due")
			}
			if m := f.describe(id); m.LastRotationDate != "2026-03-31T12:00:00Z" || m.NextRotationDate != "2026-04-30T12:00:00Z" {
				t.Fatalf("after the automatic rotation: last %s, next %s", m.LastRotationDate, m.NextRotationDate)
			}
		})
	}
	// Without a schedule there is none to keep: rotation turned on later
	// counts from the last rotation, whichever kind.
	f := newSvcFixture(t)
	id := f.createKey()
	f.clock.Advance(20 * 24 * time.Hour)
	f.ok("CreateKeyVersion", "KeyId", id)
	f.ok("UpdateRotationPolicy", "KeyId", id, "EnableAutomaticRotation", "true", "RotationInterval", "30d")
	if m := f.describe(id); m.NextRotationDate != "2026-04-20T12:00:00Z" {
		t.Fatalf("rotation turned on after a manual version: next %s, want 2026-04-20T12:00:00Z", m.NextRotationDate)
	}
}

// TestRotationScheduleStartsAsEachAPISays: AWS's EnableKeyRotation counts
// the first automatic rotation from the day it turns rotation on, Alibaba's
// UpdateRotationPolicy from the key's last rotation, and NextRotationDate is
// when that rotation happens. A key whose rotation is already on keeps its
// schedule through either; one turned off keeps none.
func TestRotationScheduleStartsAsEachAPISays(t *testing.T) {
	next := func(t *testing.T, f *svcFixture, id, want string) {
		t.Helper()
		if got := f.describe(id).NextRotationDate; got != want {
			t.Fatalf("NextRotationDate %s, want %s", got, want)
		}
	}
	t.Run("EnableKeyRotation", func(t *testing.T) {
		f := newSvcFixture(t)
		id := f.createKey()
		v1 := f.describe(id).PrimaryKeyVersion
		f.clock.Advance(50 * 24 * time.Hour)
		f.ok("EnableKeyRotation", "KeyId", id, "RotationInterval", "90d")
		next(t, f, id, "2026-07-19T12:00:00Z")
		f.clock.Advance(90*24*time.Hour - time.Second)
		if r := f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id).(*alibaba.CiphertextResponse); r.KeyVersionId != v1 {
			t.Fatalf("rotated a second before NextRotationDate: %s", r.KeyVersionId)
		}
		f.clock.Advance(time.Second)
		if r := f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id).(*alibaba.CiphertextResponse); r.KeyVersionId == v1 {
			t.Fatal("no rotation on NextRotationDate")
		}
		next(t, f, id, "2026-10-17T12:00:00Z")
	})
	t.Run("UpdateRotationPolicy", func(t *testing.T) {
		f := newSvcFixture(t)
		id := f.createKey()
		f.clock.Advance(50 * 24 * time.Hour)
		f.ok("UpdateRotationPolicy", "KeyId", id, "EnableAutomaticRotation", "true", "RotationInterval", "90d")
		next(t, f, id, "2026-05-30T12:00:00Z")
	})
	t.Run("AlreadyOn", func(t *testing.T) {
		f := newSvcFixture(t)
		id := f.createKey()
		f.clock.Advance(50 * 24 * time.Hour)
		f.ok("EnableKeyRotation", "KeyId", id, "RotationInterval", "90d")
		f.clock.Advance(10 * 24 * time.Hour)
		f.ok("EnableKeyRotation", "KeyId", id, "RotationInterval", "100d")
		next(t, f, id, "2026-07-29T12:00:00Z")
		f.ok("UpdateRotationPolicy", "KeyId", id, "EnableAutomaticRotation", "true", "RotationInterval", "90d")
		next(t, f, id, "2026-07-19T12:00:00Z")
	})
	t.Run("TurnedOffAndOn", func(t *testing.T) {
		f := newSvcFixture(t)
		id := f.createKey("EnableAutomaticRotation", "true", "RotationInterval", "30d")
		f.clock.Advance(20 * 24 * time.Hour)
		f.ok("CreateKeyVersion", "KeyId", id)
		f.ok("UpdateRotationPolicy", "KeyId", id, "EnableAutomaticRotation", "false")
		f.ok("UpdateRotationPolicy", "KeyId", id, "EnableAutomaticRotation", "true", "RotationInterval", "30d")
		next(t, f, id, "2026-04-20T12:00:00Z")
		f.clock.Advance(24 * time.Hour)
		f.ok("DisableKeyRotation", "KeyId", id)
		f.ok("EnableKeyRotation", "KeyId", id, "RotationInterval", "30d")
		next(t, f, id, "2026-04-21T12:00:00Z")
	})
}

// TestScheduleKeyDeletionTakesAlibabasWindow: 7 to 366 days, required, as
// Alibaba's API metadata documents ScheduleKeyDeletion.
func TestScheduleKeyDeletionTakesAlibabasWindow(t *testing.T) {
	f := newSvcFixture(t)
	for _, c := range []struct{ days, deleteDate string }{{"7", "2026-03-08T12:00:00Z"}, {"30", "2026-03-31T12:00:00Z"}, {"366", "2027-03-02T12:00:00Z"}} {
		id := f.createKey()
		f.ok("ScheduleKeyDeletion", "KeyId", id, "PendingWindowInDays", c.days)
		if got := f.describe(id).DeleteDate; got != c.deleteDate {
			t.Errorf("PendingWindowInDays %s: DeleteDate %s, want %s", c.days, got, c.deleteDate)
		}
	}
	id := f.createKey()
	for _, days := range []string{"6", "367"} {
		_, err := f.call("ScheduleKeyDeletion", "KeyId", id, "PendingWindowInDays", days)
		mustCode(t, err, core.CodeInvalidParameter)
	}
	_, err := f.call("ScheduleKeyDeletion", "KeyId", id)
	mustCode(t, err, core.CodeMissingParameter)
}
