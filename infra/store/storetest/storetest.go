package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

// Run runs the conformance suite against a store. open must return a new, empty
// store each time it is called; the suite closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) Store) {
	runSuite(t, open, []suiteTest{
		{"CreateKeyThenGetReturnsKeyAndFirstVersion", testCreateKeyThenGet},
		{"CreateKeyWithTakenIDFailsAndWritesNothing", testCreateKeyWithTakenID},
		{"CreateKeyRejectsVersionOfAnotherKey", testCreateKeyRejectsForeignVersion},
		{"MissingRecordsAreNotFound", testMissingRecordsAreNotFound},
		{"UpdateKeyIsCompareAndSet", testUpdateKeyIsCompareAndSet},
		{"UpdateKeyReplacesEveryField", testUpdateKeyReplacesEveryField},
		{"AddVersionChangesPrimaryAtomically", testAddVersionChangesPrimary},
		{"AddVersionWithStaleRevisionWritesNothing", testAddVersionStaleWritesNothing},
		{"AddVersionWithTakenVersionIDWritesNothing", testAddVersionTakenID},
		{"DeleteKeyRemovesVersionsAndAliases", testDeleteKeyRemovesEverything},
		{"ConcurrentDeleteKeyDeletesOnce", testConcurrentDeleteKey},
		{"AliasLifecycle", testAliasLifecycle},
		{"AliasToMissingKeyIsNotFound", testAliasToMissingKey},
		{"ListKeysPagesInCreationThenIDOrder", testListKeysPaging},
		{"ListKeysAfterResumesAfterAPosition", testListKeysAfter},
		{"ListKeysAfterWalksWhileKeysComeAndGo", testListKeysAfterWhileKeysComeAndGo},
		{"ListVersionsPagesOldestFirst", testListVersionsPaging},
		{"ListAliasesPagesByNameAndFiltersByKey", testListAliasesPaging},
		{"ListAliasesAfterResumesAfterAName", testListAliasesAfter},
		{"ListAliasesAfterWalksWhileAliasesComeAndGo", testListAliasesAfterWhileAliasesComeAndGo},
		{"ListAliasesAfterWalksOneKeysAliases", testListAliasesAfterByKey},
		{"ListingsLeaveOutKeysPastDeletion", testListingsLeaveOutKeysPastDeletion},
		{"WrappedBytesRoundTripExactly", testWrappedBytesRoundTrip},
		{"KeyLabelsRoundTripFromCreate", testKeyLabelsRoundTrip},
		{"ReplaceVersionSetsAndClearsMaterial", testReplaceVersion},
		{"CreateKeyWithSeveralVersionsIsAllOrNothing", testCreateKeyWithVersions},
		{"CreatePartitionIsConditional", testCreatePartitionIsConditional},
		{"ConcurrentCreatePartitionCreatesExactlyOne", testConcurrentCreatePartition},
		{"ListPartitionsAfterWalksByIDBytes", testListPartitionsAfter},
		{"ConcurrentUpdateKeyCountsEveryRevision", testConcurrentUpdateKey},
		{"ConcurrentAddVersionLeavesNoOrphans", testConcurrentAddVersion},
		{"RewrapVersionsReplacesOnlyWhatIsUnchanged", testRewrapVersions},
		{"VersionsKeepTheirRotationType", testVersionsKeepTheirRotationType},
		{"VersionsKeepTheirImportedMaterialFields", testVersionsKeepImportedMaterialFields},
		{"ReplaceVersionMakesAPendingRotation", testReplaceVersionMakesAPendingRotation},
		{"SecretLifecycle", testSecretLifecycle},
		{"ListSecretsPagesByName", testListSecretsPagesByName},
		{"ListSecretsAfterWalksByNameBytes", testListSecretsAfter},
		{"SecretValuesRoundTrip", testSecretValuesRoundTrip},
		{"ConcurrentUpdateSecretCountsEveryRevision", testConcurrentUpdateSecret},
		{"CertificateLifecycle", testCertificates},
		{"ListCertificatesAfterWalksByIDBytes", testListCertificatesAfter},
		{"CertificatesShareNoMemoryWithCallers", testCertificatesAreNotShared},
		{"ConcurrentUpdateCertificateCountsEveryRevision", testConcurrentUpdateCertificate},
		{"KeyUsageKeepsTheLatestUse", testKeyUsageKeepsTheLatestUse},
		{"DeleteKeyRemovesItsUse", testDeleteKeyRemovesItsUse},
		{"ConcurrentRecordKeyUsageKeepsTheLatest", testConcurrentRecordKeyUsage},
	})
}

// suiteTest is one test of a suite, run on a store of its own.
type suiteTest struct {
	name string
	run  func(*testing.T, Store)
}

// runSuite runs each test on a new store from open, closing it when the
// subtest ends.
func runSuite(t *testing.T, open func(t *testing.T) Store, tests []suiteTest) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.run(t, s)
		})
	}
}

// t0 carries microseconds: the finest precision every store keeps (PostgreSQL's
// timestamptz), finer than the whole seconds core writes.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

func at(seconds int) time.Time { return t0.Add(time.Duration(seconds) * time.Second) }

func newKey(id string, created time.Time) core.Key {
	return core.Key{
		ID:               id,
		Description:      "key " + id,
		KeySpec:          "Aliyun_AES_256",
		KeyUsage:         "ENCRYPT/DECRYPT",
		Origin:           "Aliyun_KMS",
		ProtectionLevel:  "SOFTWARE",
		Creator:          "storetest",
		State:            core.KeyEnabled,
		CreatedAt:        created,
		PrimaryVersionID: id + "-v1",
		Revision:         1,
	}
}

func newVersion(keyID, versionID string, created time.Time) core.KeyVersion {
	sum := sha256.Sum256([]byte(keyID + "/" + versionID))
	return core.KeyVersion{KeyID: keyID, VersionID: versionID, CreatedAt: created, Wrapped: sum[:], RootKeyID: rootA}
}

// Root key IDs, as core.RootKey.ID spells them.
const (
	rootA = "0123456789abcdef"
	rootB = "fedcba9876543210"
)

// create stores a key with its first version and returns both.
func create(t *testing.T, s Store, id string, created time.Time) (core.Key, core.KeyVersion) {
	t.Helper()
	k := newKey(id, created)
	v := newVersion(id, k.PrimaryVersionID, created)
	if err := s.CreateKey(context.Background(), k, v); err != nil {
		t.Fatalf("CreateKey(%s): %v", id, err)
	}
	return k, v
}

