package config

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

var (
	ordersV1 = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x11}, 32))
	ordersV2 = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x22}, 32))
	ledger   = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x33}, 32))
	other    = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x44}, 32))
)

const seedFile = `
keys:
  - keyId: key-orders0000000000000001
    description: orders
    aliases: [alias/orders]
    tags: {team: payments}
    enableAutomaticRotation: true
    rotationInterval: 30d
    versions:
      - material: ` + "%V1%" + `
      - versionId: 2b1c0a9e-0000-4000-8000-000000000002
        material: ` + "%V2%" + `
  - keyId: key-ledger0000000000000001
    state: Disabled
    deletionProtection: true
    deletionProtectionDescription: audited
    material: ` + "%LEDGER%" + `
  - keyId: key-scratch000000000000001
    aliases: [alias/scratch]
`

func writeSeed(t *testing.T, text string) string {
	t.Helper()
	text = strings.NewReplacer("%V1%", ordersV1, "%V2%", ordersV2, "%LEDGER%", ledger).Replace(text)
	path := filepath.Join(t.TempDir(), "seed.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func seeded(t *testing.T, dataDir, seedPath string, logs *bytes.Buffer) (*Service, error) {
	t.Helper()
	set, err := Read(env(map[string]string{"KMS_DATA_DIR": dataDir, "KMS_SEED_FILE": seedPath}))
	if err != nil {
		t.Fatal(err)
	}
	return Wire(context.Background(), set, slog.New(slog.NewTextHandler(logs, nil)))
}

func call(t *testing.T, svc *Service, action string, p core.Params) (any, error) {
	t.Helper()
	return svc.KMS.Handle(context.Background(), &core.Request{Action: action, Params: p, Caller: svc.DevPrincipal})
}

func TestSeededInstancesDecryptEachOthersBlobs(t *testing.T) {
	path := writeSeed(t, seedFile)
	var logs bytes.Buffer
	a, err := seeded(t, t.TempDir(), path, &logs)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := seeded(t, t.TempDir(), path, &logs)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, m := range []string{ordersV1, ordersV2, ledger} {
		if strings.Contains(logs.String(), m) {
			t.Fatal("seeded material reached the log")
		}
	}
	// Each has its own root key; the keys' material is the seed's.
	ctx := core.Params{"EncryptionContext": `{"PartitionId":"p-1"}`}
	for _, pair := range [][2]*Service{{a, b}, {b, a}} {
		sealed, err := call(t, pair[0], "GenerateDataKey", core.Params{"KeyId": "alias/orders", "EncryptionContext": ctx["EncryptionContext"]})
		if err != nil {
			t.Fatal(err)
		}
		dk := sealed.(core.DataKey)
		if dk.VersionID != "2b1c0a9e-0000-4000-8000-000000000002" {
			t.Errorf("sealed under version %s, want the last seeded one", dk.VersionID)
		}
		opened, err := call(t, pair[1], "Decrypt", core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(dk.Blob), "EncryptionContext": ctx["EncryptionContext"]})
		if err != nil {
			t.Fatalf("the other instance cannot decrypt: %v", err)
		}
		if !bytes.Equal(opened.(core.Opened).Plaintext, dk.Plaintext) {
			t.Fatal("the other instance opened another data key")
		}
	}
	desc, err := call(t, a, "DescribeKey", core.Params{"KeyId": "key-ledger0000000000000001"})
	if err != nil {
		t.Fatal(err)
	}
	k := desc.(core.Key)
	if k.State != core.KeyDisabled || !k.DeletionProtection || k.DeletionProtectionDescription != "audited" {
		t.Errorf("ledger key = %+v", k)
	}
	desc, _ = call(t, b, "DescribeKey", core.Params{"KeyId": "alias/orders"})
	if k := desc.(core.Key); !k.AutomaticRotation || k.RotationInterval.Hours() != 30*24 || k.Tags["team"] != "payments" {
		t.Errorf("orders key = %+v", k)
	}
	// A key seeded without material is made once per store: usable, but its
	// own on each instance.
	if _, err := call(t, a, "Encrypt", core.Params{"KeyId": "alias/scratch", "Plaintext": "aGk="}); err != nil {
		t.Fatal(err)
	}
}

