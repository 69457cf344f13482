package storetest

import (
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
)

// release1Files is what the first release wrote: its bbolt file, a dump of its
// PostgreSQL database holding the same records, the root key and the
// CiphertextBlobs it handed out (testdata/release-1/README.md).
//
//go:embed testdata/release-1
var release1Files embed.FS

// Release1File returns one file of testdata/release-1: "kms.db" for the
// bbolt store, "postgres.sql" for the PostgreSQL one.
func Release1File(name string) []byte {
	b, err := release1Files.ReadFile("testdata/release-1/" + name)
	if err != nil {
		panic(err)
	}
	return b
}

// Release1 checks that a store holding what the first release wrote serves it
// through a real core.Service: every key, version, alias and partition record
// reads back, every blob opens to its plaintext, the disabled key is still
// disabled, and the store takes new writes. open must return a new store
// loaded with the release's records each time it is called.
func Release1(t *testing.T, open func(t *testing.T) Store) {
	for name, check := range map[string]func(*testing.T, *serviceOn, release1){
		"StoreReadsBack":      release1ReadsBack,
		"BlobsDecrypt":        release1BlobsDecrypt,
		"PartitionsRead":      release1PartitionsRead,
		"StoreTakesNewWrites": release1TakesNewWrites,
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			check(t, newServiceOn(t, s), readRelease1(t))
		})
	}
}

// release1 is testdata/release-1/fixture.json: what the first release wrote
// and handed to its callers.
type release1 struct {
	Keys []struct {
		ID               string   `json:"id"`
		Description      string   `json:"description"`
		State            string   `json:"state"`
		PrimaryVersionID string   `json:"primaryVersionId"`
		Versions         []string `json:"versions"`
		Aliases          []string `json:"aliases"`
		RotationInterval string   `json:"rotationInterval"`
		DeleteDate       string   `json:"deleteDate"`
	} `json:"keys"`
	Blobs []struct {
		Name              string `json:"name"`
		KeyID             string `json:"keyId"`
		KeyVersionID      string `json:"keyVersionId"`
		CiphertextBlob    string `json:"ciphertextBlob"`
		Plaintext         string `json:"plaintext"`
		EncryptionContext string `json:"encryptionContext"`
	} `json:"blobs"`
	Partitions []struct {
		ID                string            `json:"id"`
		KeyID             string            `json:"keyId"`
		KeyVersionID      string            `json:"keyVersionId"`
		CiphertextBlob    string            `json:"ciphertextBlob"`
		EncryptionContext map[string]string `json:"encryptionContext"`
		Plaintext         string            `json:"plaintext"`
	} `json:"partitions"`
}

// fixedClock is a core.Clock stopped a day after the fixture was written, so
// that no rotation falls due and no deletion date passes while the test reads.
type fixedClock struct{}

func (fixedClock) Now() time.Time { return time.Date(2026, 1, 14, 12, 0, 0, 0, time.UTC) }

// serviceOn is a core.Service over a store under the release's root key, with
// an admin to call it.
type serviceOn struct {
	t     *testing.T
	store Store
	svc   *core.Service
	admin *core.Principal
}

func newServiceOn(t *testing.T, store Store) *serviceOn {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(Release1File("root.key"))))
	if err != nil {
		t.Fatal(err)
	}
	rk, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := core.New(core.Config{Store: store, Partitions: store, Root: rk, Clock: fixedClock{},
		Region: "cn-hangzhou", AccountID: "1234567890123456"})
	if err != nil {
		t.Fatal(err)
	}
	return &serviceOn{t: t, store: store, svc: svc,
		admin: &core.Principal{Name: "admin", AccessKeyID: "LTAIadmin", Policy: core.FullAccess()}}
}

func (s *serviceOn) call(action string, kv ...string) (any, error) {
	p := core.Params{}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	result, err := s.svc.Handle(context.Background(), &core.Request{ID: "REQ", Action: action, Params: p, Caller: s.admin})
	if err != nil {
		return nil, err
	}
	return alibaba.Response(s.svc, "REQ", result)
}

func (s *serviceOn) ok(action string, kv ...string) any {
	s.t.Helper()
	r, err := s.call(action, kv...)
	if err != nil {
		s.t.Fatalf("%s %q: %v", action, kv, err)
	}
	return r
}

func code(err error) string {
	var ke *core.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return "not a KMS error: " + err.Error()
}

// readRelease1 reads fixture.json.
func readRelease1(t *testing.T) release1 {
	t.Helper()
	var want release1
	if err := json.Unmarshal(Release1File("fixture.json"), &want); err != nil {
		t.Fatal(err)
	}
	if len(want.Keys) != 4 || len(want.Blobs) == 0 || len(want.Partitions) != 2 {
		t.Fatalf("fixture.json holds %d keys, %d blobs, %d partitions: not the release-1 fixture", len(want.Keys), len(want.Blobs), len(want.Partitions))
	}
	return want
}