func createAlias(t *testing.T, s Store, name, keyID string) core.Alias {
	t.Helper()
	a := core.Alias{Name: name, KeyID: keyID, CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateAlias(context.Background(), a); err != nil {
		t.Fatalf("CreateAlias(%s): %v", name, err)
	}
	return a
}

// Stores may hand times back in another location; only the instant matters.
func normKey(k core.Key) core.Key {
	k.CreatedAt, k.DeleteAt, k.LastRotatedAt = k.CreatedAt.UTC(), k.DeleteAt.UTC(), k.LastRotatedAt.UTC()
	k.MaterialExpireAt, k.RotationBase = k.MaterialExpireAt.UTC(), k.RotationBase.UTC()
	if len(k.Tags) == 0 {
		k.Tags = nil
	}
	return k
}

func normVersion(v core.KeyVersion) core.KeyVersion {
	v.CreatedAt, v.ExpireAt = v.CreatedAt.UTC(), v.ExpireAt.UTC()
	if len(v.Wrapped) == 0 {
		v.Wrapped = nil
	}
	return v
}

func normAlias(a core.Alias) core.Alias {
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a
}

func normPartition(p core.Partition) core.Partition {
	p.CreatedAt = p.CreatedAt.UTC()
	if len(p.EncryptionContext) == 0 {
		p.EncryptionContext = nil
	}
	return p
}

func wantKey(t *testing.T, s Store, want core.Key) {
	t.Helper()
	got, err := s.GetKey(context.Background(), want.ID)
	if err != nil {
		t.Fatalf("GetKey(%s): %v", want.ID, err)
	}
	if !reflect.DeepEqual(normKey(got), normKey(want)) {
		t.Fatalf("GetKey(%s)\n got %+v\nwant %+v", want.ID, got, want)
	}
}

func wantVersion(t *testing.T, s Store, want core.KeyVersion) {
	t.Helper()
	got, err := s.GetVersion(context.Background(), want.KeyID, want.VersionID)
	if err != nil {
		t.Fatalf("GetVersion(%s, %s): %v", want.KeyID, want.VersionID, err)
	}
	if !reflect.DeepEqual(normVersion(got), normVersion(want)) {
		t.Fatalf("GetVersion(%s, %s)\n got %+v\nwant %+v", want.KeyID, want.VersionID, got, want)
	}
}

func wantAlias(t *testing.T, s Store, want core.Alias) {
	t.Helper()
	got, err := s.GetAlias(context.Background(), want.Name)
	if err != nil {
		t.Fatalf("GetAlias(%s): %v", want.Name, err)
	}
	if !reflect.DeepEqual(normAlias(got), normAlias(want)) {
		t.Fatalf("GetAlias(%s)\n got %+v\nwant %+v", want.Name, got, want)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// wantVersions checks that ListVersions returns want, field by field, in
// that order.
func wantVersions(t *testing.T, s Store, keyID string, want ...core.KeyVersion) {
	t.Helper()
	vs, total, err := s.ListVersions(context.Background(), keyID, core.Page{})
	if err != nil {
		t.Fatalf("ListVersions(%s): %v", keyID, err)
	}
	if total != len(want) || len(vs) != len(want) {
		t.Fatalf("ListVersions(%s) = %d versions (total %d), want %d", keyID, len(vs), total, len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(normVersion(vs[i]), normVersion(want[i])) {
			t.Fatalf("ListVersions(%s)[%d]\n got %+v\nwant %+v", keyID, i, vs[i], want[i])
		}
	}
}

func wantVersionIDs(t *testing.T, s Store, keyID string, want ...string) {
	t.Helper()
	vs, total, err := s.ListVersions(context.Background(), keyID, core.Page{})
	if err != nil {
		t.Fatalf("ListVersions(%s): %v", keyID, err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.VersionID)
	}
	if total != len(want) || !slices.Equal(got, want) {
		t.Fatalf("ListVersions(%s) = %q (total %d), want %q", keyID, got, total, want)
	}
}

func testCreateKeyThenGet(t *testing.T, s Store) {
	k, v := create(t, s, "key-1", t0)
	wantKey(t, s, k)
	wantVersion(t, s, v)
	wantVersionIDs(t, s, k.ID, v.VersionID)
}

func testCreateKeyWithTakenID(t *testing.T, s Store) {
	ctx := context.Background()
	k, v := create(t, s, "key-1", t0)

	again := newKey(k.ID, at(5))
	again.Description = "impostor"
	again.PrimaryVersionID = "key-1-v2"
	err := s.CreateKey(ctx, again, newVersion(k.ID, again.PrimaryVersionID, at(5)))
	wantErr(t, "CreateKey with a taken ID", err, core.ErrExists)

	wantKey(t, s, k)
	wantVersion(t, s, v)
	wantVersionIDs(t, s, k.ID, v.VersionID)
}

func testCreateKeyRejectsForeignVersion(t *testing.T, s Store) {
	ctx := context.Background()
	k := newKey("key-1", t0)
	if err := s.CreateKey(ctx, k, newVersion("key-2", k.PrimaryVersionID, t0)); err == nil {
		t.Fatal("CreateKey accepted a first version that belongs to another key")
	}
	_, err := s.GetKey(ctx, k.ID)
	wantErr(t, "GetKey after a rejected CreateKey", err, core.ErrNotFound)
}

func testMissingRecordsAreNotFound(t *testing.T, s Store) {
	ctx := context.Background()
	k, v := create(t, s, "key-1", t0)
	createAlias(t, s, "alias/one", k.ID)

	ghost := newKey("key-ghost", t0)
	ghost.Revision = 2
	_, err := s.GetKey(ctx, ghost.ID)
	wantErr(t, "GetKey", err, core.ErrNotFound)
	wantErr(t, "UpdateKey", s.UpdateKey(ctx, ghost), core.ErrNotFound)
	wantErr(t, "AddVersion", s.AddVersion(ctx, ghost, newVersion(ghost.ID, "v2", t0)), core.ErrNotFound)
	wantErr(t, "DeleteKey", s.DeleteKey(ctx, ghost.ID, 1), core.ErrNotFound)
	_, err = s.GetVersion(ctx, ghost.ID, v.VersionID)
	wantErr(t, "GetVersion of a missing key", err, core.ErrNotFound)
	_, err = s.GetVersion(ctx, k.ID, "no-such-version")
	wantErr(t, "GetVersion of a missing version", err, core.ErrNotFound)
	_, err = s.GetAlias(ctx, "alias/none")
	wantErr(t, "GetAlias", err, core.ErrNotFound)
	wantErr(t, "UpdateAlias of a missing alias", s.UpdateAlias(ctx, core.Alias{Name: "alias/none", KeyID: k.ID, UpdatedAt: t0}), core.ErrNotFound)
	wantErr(t, "DeleteAlias", s.DeleteAlias(ctx, "alias/none"), core.ErrNotFound)
	_, err = s.GetPartition(ctx, "partition-none")
	wantErr(t, "GetPartition", err, core.ErrNotFound)

	// Listing under a missing key is an empty listing, not an error: the key may
	// have been deleted between the caller's lookup and the listing.
	vs, total, err := s.ListVersions(ctx, ghost.ID, core.Page{Limit: 10})
	if err != nil || len(vs) != 0 || total != 0 {
		t.Fatalf("ListVersions of a missing key = %v, %d, %v; want empty", vs, total, err)
	}
	as, total, err := s.ListAliases(ctx, ghost.ID, time.Time{}, core.Page{Limit: 10})
	if err != nil || len(as) != 0 || total != 0 {
		t.Fatalf("ListAliases of a missing key = %v, %d, %v; want empty", as, total, err)
	}
}

func testUpdateKeyIsCompareAndSet(t *testing.T, s Store) {
	ctx := context.Background()
	k, _ := create(t, s, "key-1", t0)

	next := k
	next.State, next.Revision = core.KeyDisabled, k.Revision+1
	if err := s.UpdateKey(ctx, next); err != nil {
		t.Fatalf("UpdateKey with the next revision: %v", err)
	}
	wantKey(t, s, next)

	for _, rev := range []int64{next.Revision, next.Revision + 2, k.Revision} {
		stale := next
		stale.State, stale.Description, stale.Revision = core.KeyEnabled, "stale", rev
		wantErr(t, fmt.Sprintf("UpdateKey with revision %d over %d", rev, next.Revision), s.UpdateKey(ctx, stale), core.ErrConflict)
	}
	wantKey(t, s, next)
}

func testUpdateKeyReplacesEveryField(t *testing.T, s Store) {
	ctx := context.Background()
	k, _ := create(t, s, "key-1", t0)
	next := core.Key{
		ID:                            k.ID,
		Description:                   "changed",
		KeySpec:                       "Aliyun_AES_128",
		KeyUsage:                      "SIGN/VERIFY",
		Origin:                        "EXTERNAL",
		ProtectionLevel:               "HSM",
		Creator:                       "someone else",
		State:                         core.KeyPendingDeletion,
		CreatedAt:                     at(1),
		DeleteAt:                      at(7 * 86400),
		PrimaryVersionID:              "another",
		AutomaticRotation:             true,
		RotationInterval:              30 * 24 * time.Hour,
		LastRotatedAt:                 at(2),
		RotationBase:                  at(1),
		Tags:                          map[string]string{"team": "payments", "环境": "生产", "empty": ""},
		DeletionProtection:            true,
		DeletionProtectionDescription: "ledger keys stay",
		MaterialExpireAt:              at(3),
		Policy:                        `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Sid":"所有"}]}`,
		Revision:                      k.Revision + 1,
	}
	if err := s.UpdateKey(ctx, next); err != nil {
		t.Fatalf("UpdateKey: %v", err)
	}
	wantKey(t, s, next)

	back := k
	back.Revision = next.Revision + 1
	if err := s.UpdateKey(ctx, back); err != nil {
		t.Fatalf("UpdateKey back: %v", err)
	}
	wantKey(t, s, back)
	keys, _, err := s.ListKeys(ctx, time.Time{}, core.Page{})
	if err != nil || len(keys) != 1 || !reflect.DeepEqual(normKey(keys[0]), normKey(back)) {
		t.Fatalf("ListKeys after updates = %+v, %v; want just %+v", keys, err, back)
	}
}

func testAddVersionChangesPrimary(t *testing.T, s Store) {
	ctx := context.Background()
	k, v1 := create(t, s, "key-1", t0)

	next := k
	next.PrimaryVersionID, next.LastRotatedAt, next.Revision = "key-1-v2", at(60), k.Revision+1
	v2 := newVersion(k.ID, next.PrimaryVersionID, at(60))
	if err := s.AddVersion(ctx, next, v2); err != nil {
		t.Fatalf("AddVersion: %v", err)
	}
	wantKey(t, s, next)
	wantVersion(t, s, v1)
	wantVersion(t, s, v2)
	wantVersionIDs(t, s, k.ID, v1.VersionID, v2.VersionID)
}

func testAddVersionStaleWritesNothing(t *testing.T, s Store) {
	ctx := context.Background()
	k, v1 := create(t, s, "key-1", t0)
	moved := k
	moved.State, moved.Revision = core.KeyDisabled, k.Revision+1
	if err := s.UpdateKey(ctx, moved); err != nil {
		t.Fatalf("UpdateKey: %v", err)
	}

	stale := k
	stale.PrimaryVersionID, stale.Revision = "key-1-v2", k.Revision+1
	err := s.AddVersion(ctx, stale, newVersion(k.ID, stale.PrimaryVersionID, at(60)))
	wantErr(t, "AddVersion with a stale revision", err, core.ErrConflict)

	wantKey(t, s, moved)
	_, err = s.GetVersion(ctx, k.ID, stale.PrimaryVersionID)
	wantErr(t, "GetVersion of the rejected version", err, core.ErrNotFound)
	wantVersionIDs(t, s, k.ID, v1.VersionID)
}

func testAddVersionTakenID(t *testing.T, s Store) {
	ctx := context.Background()
	k, v1 := create(t, s, "key-1", t0)
	next := k
	next.Description, next.Revision = "rotated onto itself", k.Revision+1
	dup := newVersion(k.ID, v1.VersionID, at(60))
	dup.Wrapped = []byte("overwritten")
	wantErr(t, "AddVersion with a taken version ID", s.AddVersion(ctx, next, dup), core.ErrExists)
	wantKey(t, s, k)
	wantVersion(t, s, v1)
}

func testDeleteKeyRemovesEverything(t *testing.T, s Store) {
	ctx := context.Background()
	a, a1 := create(t, s, "key-a", t0)
	b, b1 := create(t, s, "key-b", at(1))
	next := a
	for i := 2; i <= 3; i++ {
		next.PrimaryVersionID, next.Revision = fmt.Sprintf("key-a-v%d", i), next.Revision+1
		if err := s.AddVersion(ctx, next, newVersion(a.ID, next.PrimaryVersionID, at(i))); err != nil {
			t.Fatalf("AddVersion: %v", err)
		}
	}
	createAlias(t, s, "alias/a-1", a.ID)
	createAlias(t, s, "alias/a-2", a.ID)
	bAlias := createAlias(t, s, "alias/b", b.ID)

	// A delete holds to the revision its caller read, as updates do.
	wantErr(t, "DeleteKey at a stale revision", s.DeleteKey(ctx, a.ID, a.Revision), core.ErrConflict)
	wantKey(t, s, next)
	wantAliasNames(t, s, a.ID, "alias/a-1", "alias/a-2")
	if err := s.DeleteKey(ctx, a.ID, next.Revision); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	_, err := s.GetKey(ctx, a.ID)
	wantErr(t, "GetKey after DeleteKey", err, core.ErrNotFound)
	for _, vid := range []string{a1.VersionID, "key-a-v2", "key-a-v3"} {
		_, err := s.GetVersion(ctx, a.ID, vid)
		wantErr(t, "GetVersion after DeleteKey", err, core.ErrNotFound)
	}
	wantVersionIDs(t, s, a.ID)
	for _, name := range []string{"alias/a-1", "alias/a-2"} {
		_, err := s.GetAlias(ctx, name)
		wantErr(t, "GetAlias after DeleteKey", err, core.ErrNotFound)
	}
	as, total, err := s.ListAliases(ctx, "", time.Time{}, core.Page{})
	if err != nil || total != 1 || len(as) != 1 || !reflect.DeepEqual(normAlias(as[0]), normAlias(bAlias)) {
		t.Fatalf("ListAliases after DeleteKey = %+v (total %d), %v; want only %+v", as, total, err, bAlias)
	}
	keys, total, err := s.ListKeys(ctx, time.Time{}, core.Page{})
	if err != nil || total != 1 || len(keys) != 1 || keys[0].ID != b.ID {
		t.Fatalf("ListKeys after DeleteKey = %+v (total %d), %v; want only %s", keys, total, err, b.ID)
	}
	wantKey(t, s, b)
	wantVersion(t, s, b1)
	wantErr(t, "DeleteKey twice", s.DeleteKey(ctx, a.ID, next.Revision), core.ErrNotFound)

	// A key re-created under the same ID starts clean.
	_, again := create(t, s, a.ID, at(10))
	wantVersionIDs(t, s, a.ID, again.VersionID)
	as, total, err = s.ListAliases(ctx, a.ID, time.Time{}, core.Page{})
	if err != nil || total != 0 || len(as) != 0 {
		t.Fatalf("aliases of the re-created key = %+v (total %d), %v; want none", as, total, err)
	}
}

// testConcurrentDeleteKey races instances purging one key: exactly one
// delete succeeds, and every other finds the key gone.
func testConcurrentDeleteKey(t *testing.T, s Store) {
	ctx := context.Background()
	k, _ := create(t, s, "key-a", t0)
	createAlias(t, s, "alias/a", k.ID)
	const n = 8
	var deleted, gone atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			switch err := s.DeleteKey(ctx, k.ID, k.Revision); {
			case err == nil:
				deleted.Add(1)
			case errors.Is(err, core.ErrNotFound), errors.Is(err, core.ErrConflict):
				// A racer may see the row go under it as a changed
				// revision; its caller reads again and finds it gone.
				gone.Add(1)
			default:
				t.Errorf("DeleteKey: %v", err)
			}
		})
	}
	wg.Wait()
	if deleted.Load() != 1 || gone.Load() != n-1 {
		t.Fatalf("%d deletes succeeded and %d found the key gone, want 1 and %d", deleted.Load(), gone.Load(), n-1)
	}
	_, err := s.GetKey(ctx, k.ID)
	wantErr(t, "GetKey after the race", err, core.ErrNotFound)
	_, err = s.GetAlias(ctx, "alias/a")
	wantErr(t, "GetAlias after the race", err, core.ErrNotFound)
}

func testAliasLifecycle(t *testing.T, s Store) {
	ctx := context.Background()
	a, _ := create(t, s, "key-a", t0)
	b, _ := create(t, s, "key-b", at(1))

	alias := createAlias(t, s, "alias/app", a.ID)
	wantAlias(t, s, alias)

	dup := core.Alias{Name: alias.Name, KeyID: b.ID, CreatedAt: at(5), UpdatedAt: at(5)}
	wantErr(t, "CreateAlias with a taken name", s.CreateAlias(ctx, dup), core.ErrExists)
	wantAlias(t, s, alias)

	// The update carries no CreatedAt: the alias keeps the one it was born with.
	if err := s.UpdateAlias(ctx, core.Alias{Name: alias.Name, KeyID: b.ID, UpdatedAt: at(9)}); err != nil {
		t.Fatalf("UpdateAlias: %v", err)
	}
	moved := alias
	moved.KeyID, moved.UpdatedAt = b.ID, at(9)
	wantAlias(t, s, moved)
	wantAliasNames(t, s, a.ID)
	wantAliasNames(t, s, b.ID, alias.Name)

	if err := s.DeleteAlias(ctx, alias.Name); err != nil {
		t.Fatalf("DeleteAlias: %v", err)
	}
	_, err := s.GetAlias(ctx, alias.Name)
	wantErr(t, "GetAlias after DeleteAlias", err, core.ErrNotFound)
	wantErr(t, "DeleteAlias twice", s.DeleteAlias(ctx, alias.Name), core.ErrNotFound)
	wantAliasNames(t, s, b.ID)
	wantAliasNames(t, s, "")

	// The name is free again.
	createAlias(t, s, alias.Name, a.ID)
	wantAliasNames(t, s, a.ID, alias.Name)
}

func wantAliasNames(t *testing.T, s Store, keyID string, want ...string) {
	t.Helper()
	as, total, err := s.ListAliases(context.Background(), keyID, time.Time{}, core.Page{})
	if err != nil {
		t.Fatalf("ListAliases(%q): %v", keyID, err)
	}
	var got []string
	for _, a := range as {
		got = append(got, a.Name)
	}
	if total != len(want) || !slices.Equal(got, want) {
		t.Fatalf("ListAliases(%q) = %q (total %d), want %q", keyID, got, total, want)
	}
}

func testAliasToMissingKey(t *testing.T, s Store) {
	ctx := context.Background()
	a, _ := create(t, s, "key-a", t0)

	err := s.CreateAlias(ctx, core.Alias{Name: "alias/orphan", KeyID: "key-ghost", CreatedAt: t0, UpdatedAt: t0})
	wantErr(t, "CreateAlias to a missing key", err, core.ErrNotFound)
	_, err = s.GetAlias(ctx, "alias/orphan")
	wantErr(t, "GetAlias of the rejected alias", err, core.ErrNotFound)

	alias := createAlias(t, s, "alias/app", a.ID)
	err = s.UpdateAlias(ctx, core.Alias{Name: alias.Name, KeyID: "key-ghost", UpdatedAt: at(3)})
	wantErr(t, "UpdateAlias to a missing key", err, core.ErrNotFound)
	wantAlias(t, s, alias)
	wantAliasNames(t, s, "", alias.Name)
	wantAliasNames(t, s, a.ID, alias.Name)
}

// pages lists everything through pages of size limit and checks each page's total.
func pages[T any](t *testing.T, what string, want int, limit int, list func(core.Page) ([]T, int, error)) []T {
	t.Helper()
	var all []T
	for offset := 0; offset <= want; offset += limit {
		items, total, err := list(core.Page{Offset: offset, Limit: limit})
		if err != nil {
			t.Fatalf("%s offset %d limit %d: %v", what, offset, limit, err)
		}
		if total != want {
			t.Fatalf("%s offset %d: total %d, want %d", what, offset, total, want)
		}
		if n := min(limit, max(want-offset, 0)); len(items) != n {
			t.Fatalf("%s offset %d limit %d: %d items, want %d", what, offset, limit, len(items), n)
		}
		all = append(all, items...)
	}
	items, total, err := list(core.Page{Offset: want + 5, Limit: limit})
	if err != nil || len(items) != 0 || total != want {
		t.Fatalf("%s past the end: %d items, total %d, %v; want none of %d", what, len(items), total, err, want)
	}
	items, total, err = list(core.Page{})
	if err != nil || len(items) != want || total != want {
		t.Fatalf("%s without a limit: %d items, total %d, %v; want all %d", what, len(items), total, err, want)
	}
	return all
}

func testListKeysPaging(t *testing.T, s Store) {
	ctx := context.Background()
	// Created out of order, with ties broken by ID in byte order: "key-B" before
	// "key-a" and "k-b" before "ka", whatever a database's collation would say.
	created := []struct {
		id string
		at int
	}{{"key-c", 3}, {"ka", 1}, {"key-a", 2}, {"key-z", 0}, {"k-b", 1}, {"key-B", 2}, {"key-d", 3}}
	for _, c := range created {
		create(t, s, c.id, at(c.at))
	}
	want := []string{"key-z", "k-b", "ka", "key-B", "key-a", "key-c", "key-d"}

	for _, limit := range []int{1, 3, 7, 10} {
		keys := pages(t, "ListKeys", len(want), limit, func(p core.Page) ([]core.Key, int, error) { return s.ListKeys(ctx, time.Time{}, p) })
		var got []string
		for _, k := range keys {
			got = append(got, k.ID)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ListKeys in pages of %d = %q, want %q", limit, got, want)
		}
	}
	keys, _, err := s.ListKeys(ctx, time.Time{}, core.Page{Offset: 1, Limit: 1})
	if err != nil || len(keys) != 1 || !reflect.DeepEqual(normKey(keys[0]), normKey(newKey("k-b", at(1)))) {
		t.Fatalf("ListKeys entry = %+v, %v; want the whole stored key", keys, err)
	}
}

// walkAfter lists the keys after from (the zero position: all of them) as
// of asOf in pages of limit, each resuming after the last key of the one
// before; between pages it calls between with the position reached. It
// checks that only the last page is short and returns the IDs in order.
func walkAfter(t *testing.T, s Store, asOf time.Time, from core.KeyPosition, limit int, between func(core.KeyPosition)) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("ListKeysAfter in pages of %d never ends", limit)
		}
		keys, err := s.ListKeysAfter(context.Background(), asOf, from, limit)
		if err != nil {
			t.Fatalf("ListKeysAfter(%+v, %d): %v", from, limit, err)
		}
		if len(keys) > limit {
			t.Fatalf("ListKeysAfter(%+v, %d): %d keys", from, limit, len(keys))
		}
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		if len(keys) < limit {
			return ids
		}
		from = keys[len(keys)-1].Position()
		if between != nil {
			between(from)
		}
	}
}

