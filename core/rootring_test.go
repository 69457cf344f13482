package core_test

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/store/bolt"
)

func randomRoot(t *testing.T) *core.RootKey {
	t.Helper()
	raw, err := core.GenerateRootKey()
	if err != nil {
		t.Fatal(err)
	}
	defer clear(raw)
	return mustRoot(t, raw)
}

var operator = &core.Principal{Name: "operator", AccessKeyID: "operator", Policy: core.FullAccess()}

func do(t *testing.T, s *core.Service, action string, params core.Params) (any, error) {
	t.Helper()
	return s.Handle(context.Background(), &core.Request{ID: "r", Action: action, Params: params, Caller: operator})
}

// rootedService is a service over store with the given root keys and a cache
// of its own.
func rootedService(t *testing.T, store core.KeyStore, current *core.RootKey, previous ...*core.RootKey) *core.Service {
	t.Helper()
	s, err := core.New(core.Config{Store: store, Root: current, PreviousRoots: previous, Cache: inproc.NewCache(time.Hour, 100)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRootIDIsAStableFingerprintOfTheKey(t *testing.T) {
	raw := make([]byte, 32)
	a, b := mustRoot(t, raw), mustRoot(t, raw)
	other := randomRoot(t)
	if a.ID() != b.ID() || len(a.ID()) != 16 || a.ID() == other.ID() {
		t.Fatalf("IDs %q %q %q: want 16 hex digits, equal for equal keys only", a.ID(), b.ID(), other.ID())
	}
	if strings.Contains(base64.StdEncoding.EncodeToString(raw), a.ID()) {
		t.Fatal("the ID shows the key")
	}
}

func TestVersionsRecordTheirRootKeyAndOpenAfterRotation(t *testing.T) {
	ctx := context.Background()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "kms.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	oldRoot, newRoot := randomRoot(t), randomRoot(t)
	before := rootedService(t, store, oldRoot)
	out, err := do(t, before, "CreateKey", nil)
	if err != nil {
		t.Fatal(err)
	}
	k := out.(core.Key)
	v, err := store.GetVersion(ctx, k.ID, k.PrimaryVersionID)
	if err != nil || v.RootKeyID != oldRoot.ID() {
		t.Fatalf("a new version records root key %q (%v), want %q", v.RootKeyID, err, oldRoot.ID())
	}
	sealed, err := do(t, before, "Encrypt", core.Params{"KeyId": k.ID, "Plaintext": "aGk="})
	if err != nil {
		t.Fatal(err)
	}
	blob := base64.StdEncoding.EncodeToString(sealed.(core.Sealed).Blob)
	decrypt := func(s *core.Service) error {
		_, err := do(t, s, "Decrypt", core.Params{"CiphertextBlob": blob})
		return err
	}

	// Only the new key: the version names a root key it does not have.
	if err := decrypt(rootedService(t, store, newRoot)); err == nil {
		t.Fatal("a version wrapped by a root key the service lacks opened")
	}
	// Both keys, and a cache that read the version before the rotation.
	serving := rootedService(t, store, newRoot, oldRoot)
	if err := decrypt(serving); err != nil {
		t.Fatalf("during the rotation: %v", err)
	}
	p, err := rootedService(t, store, newRoot, oldRoot).RewrapRoot(ctx, core.RewrapOptions{})
	if err != nil || p.Rewrapped != 1 || p.Passes != 2 {
		t.Fatalf("RewrapRoot = %+v, %v; want one version re-wrapped, then a pass with nothing left", p, err)
	}
	if v, _ := store.GetVersion(ctx, k.ID, k.PrimaryVersionID); v.RootKeyID != newRoot.ID() {
		t.Fatalf("after the rotation the version records %q", v.RootKeyID)
	}
	if err := decrypt(rootedService(t, store, newRoot)); err != nil {
		t.Fatalf("with the old root key dropped: %v", err)
	}
	// A cache still holding the version as it was before, on an instance
	// that dropped the old key, reads it again from the store.
	stale := inproc.NewCache(time.Hour, 100)
	if _, err := stale.Version(ctx, core.VersionOf(&k, k.PrimaryVersionID), func(context.Context, string, string) (core.KeyVersion, error) { return v, nil }); err != nil {
		t.Fatal(err)
	}
	dropped, err := core.New(core.Config{Store: store, Root: newRoot, Cache: stale})
	if err != nil {
		t.Fatal(err)
	}
	if err := decrypt(dropped); err != nil {
		t.Fatalf("through a stale cache: %v", err)
	}
}

func TestVersionsWithoutRootKeyIDAreTriedUnderEachKey(t *testing.T) {
	ctx := context.Background()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "kms.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	oldRoot, newRoot := randomRoot(t), randomRoot(t)
	out, err := do(t, rootedService(t, store, oldRoot), "CreateKey", nil)
	if err != nil {
		t.Fatal(err)
	}
	k := out.(core.Key)
	v, _ := store.GetVersion(ctx, k.ID, k.PrimaryVersionID)
	legacy := v
	legacy.RootKeyID = ""
	if n, err := store.RewrapVersions(ctx, []core.Rewrap{{Old: v, Next: legacy}}); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	if _, err := do(t, rootedService(t, store, newRoot, oldRoot), "Encrypt", core.Params{"KeyId": k.ID, "Plaintext": "aGk="}); err != nil {
		t.Fatalf("a version without a root key ID under the previous key: %v", err)
	}
	if _, err := rootedService(t, store, newRoot, oldRoot).RewrapRoot(ctx, core.RewrapOptions{}); err != nil {
		t.Fatal(err)
	}
	if v, _ := store.GetVersion(ctx, k.ID, k.PrimaryVersionID); v.RootKeyID != newRoot.ID() {
		t.Fatalf("the re-wrapped legacy version records %q", v.RootKeyID)
	}
	// A rotation missing the key that wrapped a version stops and says which.
	_, err = rootedService(t, store, randomRoot(t)).RewrapRoot(ctx, core.RewrapOptions{})
	if err == nil || !strings.Contains(err.Error(), newRoot.ID()) || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("RewrapRoot without the wrapping key: %v", err)
	}
}