func release1ReadsBack(t *testing.T, s *serviceOn, want release1) {
	ids := make([]string, 0, len(want.Keys))
	for _, k := range want.Keys {
		ids = append(ids, k.ID)
		m := s.ok("DescribeKey", "KeyId", k.ID).(*alibaba.KeyMetadataResponse).KeyMetadata
		if m.Description != k.Description || m.KeyState != k.State || m.PrimaryKeyVersion != k.PrimaryVersionID ||
			m.RotationInterval != k.RotationInterval || m.DeleteDate != k.DeleteDate {
			t.Errorf("DescribeKey(%s) = %+v, want %+v", k.ID, m, k)
		}
		var versions []string
		for _, v := range s.ok("ListKeyVersions", "KeyId", k.ID, "PageSize", "100").(*alibaba.ListKeyVersionsResponse).KeyVersions.KeyVersion {
			versions = append(versions, v.KeyVersionId)
		}
		if !slices.Equal(versions, k.Versions) {
			t.Errorf("versions of %s = %q, want %q", k.ID, versions, k.Versions)
		}
		// The release recorded no rotation type: its versions have none,
		// and ListKeyRotations over AWS reports none for them. Nor did it
		// record a version's material expiry or description: none expires
		// and none is described.
		stored, _, err := s.store.ListVersions(context.Background(), k.ID, core.Page{})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range stored {
			if v.RotationType != "" {
				t.Errorf("version %s of %s has rotation type %q, which the release never wrote", v.VersionID, k.ID, v.RotationType)
			}
			if !v.ExpireAt.IsZero() || v.MaterialDescription != "" {
				t.Errorf("version %s of %s expires at %v, described %q, which the release never wrote", v.VersionID, k.ID, v.ExpireAt, v.MaterialDescription)
			}
		}
		var aliases []string
		for _, a := range s.ok("ListAliasesByKeyId", "KeyId", k.ID, "PageSize", "100").(*alibaba.ListAliasesResponse).Aliases.Alias {
			aliases = append(aliases, a.AliasName)
		}
		if !slices.Equal(aliases, k.Aliases) {
			t.Errorf("aliases of %s = %q, want %q", k.ID, aliases, k.Aliases)
		}
		for _, alias := range k.Aliases {
			if m := s.ok("DescribeKey", "KeyId", alias).(*alibaba.KeyMetadataResponse).KeyMetadata; m.KeyId != k.ID {
				t.Errorf("%s resolves to %s, want %s", alias, m.KeyId, k.ID)
			}
		}
	}
	var listed []string
	for _, k := range s.ok("ListKeys", "PageSize", "100").(*alibaba.ListKeysResponse).Keys.Key {
		listed = append(listed, k.KeyId)
	}
	if !slices.Equal(listed, ids) {
		t.Errorf("ListKeys = %q, want %q in creation order", listed, ids)
	}
}

func release1BlobsDecrypt(t *testing.T, s *serviceOn, want release1) {
	state := map[string]string{}
	for _, k := range want.Keys {
		state[k.ID] = k.State
	}
	refused := map[string]string{"Disabled": core.CodeDisabled, "PendingDeletion": core.CodePendingDeletion}
	decrypt := func(name, blob, ectx, keyID, versionID, plaintext string) {
		t.Helper()
		r, err := s.call("Decrypt", "CiphertextBlob", blob, "EncryptionContext", ectx)
		if wantCode, ok := refused[state[keyID]]; ok {
			if code(err) != wantCode {
				t.Errorf("%s: Decrypt under a key that is %s: %v, want %s", name, state[keyID], err, wantCode)
			}
			return
		}
		if err != nil {
			t.Errorf("%s: Decrypt: %v", name, err)
			return
		}
		d := r.(*alibaba.DecryptResponse)
		if d.Plaintext != plaintext || d.KeyId != keyID || d.KeyVersionId != versionID {
			t.Errorf("%s: Decrypt = key %s version %s, plaintext equal %v; want %s %s", name, d.KeyId, d.KeyVersionId, d.Plaintext == plaintext, keyID, versionID)
		}
	}
	checkAll := func() {
		t.Helper()
		for _, b := range want.Blobs {
			decrypt(b.Name, b.CiphertextBlob, b.EncryptionContext, b.KeyID, b.KeyVersionID, b.Plaintext)
		}
		for _, p := range want.Partitions {
			ectx, err := json.Marshal(p.EncryptionContext)
			if err != nil {
				t.Fatal(err)
			}
			decrypt("partition "+p.ID, p.CiphertextBlob, string(ectx), p.KeyID, p.KeyVersionID, p.Plaintext)
		}
	}
	checkAll()

	// The blobs the release sealed under its disabled key and its key pending
	// deletion were refused for the key's state, not for their bytes: back in
	// service, those keys open them.
	for _, k := range want.Keys {
		switch k.State {
		case "Disabled":
			s.ok("EnableKey", "KeyId", k.ID)
		case "PendingDeletion":
			s.ok("CancelKeyDeletion", "KeyId", k.ID)
		}
		state[k.ID] = "Enabled"
	}
	checkAll()

	// A blob whose context is changed does not open: the stored context binding
	// is read, not skipped.
	b := want.Blobs[len(want.Blobs)-1]
	if _, err := s.call("Decrypt", "CiphertextBlob", b.CiphertextBlob, "EncryptionContext", `{"other":"context"}`); code(err) != core.CodeInvalidCiphertext {
		t.Errorf("%s under another context: %v, want %s", b.Name, err, core.CodeInvalidCiphertext)
	}
}