func testListKeysAfter(t *testing.T, s Store) {
	ctx := context.Background()
	// As testListKeysPaging: out of order, with ties broken by ID in byte order.
	created := []struct {
		id string
		at int
	}{{"key-c", 3}, {"ka", 1}, {"key-a", 2}, {"key-z", 0}, {"k-b", 1}, {"key-B", 2}, {"key-d", 3}}
	for _, c := range created {
		create(t, s, c.id, at(c.at))
	}
	want := []string{"key-z", "k-b", "ka", "key-B", "key-a", "key-c", "key-d"}
	for _, limit := range []int{1, 2, 3, 7, 10} {
		if got := walkAfter(t, s, time.Time{}, core.KeyPosition{}, limit, nil); !slices.Equal(got, want) {
			t.Fatalf("ListKeysAfter in pages of %d = %q, want %q", limit, got, want)
		}
	}
	// A position need not be a stored key's: the listing resumes at the
	// first key after it.
	for _, c := range []struct {
		from core.KeyPosition
		want []string
	}{
		{core.KeyPosition{CreatedAt: at(1), ID: "k-b"}, want[2:]},
		{core.KeyPosition{CreatedAt: at(2), ID: "key-A"}, want[3:]},
		{core.KeyPosition{CreatedAt: at(2), ID: "key-B0"}, want[4:]},
		{core.KeyPosition{CreatedAt: at(1).Add(time.Microsecond)}, want[3:]},
		{core.KeyPosition{CreatedAt: at(-1), ID: "zzz"}, want},
		{core.KeyPosition{CreatedAt: at(3), ID: "key-d"}, nil},
		{core.KeyPosition{CreatedAt: at(9)}, nil},
	} {
		keys, err := s.ListKeysAfter(ctx, time.Time{}, c.from, 0)
		if err != nil {
			t.Fatalf("ListKeysAfter(%+v) without a limit: %v", c.from, err)
		}
		var got []string
		for _, k := range keys {
			got = append(got, k.ID)
		}
		if !slices.Equal(got, c.want) {
			t.Fatalf("ListKeysAfter(%+v) without a limit = %q, want %q", c.from, got, c.want)
		}
	}
	keys, err := s.ListKeysAfter(ctx, time.Time{}, core.KeyPosition{CreatedAt: at(0), ID: "key-z"}, 1)
	if err != nil || len(keys) != 1 || !reflect.DeepEqual(normKey(keys[0]), normKey(newKey("k-b", at(1)))) {
		t.Fatalf("ListKeysAfter entry = %+v, %v; want the whole stored key", keys, err)
	}
}