func TestRestartAppliesTheSeedOnce(t *testing.T) {
	path := writeSeed(t, seedFile)
	dir := t.TempDir()
	var logs bytes.Buffer
	svc, err := seeded(t, dir, path, &logs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "created=3") {
		t.Fatalf("first start: %s", logs.String())
	}
	scratch, _ := call(t, svc, "DescribeKey", core.Params{"KeyId": "alias/scratch"})
	sealed, err := call(t, svc, "Encrypt", core.Params{"KeyId": "alias/scratch", "Plaintext": "aGk="})
	if err != nil {
		t.Fatal(err)
	}
	// Changes made through the API stand across restarts.
	if _, err := call(t, svc, "UpdateKeyDescription", core.Params{"KeyId": "alias/orders", "Description": "changed"}); err != nil {
		t.Fatal(err)
	}
	svc.Close()

	logs.Reset()
	again, err := seeded(t, dir, path, &logs)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if !strings.Contains(logs.String(), "created=0 existing=3 aliases=0") {
		t.Fatalf("restart: %s", logs.String())
	}
	desc, _ := call(t, again, "DescribeKey", core.Params{"KeyId": "alias/orders"})
	if d := desc.(core.Key).Description; d != "changed" {
		t.Errorf("the restart reset the description to %q", d)
	}
	desc, _ = call(t, again, "DescribeKey", core.Params{"KeyId": "alias/scratch"})
	if desc.(core.Key).PrimaryVersionID != scratch.(core.Key).PrimaryVersionID {
		t.Error("the restart made the generated key new material")
	}
	if _, err := call(t, again, "Decrypt", core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(sealed.(core.Sealed).Blob)}); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	vs, _ := call(t, again, "ListKeyVersions", core.Params{"KeyId": "alias/orders"})
	if n := vs.(core.Listing[core.KeyVersion]).Total; n != 2 {
		t.Errorf("orders has %d versions after the restart, want 2", n)
	}
}

func TestConflictingSeedStopsStartUpAndChangesNothing(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	svc, err := seeded(t, dir, writeSeed(t, seedFile), &logs)
	if err != nil {
		t.Fatal(err)
	}
	svc.Close()
	cases := map[string]struct {
		seed  string
		names []string
	}{
		"same key ID, other material": {`
keys:
  - keyId: key-fresh0000000000000001
    aliases: [alias/fresh]
  - keyId: key-ledger0000000000000001
    material: ` + other + "\n", []string{"key-ledger0000000000000001", "other material"}},
		"alias on another key": {`
keys:
  - keyId: key-fresh0000000000000001
    aliases: [alias/fresh, alias/orders]
`, []string{"alias/orders", "key-orders0000000000000001"}},
		"a seeded version the key lacks": {`
keys:
  - keyId: key-fresh0000000000000001
  - keyId: key-orders0000000000000001
    versions:
      - versionId: 2b1c0a9e-0000-4000-8000-000000000009
        material: ` + ordersV1 + "\n", []string{"key-orders0000000000000001", "2b1c0a9e-0000-4000-8000-000000000009"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := seeded(t, dir, writeSeed(t, c.seed), &logs)
			var conflict *core.SeedConflict
			if !errors.As(err, &conflict) {
				t.Fatalf("start-up with a conflicting seed: %v", err)
			}
			for _, n := range c.names {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("the error does not name %s: %v", n, err)
				}
			}
			if strings.Contains(err.Error(), other) || strings.Contains(err.Error(), ordersV1) {
				t.Fatal("the error carries material")
			}
			// Nothing of the refused seed was applied.
			check, err := seeded(t, dir, "", &logs)
			if err != nil {
				t.Fatal(err)
			}
			defer check.Close()
			if _, err := call(t, check, "DescribeKey", core.Params{"KeyId": "key-fresh0000000000000001"}); core.AsError(err).Code != core.CodeKeyNotFound {
				t.Errorf("the refused seed created a key: %v", err)
			}
			if _, err := call(t, check, "DescribeKey", core.Params{"KeyId": "alias/fresh"}); core.AsError(err).Code != core.CodeAliasNotFound {
				t.Errorf("the refused seed created an alias: %v", err)
			}
		})
	}
}

// Instances starting together on one PostgreSQL store seed it once between
// them: whichever creates a key first, the others find it and agree.
func TestInstancesSeedingOneStoreTogether(t *testing.T) {
	url := storetest.PostgresDatabase(t, "seed")
	path := writeSeed(t, seedFile)
	root := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 32))
	const n = 4
	svcs := make([]*Service, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			set, err := Read(env(map[string]string{"KMS_DATA_DIR": t.TempDir(), "KMS_STORE": url, "KMS_ROOT_KEY": root, "KMS_SEED_FILE": path}))
			if err != nil {
				errs[i] = err
				return
			}
			svcs[i], errs[i] = Wire(context.Background(), set, quiet())
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		defer svcs[i].Close()
	}
	keys, total, err := svcs[0].KMS.Store().ListKeys(context.Background(), time.Time{}, core.Page{})
	if err != nil || total != 3 {
		t.Fatalf("the store holds %d keys (%v), want 3: %+v", total, err, keys)
	}
	vs, total, _ := svcs[0].KMS.Store().ListVersions(context.Background(), "key-orders0000000000000001", core.Page{})
	if total != 2 {
		t.Fatalf("orders has %d versions, want 2: %+v", total, vs)
	}
}