func release1PartitionsRead(t *testing.T, s *serviceOn, want release1) {
	for _, p := range want.Partitions {
		stored, err := s.store.GetPartition(context.Background(), p.ID)
		if err != nil {
			t.Fatalf("GetPartition(%s): %v", p.ID, err)
		}
		blob, _ := base64.StdEncoding.DecodeString(p.CiphertextBlob)
		if stored.KeyID != p.KeyID || stored.KeyVersionID != p.KeyVersionID || !reflect.DeepEqual(stored.CiphertextBlob, blob) ||
			!maps.Equal(stored.EncryptionContext, p.EncryptionContext) || stored.CreatedAt.IsZero() {
			t.Errorf("stored partition record = %+v, want %+v", stored, p)
		}
	}

	p := want.Partitions[0]
	r := s.ok("GetPartitionDataKey", "PartitionId", p.ID).(*alibaba.PartitionDataKeyResponse)
	if r.KeyId != p.KeyID || r.KeyVersionId != p.KeyVersionID || r.CiphertextBlob != p.CiphertextBlob ||
		!maps.Equal(map[string]string(r.EncryptionContext), p.EncryptionContext) {
		t.Errorf("GetPartitionDataKey(%s) = %+v, want %+v", p.ID, r, p)
	}

	// The release accepted "/" and ":" in partition IDs; they were dropped
	// since, so that no key or alias pattern can match a partition's ARN. Such
	// a record is still stored and its blob still decrypts (above), but
	// GetPartitionDataKey no longer names it.
	legacy := want.Partitions[1]
	if !strings.ContainsAny(legacy.ID, "/:") {
		t.Fatalf("partition %s was meant to carry a character the release allowed and this code refuses", legacy.ID)
	}
	if _, err := s.call("GetPartitionDataKey", "PartitionId", legacy.ID); code(err) != core.CodeInvalidParameter {
		t.Errorf("GetPartitionDataKey(%s): %v, want %s", legacy.ID, err, core.CodeInvalidParameter)
	}
}

// The release's file takes new writes: a rotation adds a version to a key it
// wrote, and the new version and the old ones both serve. It also stores
// records of kinds added since, which opening it made room for.
func release1TakesNewWrites(t *testing.T, s *serviceOn, want release1) {
	k := want.Keys[0]
	v := s.ok("CreateKeyVersion", "KeyId", k.ID).(*alibaba.KeyVersionResponse).KeyVersion.KeyVersionId
	if slices.Contains(k.Versions, v) {
		t.Fatalf("the new version %s reuses an old ID", v)
	}
	e := s.ok("Encrypt", "KeyId", k.Aliases[0], "Plaintext", "bmV3", "EncryptionContext", `{"a":"b"}`).(*alibaba.CiphertextResponse)
	if e.KeyVersionId != v {
		t.Fatalf("Encrypt used version %s, want the new primary %s", e.KeyVersionId, v)
	}
	if d := s.ok("Decrypt", "CiphertextBlob", e.CiphertextBlob, "EncryptionContext", `{"a":"b"}`).(*alibaba.DecryptResponse); d.Plaintext != "bmV3" {
		t.Fatal("the new blob decrypted to something else")
	}
	old := want.Blobs[0]
	if d := s.ok("Decrypt", "CiphertextBlob", old.CiphertextBlob, "EncryptionContext", old.EncryptionContext).(*alibaba.DecryptResponse); d.Plaintext != old.Plaintext {
		t.Fatalf("%s decrypted to something else after a rotation", old.Name)
	}

	c := uploaded(newCertificate("5e0f3b7a-2c1d-4f6e-8a9b-0c1d2e3f4a5b", t0), at(1))
	createCertificate(t, s.store, c)
	wantCertificate(t, s.store, c)

	wantUsage(t, s.store, k.ID, core.KeyUsage{})
	use := core.KeyUsage{Action: "Encrypt", At: usedAt(1), RequestID: "req-release1"}
	recordUsage(t, s.store, k.ID, use)
	wantUsage(t, s.store, k.ID, use)
}