// testListKeysAfterWhileKeysComeAndGo walks the listing while keys are made
// and deleted between its pages: every key that lasts the whole walk comes
// once, in order, whichever keys before or after it come and go, the key
// the walk stopped at among them; a key made after the place reached comes
// too, and one made before it does not.
func testListKeysAfterWhileKeysComeAndGo(t *testing.T, s Store) {
	ctx := context.Background()
	stored := map[string]core.Key{}
	for i := range 12 {
		// Two keys a second, so that both parts of a position count.
		id := fmt.Sprintf("key-%02d", i)
		stored[id], _ = create(t, s, id, at(i/2))
	}
	doomed, _ := create(t, s, "key-doomed", at(4))
	doomed.State, doomed.DeleteAt, doomed.Revision = core.KeyPendingDeletion, at(50), doomed.Revision+1
	if err := s.UpdateKey(ctx, doomed); err != nil {
		t.Fatal(err)
	}
	remove := func(id string) {
		t.Helper()
		if err := s.DeleteKey(ctx, id, stored[id].Revision); err != nil {
			t.Fatalf("DeleteKey(%s): %v", id, err)
		}
		delete(stored, id)
	}
	page := 0
	got := walkAfter(t, s, at(60), core.KeyPosition{}, 3, func(reached core.KeyPosition) {
		page++
		switch page {
		case 1: // at key-02
			remove("key-01")               // listed already
			remove("key-02")               // the place reached
			remove("key-05")               // still to come
			create(t, s, "key-00a", at(0)) // before the place: never listed
			create(t, s, "key-99", at(9))  // after it: listed
		case 2: // at key-06, key-05 being gone
			create(t, s, "key-06a", at(3)) // made in key-06's second, after it: listed
		}
	})
	want := []string{"key-00", "key-01", "key-02", "key-03", "key-04", "key-06", "key-06a", "key-07", "key-08", "key-09", "key-10", "key-11", "key-99"}
	if !slices.Equal(got, want) {
		t.Fatalf("walk while keys come and go = %q, want %q", got, want)
	}
	if page < 3 {
		t.Fatalf("the walk took %d pages, too few to show anything", page+1)
	}
}

// testListingsLeaveOutKeysPastDeletion lists as of a time: a key whose
// deletion date has come by then, and its aliases, are left out of the items,
// the total and the paging, though the store still holds them.
func testListingsLeaveOutKeysPastDeletion(t *testing.T, s Store) {
	ctx := context.Background()
	doomed := func(id string, created time.Time, deleteAt time.Time) core.Key {
		k, _ := create(t, s, id, created)
		k.State, k.DeleteAt, k.Revision = core.KeyPendingDeletion, deleteAt, k.Revision+1
		if err := s.UpdateKey(ctx, k); err != nil {
			t.Fatalf("UpdateKey(%s): %v", id, err)
		}
		return k
	}
	create(t, s, "key-a", t0)
	b := doomed("key-b", at(1), at(100))
	create(t, s, "key-c", at(2))
	d := doomed("key-d", at(3), at(200))
	for _, id := range []string{"key-a", "key-b", "key-c", "key-d"} {
		createAlias(t, s, "alias/"+id, id)
	}
	createAlias(t, s, "alias/key-b-2", b.ID)

	cases := []struct {
		asOf          time.Time
		keys, aliases []string
	}{
		{time.Time{}, []string{"key-a", "key-b", "key-c", "key-d"}, []string{"alias/key-a", "alias/key-b", "alias/key-b-2", "alias/key-c", "alias/key-d"}},
		{at(99), []string{"key-a", "key-b", "key-c", "key-d"}, []string{"alias/key-a", "alias/key-b", "alias/key-b-2", "alias/key-c", "alias/key-d"}},
		{at(100), []string{"key-a", "key-c", "key-d"}, []string{"alias/key-a", "alias/key-c", "alias/key-d"}},
		{at(250), []string{"key-a", "key-c"}, []string{"alias/key-a", "alias/key-c"}},
	}
	for _, c := range cases {
		for _, limit := range []int{1, 2, 10} {
			var got []string
			for _, k := range pages(t, fmt.Sprintf("ListKeys as of %s", c.asOf), len(c.keys), limit, func(p core.Page) ([]core.Key, int, error) {
				return s.ListKeys(ctx, c.asOf, p)
			}) {
				got = append(got, k.ID)
			}
			if !slices.Equal(got, c.keys) {
				t.Fatalf("ListKeys as of %s in pages of %d = %q, want %q", c.asOf, limit, got, c.keys)
			}
			got = nil
			for _, a := range pages(t, fmt.Sprintf("ListAliases as of %s", c.asOf), len(c.aliases), limit, func(p core.Page) ([]core.Alias, int, error) {
				return s.ListAliases(ctx, "", c.asOf, p)
			}) {
				got = append(got, a.Name)
			}
			if !slices.Equal(got, c.aliases) {
				t.Fatalf("ListAliases as of %s in pages of %d = %q, want %q", c.asOf, limit, got, c.aliases)
			}
		}
		want := 0
		if slices.Contains(c.keys, b.ID) {
			want = 2
		}
		pages(t, fmt.Sprintf("ListAliases(%s) as of %s", b.ID, c.asOf), want, 1, func(p core.Page) ([]core.Alias, int, error) {
			return s.ListAliases(ctx, b.ID, c.asOf, p)
		})
	}
	// Left out of listings, the key is still stored until it is deleted.
	wantKey(t, s, d)
}

func testListVersionsPaging(t *testing.T, s Store) {
	ctx := context.Background()
	k, v1 := create(t, s, "key-1", t0)
	create(t, s, "key-2", t0)
	want := []string{v1.VersionID}
	// v-9 and v-1 share a creation time: insertion order decides, not the ID.
	ids := []struct {
		id string
		at int
	}{{"v-5", 1}, {"v-9", 2}, {"v-1", 2}, {"v-3", 3}, {"v-2", 4}, {"v-8", 5}, {"v-0", 6}, {"v-7", 7}, {"v-6", 8}}
	next := k
	for _, v := range ids {
		next.PrimaryVersionID, next.Revision = v.id, next.Revision+1
		if err := s.AddVersion(ctx, next, newVersion(k.ID, v.id, at(v.at))); err != nil {
			t.Fatalf("AddVersion(%s): %v", v.id, err)
		}
		want = append(want, v.id)
	}
	for _, limit := range []int{1, 4, 10, 20} {
		vs := pages(t, "ListVersions", len(want), limit, func(p core.Page) ([]core.KeyVersion, int, error) { return s.ListVersions(ctx, k.ID, p) })
		var got []string
		for _, v := range vs {
			if v.KeyID != k.ID {
				t.Fatalf("ListVersions(%s) returned a version of %s", k.ID, v.KeyID)
			}
			got = append(got, v.VersionID)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ListVersions in pages of %d = %q, want %q", limit, got, want)
		}
	}
	vs, _, err := s.ListVersions(ctx, k.ID, core.Page{Offset: 2, Limit: 1})
	if err != nil || len(vs) != 1 || !reflect.DeepEqual(normVersion(vs[0]), normVersion(newVersion(k.ID, "v-9", at(2)))) {
		t.Fatalf("ListVersions entry = %+v, %v; want the whole stored version", vs, err)
	}
}

// aliasedKeys makes key-a with six aliases and key-b with three, named so
// that byte order and a database's collation would list them differently.
func aliasedKeys(t *testing.T, s Store) (a, b core.Key) {
	a, _ = create(t, s, "key-a", t0)
	b, _ = create(t, s, "key-b", t0)
	for _, name := range []string{"alias/b", "alias/a-2", "alias/C", "alias/a", "alias/a_1", "alias/Z"} {
		createAlias(t, s, name, a.ID)
	}
	for _, name := range []string{"alias/bb", "alias/0", "alias/c"} {
		createAlias(t, s, name, b.ID)
	}
	return a, b
}

func testListAliasesPaging(t *testing.T, s Store) {
	ctx := context.Background()
	a, b := aliasedKeys(t, s)
	cases := []struct {
		keyID string
		want  []string
	}{
		{"", []string{"alias/0", "alias/C", "alias/Z", "alias/a", "alias/a-2", "alias/a_1", "alias/b", "alias/bb", "alias/c"}},
		{a.ID, []string{"alias/C", "alias/Z", "alias/a", "alias/a-2", "alias/a_1", "alias/b"}},
		{b.ID, []string{"alias/0", "alias/bb", "alias/c"}},
	}
	for _, c := range cases {
		for _, limit := range []int{1, 2, 5, 20} {
			as := pages(t, fmt.Sprintf("ListAliases(%q)", c.keyID), len(c.want), limit, func(p core.Page) ([]core.Alias, int, error) {
				return s.ListAliases(ctx, c.keyID, time.Time{}, p)
			})
			var got []string
			for _, al := range as {
				if c.keyID != "" && al.KeyID != c.keyID {
					t.Fatalf("ListAliases(%q) returned %s of %s", c.keyID, al.Name, al.KeyID)
				}
				got = append(got, al.Name)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("ListAliases(%q) in pages of %d = %q, want %q", c.keyID, limit, got, c.want)
			}
		}
	}
	as, _, err := s.ListAliases(ctx, b.ID, time.Time{}, core.Page{Limit: 1})
	want := core.Alias{Name: "alias/0", KeyID: b.ID, CreatedAt: t0, UpdatedAt: t0}
	if err != nil || len(as) != 1 || !reflect.DeepEqual(normAlias(as[0]), want) {
		t.Fatalf("ListAliases entry = %+v, %v; want %+v", as, err, want)
	}
}

// walkAliasesAfter lists the aliases after from (the zero position: all of
// them), all or (keyID != "") those of one key, as of asOf in pages of
// limit, each resuming after the last alias of the one before; between pages
// it calls between with the position reached. It checks that only the last
// page is short and returns the names in order.
func walkAliasesAfter(t *testing.T, s Store, keyID string, asOf time.Time, from core.AliasPosition, limit int, between func(core.AliasPosition)) []string {
	t.Helper()
	var names []string
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("ListAliasesAfter(%q) in pages of %d never ends", keyID, limit)
		}
		as, err := s.ListAliasesAfter(context.Background(), keyID, asOf, from, limit)
		if err != nil {
			t.Fatalf("ListAliasesAfter(%q, %+v, %d): %v", keyID, from, limit, err)
		}
		if len(as) > limit {
			t.Fatalf("ListAliasesAfter(%q, %+v, %d): %d aliases", keyID, from, limit, len(as))
		}
		for _, a := range as {
			if keyID != "" && a.KeyID != keyID {
				t.Fatalf("ListAliasesAfter(%q) returned %s of %s", keyID, a.Name, a.KeyID)
			}
			names = append(names, a.Name)
		}
		if len(as) < limit {
			return names
		}
		from = as[len(as)-1].Position()
		if between != nil {
			between(from)
		}
	}
}

// aliasNamesAfter lists, without a limit, the names of the aliases after
// from, as walkAliasesAfter's arguments name them.
func aliasNamesAfter(t *testing.T, s Store, keyID string, asOf time.Time, from core.AliasPosition) []string {
	t.Helper()
	as, err := s.ListAliasesAfter(context.Background(), keyID, asOf, from, 0)
	if err != nil {
		t.Fatalf("ListAliasesAfter(%q, %+v) without a limit: %v", keyID, from, err)
	}
	var names []string
	for _, a := range as {
		names = append(names, a.Name)
	}
	return names
}

func testListAliasesAfter(t *testing.T, s Store) {
	ctx := context.Background()
	// As testListAliasesPaging: names in byte order, whatever a database's
	// collation would say.
	a, b := aliasedKeys(t, s)
	all := []string{"alias/0", "alias/C", "alias/Z", "alias/a", "alias/a-2", "alias/a_1", "alias/b", "alias/bb", "alias/c"}
	for _, c := range []struct {
		keyID string
		want  []string
	}{
		{"", all},
		{a.ID, []string{"alias/C", "alias/Z", "alias/a", "alias/a-2", "alias/a_1", "alias/b"}},
		{b.ID, []string{"alias/0", "alias/bb", "alias/c"}},
		{"key-ghost", nil},
	} {
		for _, limit := range []int{1, 2, 3, 9, 20} {
			if got := walkAliasesAfter(t, s, c.keyID, time.Time{}, core.AliasPosition{}, limit, nil); !slices.Equal(got, c.want) {
				t.Fatalf("ListAliasesAfter(%q) in pages of %d = %q, want %q", c.keyID, limit, got, c.want)
			}
		}
	}
	// A position need not be a stored alias's name: the listing resumes at
	// the first alias after it.
	for _, c := range []struct {
		keyID string
		from  string
		want  []string
	}{
		{"", "alias/0", all[1:]},
		{"", "alias/B", all[1:]},
		{"", "alias/a-", all[4:]},
		{"", "alias/a-2", all[5:]},
		{"", "alias/a-20", all[5:]},
		{"", "alias", all},
		{"", "alias/c", nil},
		{"", "alias/zzz", nil},
		{a.ID, "alias/a", []string{"alias/a-2", "alias/a_1", "alias/b"}},
		{a.ID, "alias/b", nil},
		{b.ID, "alias/a", []string{"alias/bb", "alias/c"}},
		{b.ID, "alias/", []string{"alias/0", "alias/bb", "alias/c"}},
	} {
		if got := aliasNamesAfter(t, s, c.keyID, time.Time{}, core.AliasPosition{Name: c.from}); !slices.Equal(got, c.want) {
			t.Fatalf("ListAliasesAfter(%q) after %q = %q, want %q", c.keyID, c.from, got, c.want)
		}
	}
	as, err := s.ListAliasesAfter(ctx, b.ID, time.Time{}, core.AliasPosition{Name: "alias/0"}, 1)
	want := core.Alias{Name: "alias/bb", KeyID: b.ID, CreatedAt: t0, UpdatedAt: t0}
	if err != nil || len(as) != 1 || !reflect.DeepEqual(normAlias(as[0]), want) {
		t.Fatalf("ListAliasesAfter entry = %+v, %v; want %+v", as, err, want)
	}
}

// testListAliasesAfterWhileAliasesComeAndGo walks the listing of all aliases
// while aliases are made, deleted and re-pointed between its pages: every
// alias that lasts the whole walk comes once, in order, whichever aliases
// before or after it come and go, the alias the walk stopped at among them;
// an alias made after the place reached comes too, and one made before it
// does not. The aliases of a key past its deletion date stay out, as they
// stay out of ListAliases.
func testListAliasesAfterWhileAliasesComeAndGo(t *testing.T, s Store) {
	ctx := context.Background()
	a, _ := create(t, s, "key-a", t0)
	b, _ := create(t, s, "key-b", t0)
	doomed, _ := create(t, s, "key-doomed", t0)
	doomed.State, doomed.DeleteAt, doomed.Revision = core.KeyPendingDeletion, at(50), doomed.Revision+1
	if err := s.UpdateKey(ctx, doomed); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		createAlias(t, s, fmt.Sprintf("alias/%02d", i), []string{a.ID, b.ID}[i%2])
	}
	createAlias(t, s, "alias/04-doomed", doomed.ID)
	createAlias(t, s, "alias/09-doomed", doomed.ID)
	remove := func(name string) {
		t.Helper()
		if err := s.DeleteAlias(ctx, name); err != nil {
			t.Fatalf("DeleteAlias(%s): %v", name, err)
		}
	}
	page := 0
	got := walkAliasesAfter(t, s, "", at(60), core.AliasPosition{}, 3, func(reached core.AliasPosition) {
		page++
		switch page {
		case 1: // at alias/02
			remove("alias/01")                        // listed already
			remove("alias/02")                        // the place reached
			remove("alias/05")                        // still to come
			createAlias(t, s, "alias/00a", a.ID)      // before the place: never listed
			createAlias(t, s, "alias/99", b.ID)       // after it: listed
			createAlias(t, s, "alias/02a", a.ID)      // just after the place: listed
			createAlias(t, s, "alias/08a", doomed.ID) // of a key past its date: never listed
		case 2: // at alias/04
			if err := s.UpdateAlias(ctx, core.Alias{Name: "alias/07", KeyID: a.ID, UpdatedAt: at(1)}); err != nil {
				t.Fatal(err) // re-pointed: still listed once
			}
		}
	})
	want := []string{"alias/00", "alias/01", "alias/02", "alias/02a", "alias/03", "alias/04", "alias/06", "alias/07", "alias/08", "alias/09", "alias/10", "alias/11", "alias/99"}
	if !slices.Equal(got, want) {
		t.Fatalf("walk while aliases come and go = %q, want %q", got, want)
	}
	if page < 3 {
		t.Fatalf("the walk took %d pages, too few to show anything", page+1)
	}
	// Before the key's deletion date, its aliases are listed.
	if got := aliasNamesAfter(t, s, "", at(49), core.AliasPosition{Name: "alias/08"}); !slices.Equal(got, []string{"alias/08a", "alias/09", "alias/09-doomed", "alias/10", "alias/11", "alias/99"}) {
		t.Fatalf("ListAliasesAfter before the deletion date = %q", got)
	}
}

// testListAliasesAfterByKey walks one key's aliases while aliases of it and
// of another key come and go, and are re-pointed from one to the other:
// every alias of the key throughout the walk comes once, one re-pointed to
// it after the place reached comes too, one re-pointed to it before that
// place does not, and nor does one re-pointed away before the walk reaches
// it. A key past its deletion date has no aliases to list.
func testListAliasesAfterByKey(t *testing.T, s Store) {
	ctx := context.Background()
	a, _ := create(t, s, "key-a", t0)
	b, _ := create(t, s, "key-b", t0)
	for i := range 10 {
		createAlias(t, s, fmt.Sprintf("alias/a%d", i), a.ID)
		createAlias(t, s, fmt.Sprintf("alias/b%d", i), b.ID)
	}
	createAlias(t, s, "alias/a05", b.ID)
	point := func(name, keyID string) {
		t.Helper()
		if err := s.UpdateAlias(ctx, core.Alias{Name: name, KeyID: keyID, UpdatedAt: at(1)}); err != nil {
			t.Fatalf("UpdateAlias(%s, %s): %v", name, keyID, err)
		}
	}
	page := 0
	got := walkAliasesAfter(t, s, a.ID, time.Time{}, core.AliasPosition{}, 2, func(reached core.AliasPosition) {
		page++
		if page == 1 { // at alias/a1
			if err := s.DeleteAlias(ctx, "alias/a1"); err != nil { // the place reached
				t.Fatal(err)
			}
			point("alias/a4", b.ID)              // still to come, now b's
			point("alias/a05", a.ID)             // before the place: never listed
			point("alias/b5", a.ID)              // after it: listed
			createAlias(t, s, "alias/a1a", a.ID) // after it: listed
			createAlias(t, s, "alias/a0a", b.ID) // b's: never listed
		}
	})
	want := []string{"alias/a0", "alias/a1", "alias/a1a", "alias/a2", "alias/a3", "alias/a5", "alias/a6", "alias/a7", "alias/a8", "alias/a9", "alias/b5"}
	if !slices.Equal(got, want) {
		t.Fatalf("walk of key-a's aliases = %q, want %q", got, want)
	}
	if page < 3 {
		t.Fatalf("the walk took %d pages, too few to show anything", page+1)
	}
	b.State, b.DeleteAt, b.Revision = core.KeyPendingDeletion, at(50), b.Revision+1
	if err := s.UpdateKey(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := aliasNamesAfter(t, s, b.ID, at(49), core.AliasPosition{Name: "alias/b8"}); !slices.Equal(got, []string{"alias/b9"}) {
		t.Fatalf("key-b's aliases after alias/b8 before its deletion date = %q, want [alias/b9]", got)
	}
	if got := aliasNamesAfter(t, s, b.ID, at(50), core.AliasPosition{}); got != nil {
		t.Fatalf("key-b's aliases at its deletion date = %q, want none", got)
	}
	if got := walkAliasesAfter(t, s, "", at(50), core.AliasPosition{Name: "alias/a9"}, 1, nil); !slices.Equal(got, []string{"alias/b5"}) {
		t.Fatalf("aliases after alias/a9 at key-b's deletion date = %q, want those of key-a", got)
	}
}

func testWrappedBytesRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	// Every byte value, NULs and invalid UTF-8 included: the store must treat
	// wrapped material as opaque bytes, never as text.
	blob := make([]byte, 0, 515)
	for i := range 512 {
		blob = append(blob, byte(i))
	}
	blob = append(blob, 0, 0xff, 0)
	original := bytes.Clone(blob)

	k := newKey("key-1", t0)
	v := core.KeyVersion{KeyID: k.ID, VersionID: k.PrimaryVersionID, CreatedAt: t0, Wrapped: blob}
	if err := s.CreateKey(ctx, k, v); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	next := k
	next.PrimaryVersionID, next.Revision = "key-1-v2", 2
	if err := s.AddVersion(ctx, next, core.KeyVersion{KeyID: k.ID, VersionID: next.PrimaryVersionID, CreatedAt: t0, Wrapped: blob[1:]}); err != nil {
		t.Fatalf("AddVersion: %v", err)
	}
	p := core.Partition{ID: "partition-1", KeyID: k.ID, KeyVersionID: next.PrimaryVersionID, CiphertextBlob: blob, CreatedAt: t0,
		EncryptionContext: map[string]string{"partition": "p-1", "": "empty key", "ünïcode": "\x00"}}
	if _, _, err := s.CreatePartition(ctx, p); err != nil {
		t.Fatalf("CreatePartition: %v", err)
	}
	// The store must have copied, not kept, the caller's buffer.
	for i := range blob {
		blob[i] = 0
	}

	for vid, want := range map[string][]byte{k.PrimaryVersionID: original, next.PrimaryVersionID: original[1:]} {
		got, err := s.GetVersion(ctx, k.ID, vid)
		if err != nil {
			t.Fatalf("GetVersion: %v", err)
		}
		if !bytes.Equal(got.Wrapped, want) {
			t.Fatalf("GetVersion(%s).Wrapped = %x, want %x", vid, got.Wrapped, want)
		}
	}
	vs, _, err := s.ListVersions(ctx, k.ID, core.Page{})
	if err != nil || len(vs) != 2 || !bytes.Equal(vs[0].Wrapped, original) || !bytes.Equal(vs[1].Wrapped, original[1:]) {
		t.Fatalf("ListVersions did not return the stored bytes exactly (%v)", err)
	}
	got, err := s.GetPartition(ctx, p.ID)
	if err != nil {
		t.Fatalf("GetPartition: %v", err)
	}
	p.CiphertextBlob = original
	if !reflect.DeepEqual(normPartition(got), normPartition(p)) {
		t.Fatalf("GetPartition\n got %+v\nwant %+v", got, p)
	}

	// Nor may it hand out its own: scribbling on what a read returned changes
	// nothing the next read sees.
	v1, err := s.GetVersion(ctx, k.ID, k.PrimaryVersionID)
	if err != nil {
		t.Fatalf("GetVersion: %v", err)
	}
	clear(v1.Wrapped)
	clear(vs[1].Wrapped)
	clear(got.CiphertextBlob)
	got.EncryptionContext["partition"] = "scribbled"
	vs, _, err = s.ListVersions(ctx, k.ID, core.Page{})
	if err != nil || len(vs) != 2 || !bytes.Equal(vs[0].Wrapped, original) || !bytes.Equal(vs[1].Wrapped, original[1:]) {
		t.Fatalf("a caller's change to returned versions reached the store (%v)", err)
	}
	again, err := s.GetPartition(ctx, p.ID)
	if err != nil || !reflect.DeepEqual(normPartition(again), normPartition(p)) {
		t.Fatalf("a caller's change to a returned partition reached the store: %+v (%v)", again, err)
	}
}

func testCreatePartitionIsConditional(t *testing.T, s Store) {
	ctx := context.Background()
	first := core.Partition{ID: "partition-1", KeyID: "key-1", KeyVersionID: "v1", CiphertextBlob: []byte("first"),
		EncryptionContext: map[string]string{"partition": "partition-1"}, CreatedAt: t0}
	got, created, err := s.CreatePartition(ctx, first)
	if err != nil || !created || !reflect.DeepEqual(normPartition(got), normPartition(first)) {
		t.Fatalf("first CreatePartition = %+v, %v, %v; want %+v, true", got, created, err, first)
	}
	second := core.Partition{ID: first.ID, KeyID: "key-2", KeyVersionID: "v9", CiphertextBlob: []byte("second"), CreatedAt: at(1)}
	got, created, err = s.CreatePartition(ctx, second)
	if err != nil || created || !reflect.DeepEqual(normPartition(got), normPartition(first)) {
		t.Fatalf("second CreatePartition = %+v, %v, %v; want the first record, false", got, created, err)
	}
	stored, err := s.GetPartition(ctx, first.ID)
	if err != nil || !reflect.DeepEqual(normPartition(stored), normPartition(first)) {
		t.Fatalf("GetPartition = %+v, %v; want %+v", stored, err, first)
	}
	// A record without a context reads back as one without a context.
	bare := core.Partition{ID: "partition-2", KeyID: "key-1", KeyVersionID: "v1", CiphertextBlob: []byte("bare"), CreatedAt: t0}
	if _, _, err := s.CreatePartition(ctx, bare); err != nil {
		t.Fatalf("CreatePartition: %v", err)
	}
	stored, err = s.GetPartition(ctx, bare.ID)
	if err != nil || !reflect.DeepEqual(normPartition(stored), bare) {
		t.Fatalf("GetPartition = %+v, %v; want %+v", stored, err, bare)
	}
}

func testConcurrentCreatePartition(t *testing.T, s Store) {
	ctx := context.Background()
	const n = 32
	start := make(chan struct{})
	results := make([]core.Partition, n)
	createdBy := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p := core.Partition{ID: "partition-race", KeyID: "key-1", KeyVersionID: "v1",
				CiphertextBlob: fmt.Appendf(nil, "blob from %d", i), EncryptionContext: map[string]string{"writer": fmt.Sprint(i)}, CreatedAt: at(i)}
			<-start
			results[i], createdBy[i], errs[i] = s.CreatePartition(ctx, p)
		})
	}
	close(start)
	wg.Wait()

	stored, err := s.GetPartition(ctx, "partition-race")
	if err != nil {
		t.Fatalf("GetPartition: %v", err)
	}
	winners := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("CreatePartition #%d: %v", i, errs[i])
		}
		if createdBy[i] {
			winners++
			if want := fmt.Sprint(i); stored.EncryptionContext["writer"] != want {
				t.Fatalf("goroutine %d was told it created the record, but the stored one is from %s", i, stored.EncryptionContext["writer"])
			}
		}
		if !reflect.DeepEqual(normPartition(results[i]), normPartition(stored)) {
			t.Fatalf("CreatePartition #%d returned %+v, but the stored record is %+v", i, results[i], stored)
		}
	}
	if winners != 1 {
		t.Fatalf("%d of %d concurrent CreatePartition calls reported created=true, want exactly 1", winners, n)
	}
}

func testConcurrentUpdateKey(t *testing.T, s Store) {
	ctx := context.Background()
	k, _ := create(t, s, "key-1", t0)
	const perSide, rounds = 8, 4
	var succeeded, conflicts atomic.Int64
	var wg sync.WaitGroup
	for i := range 2 * perSide {
		state := core.KeyEnabled
		if i%2 == 1 {
			state = core.KeyDisabled
		}
		wg.Go(func() {
			for range rounds {
				for {
					cur, err := s.GetKey(ctx, k.ID)
					if err != nil {
						t.Errorf("GetKey: %v", err)
						return
					}
					cur.State, cur.Description, cur.Revision = state, fmt.Sprintf("written by %d", i), cur.Revision+1
					err = s.UpdateKey(ctx, cur)
					if err == nil {
						succeeded.Add(1)
						break
					}
					if !errors.Is(err, core.ErrConflict) {
						t.Errorf("UpdateKey: %v", err)
						return
					}
					conflicts.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	final, err := s.GetKey(ctx, k.ID)
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	if final.Revision != 1+succeeded.Load() || succeeded.Load() != 2*perSide*rounds {
		t.Fatalf("final revision %d after %d successful updates (%d conflicts), want %d", final.Revision, succeeded.Load(), conflicts.Load(), 1+2*perSide*rounds)
	}
	var writer int
	if _, err := fmt.Sscanf(final.Description, "written by %d", &writer); err != nil {
		t.Fatalf("final description %q was written by nobody", final.Description)
	}
	if wantState := map[bool]core.KeyState{true: core.KeyEnabled, false: core.KeyDisabled}[writer%2 == 0]; final.State != wantState {
		t.Fatalf("final state %s does not match its writer %d: the update was not applied whole", final.State, writer)
	}
}

func testConcurrentAddVersion(t *testing.T, s Store) {
	ctx := context.Background()
	k, _ := create(t, s, "key-1", t0)
	const n = 12
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			vid := fmt.Sprintf("v-%02d", i)
			for {
				cur, err := s.GetKey(ctx, k.ID)
				if err != nil {
					t.Errorf("GetKey: %v", err)
					return
				}
				cur.PrimaryVersionID, cur.Revision = vid, cur.Revision+1
				err = s.AddVersion(ctx, cur, newVersion(k.ID, vid, at(i)))
				if err == nil {
					return
				}
				if !errors.Is(err, core.ErrConflict) {
					t.Errorf("AddVersion: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	final, err := s.GetKey(ctx, k.ID)
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	vs, total, err := s.ListVersions(ctx, k.ID, core.Page{})
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	if total != 1+n || len(vs) != 1+n || final.Revision != 1+n {
		t.Fatalf("after %d rotations: %d versions (total %d), revision %d; want %d and %d", n, len(vs), total, final.Revision, 1+n, 1+n)
	}
	if _, err := s.GetVersion(ctx, k.ID, final.PrimaryVersionID); err != nil {
		t.Fatalf("primary version %s: %v", final.PrimaryVersionID, err)
	}
}

func testKeyLabelsRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	k := newKey("key-labelled", t0)
	k.State, k.Origin = core.KeyPendingImport, "EXTERNAL"
	k.Tags = map[string]string{"team": "payments", "cost-center": "1234", "quote\"d": "a\\b"}
	k.DeletionProtection, k.DeletionProtectionDescription = true, "protected"
	k.MaterialExpireAt = at(3600)
	if err := s.CreateKey(ctx, k, newVersion(k.ID, k.PrimaryVersionID, t0)); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	wantKey(t, s, k)
	keys, _, err := s.ListKeys(ctx, time.Time{}, core.Page{})
	if err != nil || len(keys) != 1 || !reflect.DeepEqual(normKey(keys[0]), normKey(k)) {
		t.Fatalf("ListKeys = %+v, %v; want %+v", keys, err, k)
	}
	k.Tags = nil
	k.Revision++
	if err := s.UpdateKey(ctx, k); err != nil {
		t.Fatalf("UpdateKey: %v", err)
	}
	wantKey(t, s, k)
}

func testReplaceVersion(t *testing.T, s Store) {
	ctx := context.Background()
	k := newKey("key-external", t0)
	k.Origin, k.State = "EXTERNAL", core.KeyPendingImport
	empty := core.KeyVersion{KeyID: k.ID, VersionID: k.PrimaryVersionID, CreatedAt: t0}
	if err := s.CreateKey(ctx, k, empty); err != nil {
		t.Fatalf("CreateKey without material: %v", err)
	}
	wantVersion(t, s, empty)

	// ReplaceVersion stores the version whole, CreatedAt included.
	imported := newVersion(k.ID, k.PrimaryVersionID, at(5))
	imported.Digest = []byte("digest-of-the-material-000000000")
	imported.ExpireAt, imported.MaterialDescription = at(3600), "material of 2026"
	next := k
	next.State, next.Revision, next.MaterialExpireAt = core.KeyEnabled, k.Revision+1, at(3600)
	stale := next
	stale.Revision = k.Revision + 5
	wantErr(t, "ReplaceVersion at a stale revision", s.ReplaceVersion(ctx, stale, imported), core.ErrConflict)
	missing := imported
	missing.VersionID = "no-such-version"
	wantErr(t, "ReplaceVersion of a missing version", s.ReplaceVersion(ctx, next, missing), core.ErrNotFound)
	gone := next
	gone.ID, imported.KeyID = "key-gone", "key-gone"
	wantErr(t, "ReplaceVersion of a missing key", s.ReplaceVersion(ctx, gone, imported), core.ErrNotFound)
	imported.KeyID = k.ID
	wantKey(t, s, k)
	wantVersion(t, s, empty)

	if err := s.ReplaceVersion(ctx, next, imported); err != nil {
		t.Fatalf("ReplaceVersion: %v", err)
	}
	wantKey(t, s, next)
	wantVersion(t, s, imported)
	wantVersions(t, s, k.ID, imported)

	// Deleting the material keeps the digest, and clears the expiry and
	// the description: what v leaves zero is stored zero.
	deleted := core.KeyVersion{KeyID: k.ID, VersionID: k.PrimaryVersionID, CreatedAt: t0, Digest: imported.Digest, RootKeyID: rootA}
	again := next
	again.State, again.Revision, again.MaterialExpireAt = core.KeyPendingImport, next.Revision+1, time.Time{}
	if err := s.ReplaceVersion(ctx, again, deleted); err != nil {
		t.Fatalf("ReplaceVersion clearing the material: %v", err)
	}
	wantKey(t, s, again)
	wantVersion(t, s, deleted)
	wantVersions(t, s, k.ID, deleted)
}

func testCreateKeyWithVersions(t *testing.T, s Store) {
	ctx := context.Background()
	k := newKey("key-many", t0)
	v1, v2, v3 := newVersion(k.ID, "v1", t0), newVersion(k.ID, "v2", t0), newVersion(k.ID, "v3", t0)
	k.PrimaryVersionID = "v3"
	if err := s.CreateKey(ctx, k, v1, v2, v3); err != nil {
		t.Fatalf("CreateKey with three versions: %v", err)
	}
	wantKey(t, s, k)
	for _, v := range []core.KeyVersion{v1, v2, v3} {
		wantVersion(t, s, v)
	}
	wantVersionIDs(t, s, k.ID, "v1", "v2", "v3")

	// A taken ID, or a duplicate among the versions, writes nothing.
	other := newKey("key-many", t0)
	wantErr(t, "CreateKey of a taken ID", s.CreateKey(ctx, other, newVersion(k.ID, "w1", t0), newVersion(k.ID, "w2", t0)), core.ErrExists)
	wantVersionIDs(t, s, k.ID, "v1", "v2", "v3")
	dup := newKey("key-dup", t0)
	if err := s.CreateKey(ctx, dup, newVersion(dup.ID, "d1", t0), newVersion(dup.ID, "d1", t0)); err == nil {
		t.Fatal("CreateKey with a version ID twice succeeded")
	}
	wantErr(t, "GetKey after a refused CreateKey", func() error { _, err := s.GetKey(ctx, dup.ID); return err }(), core.ErrNotFound)
}

func testRewrapVersions(t *testing.T, s Store) {
	ctx := context.Background()
	rw, ok := s.(core.VersionRewrapper)
	if !ok {
		t.Fatalf("%T does not implement core.VersionRewrapper, which root rotation needs", s)
	}
	k, v1 := create(t, s, "key-1", t0)
	next := k
	next.PrimaryVersionID, next.Revision = "key-1-v2", 2
	v2 := newVersion(k.ID, next.PrimaryVersionID, at(1))
	v2.RootKeyID = "" // written before versions recorded their root key
	if err := s.AddVersion(ctx, next, v2); err != nil {
		t.Fatalf("AddVersion: %v", err)
	}
	wantVersion(t, s, v2)
	_, other := create(t, s, "key-2", at(2))

	rewrapped := func(v core.KeyVersion) core.KeyVersion {
		v.Wrapped = append([]byte("rewrapped:"), v.Wrapped...)
		v.RootKeyID = rootB
		return v
	}
	stale := other
	stale.Wrapped = []byte("not what is stored")
	gone := newVersion("key-gone", "key-gone-v1", t0)
	n, err := rw.RewrapVersions(ctx, []core.Rewrap{
		{Old: v1, Next: rewrapped(v1)},
		{Old: v2, Next: rewrapped(v2)},
		{Old: stale, Next: rewrapped(other)},
		{Old: gone, Next: rewrapped(gone)},
	})
	if err != nil || n != 2 {
		t.Fatalf("RewrapVersions = %d, %v; want 2 replaced (a stale and a gone version skipped)", n, err)
	}
	wantVersion(t, s, rewrapped(v1))
	wantVersion(t, s, rewrapped(v2))
	wantVersion(t, s, other)
	wantErr(t, "GetVersion of a version rewrapped for a key that never was", func() error {
		_, err := s.GetVersion(ctx, gone.KeyID, gone.VersionID)
		return err
	}(), core.ErrNotFound)
	vs, _, err := s.ListVersions(ctx, k.ID, core.Page{})
	if err != nil || len(vs) != 2 {
		t.Fatalf("ListVersions: %d versions, %v", len(vs), err)
	}
	for i, want := range []core.KeyVersion{rewrapped(v1), rewrapped(v2)} {
		if !reflect.DeepEqual(normVersion(vs[i]), normVersion(want)) {
			t.Fatalf("ListVersions[%d]\n got %+v\nwant %+v", i, vs[i], want)
		}
	}
	// Run again, as a rotation killed after its write does: nothing matches.
	if n, err := rw.RewrapVersions(ctx, []core.Rewrap{{Old: v1, Next: rewrapped(rewrapped(v1))}}); err != nil || n != 0 {
		t.Fatalf("a repeated RewrapVersions = %d, %v; want 0", n, err)
	}
	wantVersion(t, s, rewrapped(v1))
	if n, err := rw.RewrapVersions(ctx, nil); err != nil || n != 0 {
		t.Fatalf("an empty RewrapVersions = %d, %v", n, err)
	}

	// An imported key's digest moves with its wrapping, and alone once its
	// material is deleted; a digest changed meanwhile is left as it is.
	importInto := func(id string, v core.KeyVersion) core.KeyVersion {
		k := newKey(id, at(3))
		k.Origin, k.State = "EXTERNAL", core.KeyPendingImport
		v.KeyID, v.VersionID, v.CreatedAt = k.ID, k.PrimaryVersionID, at(3)
		if err := s.CreateKey(ctx, k, core.KeyVersion{KeyID: k.ID, VersionID: k.PrimaryVersionID, CreatedAt: at(3)}); err != nil {
			t.Fatalf("CreateKey(%s): %v", k.ID, err)
		}
		next := k
		next.Revision++
		if err := s.ReplaceVersion(ctx, next, v); err != nil {
			t.Fatalf("ReplaceVersion(%s): %v", k.ID, err)
		}
		return v
	}
	imported := newVersion("key-external", "", at(3))
	imported.Digest = []byte("digest-under-root-a")
	imported = importInto("key-external", imported)
	deleted := importInto("key-deleted", core.KeyVersion{Digest: []byte("digest-of-deleted-material"), RootKeyID: rootA})
	resealed := func(v core.KeyVersion) core.KeyVersion {
		if v.Wrapped != nil {
			v.Wrapped = append([]byte("rewrapped:"), v.Wrapped...)
		}
		v.Digest = append([]byte("resealed:"), v.Digest...)
		v.RootKeyID = rootB
		return v
	}
	staleDigest := imported
	staleDigest.Digest = []byte("not the stored digest")
	if n, err := rw.RewrapVersions(ctx, []core.Rewrap{{Old: staleDigest, Next: resealed(imported)}}); err != nil || n != 0 {
		t.Fatalf("RewrapVersions over a changed digest = %d, %v; want 0", n, err)
	}
	wantVersion(t, s, imported)
	n, err = rw.RewrapVersions(ctx, []core.Rewrap{{Old: imported, Next: resealed(imported)}, {Old: deleted, Next: resealed(deleted)}})
	if err != nil || n != 2 {
		t.Fatalf("RewrapVersions of digests = %d, %v; want 2", n, err)
	}
	wantVersion(t, s, resealed(imported))
	wantVersion(t, s, resealed(deleted))
}

// testVersionsKeepTheirRotationType: how a version came to be is stored with
// it, read back by GetVersion and ListVersions, and kept when its material
// is replaced or re-wrapped.
func testVersionsKeepTheirRotationType(t *testing.T, s Store) {
	ctx := context.Background()
	k, v1 := create(t, s, "key-1", t0)
	v2, v3 := newVersion(k.ID, "key-1-v2", at(1)), newVersion(k.ID, "key-1-v3", at(2))
	v2.RotationType, v3.RotationType = core.RotationAutomatic, core.RotationOnDemand
	for _, v := range []core.KeyVersion{v2, v3} {
		next := k
		next.PrimaryVersionID, next.Revision = v.VersionID, k.Revision+1
		if err := s.AddVersion(ctx, next, v); err != nil {
			t.Fatalf("AddVersion(%s): %v", v.VersionID, err)
		}
		k = next
	}
	for _, v := range []core.KeyVersion{v1, v2, v3} {
		wantVersion(t, s, v)
	}
	listed, _, err := s.ListVersions(ctx, k.ID, core.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var types []core.RotationType
	for _, v := range listed {
		types = append(types, v.RotationType)
	}
	if want := []core.RotationType{"", core.RotationAutomatic, core.RotationOnDemand}; !slices.Equal(types, want) {
		t.Fatalf("ListVersions rotation types %q, want %q", types, want)
	}

	// New material keeps how a version came to be when the caller passes
	// it on as read; ReplaceVersion stores the version it is handed.
	replaced := v3
	replaced.Wrapped = []byte("new material, wrapped")
	next := k
	next.Revision = k.Revision + 1
	if err := s.ReplaceVersion(ctx, next, replaced); err != nil {
		t.Fatalf("ReplaceVersion: %v", err)
	}
	wantVersion(t, s, replaced)
	k = next
	// A new wrapping keeps it even when the version handed in says
	// nothing of it: RewrapVersions changes the wrapping alone.
	rewrapped := v2
	rewrapped.Wrapped, rewrapped.RootKeyID, rewrapped.RotationType = []byte("rewrapped"), rootB, ""
	if n, err := s.(core.VersionRewrapper).RewrapVersions(ctx, []core.Rewrap{{Old: v2, Next: rewrapped}}); err != nil || n != 1 {
		t.Fatalf("RewrapVersions = %d, %v; want 1", n, err)
	}
	rewrapped.RotationType = core.RotationAutomatic
	wantVersion(t, s, rewrapped)

	// A key created with several versions keeps each one's.
	many := newKey("key-many", t0)
	w1, w2 := newVersion(many.ID, "w1", t0), newVersion(many.ID, "w2", t0)
	w2.RotationType = core.RotationOnDemand
	many.PrimaryVersionID = "w2"
	if err := s.CreateKey(ctx, many, w1, w2); err != nil {
		t.Fatalf("CreateKey with two versions: %v", err)
	}
	wantVersion(t, s, w1)
	wantVersion(t, s, w2)
}

// external returns an EXTERNAL key's version holding imported material:
// its digest, expiry and description set, and rotation type rt.
func external(keyID, versionID string, created time.Time, rt core.RotationType, expires time.Time, description string) core.KeyVersion {
	v := newVersion(keyID, versionID, created)
	v.Digest = append([]byte("digest of "), versionID...)
	v.RotationType, v.ExpireAt, v.MaterialDescription = rt, expires, description
	return v
}

// testVersionsKeepImportedMaterialFields: a version's digest, rotation
// type, material expiry and description are stored by CreateKey (with one
// version and with several), AddVersion and ReplaceVersion, read back by
// GetVersion and ListVersions, and kept by RewrapVersions. A version
// without an expiry or a description reads as zero.
func testVersionsKeepImportedMaterialFields(t *testing.T, s Store) {
	ctx := context.Background()
	k := newKey("key-one", t0)
	k.Origin = "EXTERNAL"
	one := external(k.ID, k.PrimaryVersionID, t0, "", at(3600), "first material")
	if err := s.CreateKey(ctx, k, one); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	wantVersion(t, s, one)
	wantVersions(t, s, k.ID, one)

	many := newKey("key-many", t0)
	many.Origin = "EXTERNAL"
	w1 := external(many.ID, "w1", t0, "", at(7200), "w1 material")
	w2 := external(many.ID, "w2", at(1), core.RotationOnDemand, time.Time{}, "never expires")
	w3 := external(many.ID, "w3", at(2), core.RotationPending, at(86400), "")
	many.PrimaryVersionID = "w2"
	if err := s.CreateKey(ctx, many, w1, w2, w3); err != nil {
		t.Fatalf("CreateKey with three versions: %v", err)
	}
	for _, v := range []core.KeyVersion{w1, w2, w3} {
		wantVersion(t, s, v)
	}
	wantVersions(t, s, many.ID, w1, w2, w3)

	// Material imported for a rotation not yet made is added with its
	// digest; the key's primary version stays.
	pending := external(k.ID, "key-one-v2", at(10), core.RotationPending, at(5000), "for the next rotation")
	next := k
	next.Revision++
	if err := s.AddVersion(ctx, next, pending); err != nil {
		t.Fatalf("AddVersion of pending material: %v", err)
	}
	k = next
	wantKey(t, s, k)
	wantVersion(t, s, pending)
	wantVersions(t, s, k.ID, one, pending)
	plain := newVersion(k.ID, "key-one-v3", at(11))
	next = k
	next.PrimaryVersionID, next.Revision = plain.VersionID, k.Revision+1
	if err := s.AddVersion(ctx, next, plain); err != nil {
		t.Fatalf("AddVersion without imported material: %v", err)
	}
	k = next
	wantVersion(t, s, plain)
	wantVersions(t, s, k.ID, one, pending, plain)

	// A re-import changes the expiry and the description; the rest is
	// passed on as read.
	reimported := one
	reimported.Wrapped = []byte("re-imported material, wrapped")
	reimported.ExpireAt, reimported.MaterialDescription = at(9000), "re-imported"
	next = k
	next.Revision++
	if err := s.ReplaceVersion(ctx, next, reimported); err != nil {
		t.Fatalf("ReplaceVersion: %v", err)
	}
	k = next
	wantVersion(t, s, reimported)
	wantVersions(t, s, k.ID, reimported, pending, plain)

	// A new wrapping keeps them, though the version handed in has none.
	rw := s.(core.VersionRewrapper)
	rewrapped := func(v core.KeyVersion) core.KeyVersion {
		v.Wrapped = append([]byte("rewrapped:"), v.Wrapped...)
		v.Digest = append([]byte("resealed:"), v.Digest...)
		v.RootKeyID = rootB
		return v
	}
	bare := func(v core.KeyVersion) core.KeyVersion {
		return core.KeyVersion{KeyID: v.KeyID, VersionID: v.VersionID, Wrapped: v.Wrapped, Digest: v.Digest, RootKeyID: v.RootKeyID}
	}
	n, err := rw.RewrapVersions(ctx, []core.Rewrap{
		{Old: reimported, Next: bare(rewrapped(reimported))},
		{Old: pending, Next: bare(rewrapped(pending))},
		{Old: w3, Next: bare(rewrapped(w3))},
	})
	if err != nil || n != 3 {
		t.Fatalf("RewrapVersions = %d, %v; want 3", n, err)
	}
	wantVersions(t, s, k.ID, rewrapped(reimported), rewrapped(pending), plain)
	wantVersions(t, s, many.ID, w1, w2, rewrapped(w3))
}

// testReplaceVersionMakesAPendingRotation: a rotation made of pending
// material replaces the pending version with an on-demand one created
// when the rotation is, keeping its material, expiry and description; a
// pending version whose material is deleted keeps its digest alone.
func testReplaceVersionMakesAPendingRotation(t *testing.T, s Store) {
	ctx := context.Background()
	k := newKey("key-external", t0)
	k.Origin = "EXTERNAL"
	v1 := external(k.ID, k.PrimaryVersionID, t0, "", time.Time{}, "")
	if err := s.CreateKey(ctx, k, v1); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	pending := external(k.ID, "key-external-v2", at(10), core.RotationPending, at(3600), "rotation material")
	next := k
	next.Revision++
	if err := s.AddVersion(ctx, next, pending); err != nil {
		t.Fatalf("AddVersion: %v", err)
	}
	k = next
	wantVersions(t, s, k.ID, v1, pending)

	rotated := pending
	rotated.RotationType, rotated.CreatedAt = core.RotationOnDemand, at(20)
	next = k
	next.PrimaryVersionID, next.LastRotatedAt, next.Revision = rotated.VersionID, rotated.CreatedAt, k.Revision+1
	stale := next
	stale.Revision = k.Revision
	wantErr(t, "ReplaceVersion at a stale revision", s.ReplaceVersion(ctx, stale, rotated), core.ErrConflict)
	wantVersion(t, s, pending)
	if err := s.ReplaceVersion(ctx, next, rotated); err != nil {
		t.Fatalf("ReplaceVersion making the rotation: %v", err)
	}
	k = next
	wantKey(t, s, k)
	wantVersion(t, s, rotated)
	wantVersions(t, s, k.ID, v1, rotated)

	// Pending material deleted before its rotation: the version stays,
	// pending, with its digest and without material, expiry or
	// description.
	other := external(k.ID, "key-external-v3", at(30), core.RotationPending, at(7200), "to be deleted")
	next = k
	next.Revision++
	if err := s.AddVersion(ctx, next, other); err != nil {
		t.Fatalf("AddVersion: %v", err)
	}
	k = next
	cleared := other
	cleared.Wrapped, cleared.ExpireAt, cleared.MaterialDescription = nil, time.Time{}, ""
	next = k
	next.Revision++
	if err := s.ReplaceVersion(ctx, next, cleared); err != nil {
		t.Fatalf("ReplaceVersion clearing pending material: %v", err)
	}
	wantVersion(t, s, cleared)
	wantVersions(t, s, k.ID, v1, rotated, cleared)
}
