package storecopy_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/store/bolt"
	"github.com/kmsless/kmsless/infra/store/postgres"
	"github.com/kmsless/kmsless/infra/store/storecopy"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

var bg = context.Background()

var admin = &core.Principal{Name: "admin", AccessKeyID: "LTAI5tAdmin000000000001", Policy: core.FullAccess()}

// service is a core.Service on st under root.
func service(t testing.TB, st storecopy.Store, root *core.RootKey) *core.Service {
	t.Helper()
	svc, err := core.New(core.Config{Store: st, Partitions: st, Secrets: st, Grants: st, Certificates: st, Usage: st, Access: st,
		Root: root, Region: "cn-hangzhou", AccountID: "1234567890123456"})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// newSource is an empty bbolt store under a new root key, and a service on
// it to fill it with.
func newSource(tb testing.TB) (*bolt.Store, *core.RootKey, *core.Service) {
	tb.Helper()
	rootBytes := make([]byte, 32)
	_, _ = rand.Read(rootBytes)
	root, err := core.NewRootKey(rootBytes)
	if err != nil {
		tb.Fatal(err)
	}
	src, err := bolt.Open(filepath.Join(tb.TempDir(), "source.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { src.Close() })
	return src, root, service(tb, src, root)
}

// do runs action on svc as the admin and hands back its Alibaba response.
func do(t testing.TB, svc *core.Service, action string, kv ...string) any {
	t.Helper()
	p := core.Params{}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	res, err := svc.Handle(bg, &core.Request{ID: "copy-test", Action: action, Params: p, Caller: admin})
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	out, err := alibaba.Response(svc, "copy-test", res)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return out
}

// fill puts a record of every kind into st through the service, and
// returns a blob a key sealed and that key's alias.
func fill(t *testing.T, svc *core.Service, st storecopy.Store) (blob string) {
	t.Helper()
	key := do(t, svc, "CreateKey", "Description", "orders").(*alibaba.KeyMetadataResponse).KeyMetadata.KeyId
	do(t, svc, "CreateKeyVersion", "KeyId", key)
	do(t, svc, "CreateKeyVersion", "KeyId", key)
	do(t, svc, "CreateKey", "KeySpec", "EC_P256", "KeyUsage", "SIGN/VERIFY")
	doomed := do(t, svc, "CreateKey").(*alibaba.KeyMetadataResponse).KeyMetadata.KeyId
	do(t, svc, "ScheduleKeyDeletion", "KeyId", doomed, "PendingWindowInDays", "7")
	do(t, svc, "CreateAlias", "AliasName", "alias/orders", "KeyId", key)
	do(t, svc, "TagResource", "KeyId", key, "Tags", `[{"TagKey":"team","TagValue":"payments"}]`)
	do(t, svc, "CreateGrant", "KeyId", key, "GranteePrincipal", "acs:ram::1234567890123456:user/app",
		"Operations", `["Decrypt"]`, "Name", "app-decrypt")
	blob = do(t, svc, "Encrypt", "KeyId", "alias/orders", "Plaintext", "aGVsbG8=",
		"EncryptionContext", `{"tenant":"a"}`).(*alibaba.CiphertextResponse).CiphertextBlob
	do(t, svc, "CreateSecret", "SecretName", "db", "VersionId", "v1", "SecretData", "first", "EncryptionKeyId", key)
	do(t, svc, "PutSecretValue", "SecretName", "db", "VersionId", "v2", "SecretData", "second")
	do(t, svc, "CreateCertificate", "Subject", "CN=app,OU=Ops,O=Example,C=CN", "KeySpec", "EC_P256")
	do(t, svc, "CreateNetworkRule", "Name", "office", "SourcePrivateIp", `["10.0.0.0/8"]`)
	do(t, svc, "CreatePolicy", "Name", "users", "Permissions", `["RbacPermission/Template/CryptoServiceKeyUser"]`,
		"Resources", `["key/*"]`, "KmsInstance", "kst-1", "AccessControlRules", `{"NetworkRules":["office"]}`)
	for _, id := range []string{"tenant-b", "tenant-a"} {
		if _, _, err := st.CreatePartition(bg, core.Partition{ID: id, KeyID: key, KeyVersionID: "v", CiphertextBlob: []byte(id),
			EncryptionContext: map[string]string{"PartitionId": id}, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}); err != nil {
			t.Fatal(err)
		}
	}
	return blob
}

// addExpired puts into st, through the service, a key with an alias and a
// grant, and a secret, and moves their deletion dates into the past: records
// no caller can reach, which no request has purged yet.
func addExpired(t *testing.T, svc *core.Service, st storecopy.Store) {
	t.Helper()
	key := do(t, svc, "CreateKey").(*alibaba.KeyMetadataResponse).KeyMetadata.KeyId
	do(t, svc, "CreateAlias", "AliasName", "alias/expired", "KeyId", key)
	do(t, svc, "CreateGrant", "KeyId", key, "GranteePrincipal", "acs:ram::1234567890123456:user/app",
		"Operations", `["Decrypt"]`, "Name", "expired")
	do(t, svc, "CreateSecret", "SecretName", "expired", "VersionId", "v1", "SecretData", "old", "EncryptionKeyId", key)
	do(t, svc, "ScheduleKeyDeletion", "KeyId", key, "PendingWindowInDays", "7")
	do(t, svc, "DeleteSecret", "SecretName", "expired", "RecoveryWindowInDays", "7")
	storetest.Expire(t, st, key)
	storetest.ExpireSecret(t, st, "expired")
}

// snapshot is every record a store holds, read through its port, in a form
// that compares across stores.
func snapshot(t *testing.T, st storecopy.Store) string {
	t.Helper()
	all := map[string]any{}
	keys, err := st.ListKeysAfter(bg, time.Time{}, core.KeyPosition{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	all["keys"] = keys
	for _, k := range keys {
		vs, _, err := st.ListVersions(bg, k.ID, core.Page{})
		if err != nil {
			t.Fatal(err)
		}
		grants, err := st.ListGrants(bg, k.ID, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		u, _, err := st.KeyUsage(bg, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		all["versions/"+k.ID], all["grants/"+k.ID], all["usage/"+k.ID] = vs, grants, u
	}
	all["aliases"], _, err = st.ListAliases(bg, "", time.Time{}, core.Page{})
	if err != nil {
		t.Fatal(err)
	}
	secrets, _, err := st.ListSecrets(bg, time.Time{}, core.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if all["secret/"+s.Name], err = st.GetSecret(bg, s.Name); err != nil {
			t.Fatal(err)
		}
	}
	if all["certificates"], err = st.ListCertificatesAfter(bg, "", 0); err != nil {
		t.Fatal(err)
	}
	if all["partitions"], err = st.ListPartitionsAfter(bg, "", 0); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{core.AccessNetworkRule, core.AccessPolicy, core.AccessPoint, core.AccessClientKey} {
		if all["access/"+kind], err = st.ListAccess(bg, kind); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.MarshalIndent(normalize(reflect.ValueOf(all)), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// normalize is v with every time in UTC at PostgreSQL's microseconds and
// empty collections as nil, the differences the stores' encodings allow.
func normalize(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if t, ok := v.Interface().(time.Time); ok {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC().Truncate(time.Microsecond)
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return normalize(v.Elem())
	case reflect.Slice:
		if v.Len() == 0 {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Bytes()
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = normalize(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.Len() == 0 {
			return nil
		}
		out := map[string]any{}
		for it := v.MapRange(); it.Next(); {
			out[it.Key().String()] = normalize(it.Value())
		}
		return out
	case reflect.Struct:
		out := map[string]any{}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				out[f.Name] = normalize(v.Field(i))
			}
		}
		return out
	}
	return v.Interface()
}

// TestCopyMovesEveryRecordAndTheCopyServes copies a bbolt store holding a
// record of every kind into PostgreSQL and into another bbolt file: each
// destination reads back exactly what the source holds, and a service on it,
// under the same root key, opens what the source sealed. A second copy into
// a destination that holds records is refused. A key and a secret past their
// deletion dates are left out, with the key's alias and grant: no caller can
// reach them, and their material is due for destruction, not for backups.
func TestCopyMovesEveryRecordAndTheCopyServes(t *testing.T) {
	src, root, svc := newSource(t)
	blob := fill(t, svc, src)
	want := snapshot(t, src)
	addExpired(t, svc, src)
	source := snapshot(t, src)

	pg, backup := newPostgres(t, "kmscopy"), newBolt(t)
	pgTx, backupTx := newPostgres(t, "kmscopytx"), newBolt(t)

	for name, dst := range map[string]struct {
		storecopy.Store
		copy func() (storecopy.Counts, error)
	}{
		"postgres": {pg, func() (storecopy.Counts, error) { return storecopy.Copy(bg, src, pg, time.Now()) }},
		"bolt":     {backup, func() (storecopy.Counts, error) { return storecopy.Copy(bg, src, backup, time.Now()) }},
		"postgres in a transaction": {pgTx, func() (storecopy.Counts, error) {
			return storecopy.CopyInTransaction[*postgres.Store](bg, src, pgTx, time.Now())
		}},
		"bolt in a transaction": {backupTx, func() (storecopy.Counts, error) {
			return storecopy.CopyInTransaction[*bolt.Store](bg, src, backupTx, time.Now())
		}},
	} {
		t.Run(name, func(t *testing.T) {
			n, err := dst.copy()
			if err != nil {
				t.Fatal(err)
			}
			wantCounts := storecopy.Counts{Keys: 3, Versions: 5, Aliases: 1, Grants: 1, Usages: 1, Secrets: 1, Certificates: 1, Partitions: 2, Access: 2}
			if n != wantCounts {
				t.Errorf("copied %s; want %s", n, wantCounts)
			}
			if got := snapshot(t, dst); got != want {
				t.Errorf("the copy differs from the source:\n--- copy\n%s\n--- source\n%s", got, want)
			}
			svc := service(t, dst, root)
			opened := do(t, svc, "Decrypt", "CiphertextBlob", blob, "EncryptionContext", `{"tenant":"a"}`).(*alibaba.DecryptResponse)
			if opened.Plaintext != "aGVsbG8=" {
				t.Errorf("Decrypt on the copy = %q", opened.Plaintext)
			}
			value := do(t, svc, "GetSecretValue", "SecretName", "db", "VersionStage", "ACSPrevious").(*alibaba.SecretValueResponse)
			if value.SecretData != "first" || value.VersionId != "v1" {
				t.Errorf("GetSecretValue on the copy = %+v", value)
			}
			held := snapshot(t, dst)
			if _, err := dst.copy(); !errors.Is(err, storecopy.ErrNotEmpty) {
				t.Errorf("a second copy: %v; want ErrNotEmpty", err)
			}
			if snapshot(t, dst) != held {
				t.Error("the refused second copy changed the destination")
			}
		})
	}
	if snapshot(t, src) != source {
		t.Error("copying changed the source")
	}
}

// writesDuring is a source store that has others write while the copy runs:
// during runs once, when the copy lists aliases, after it listed the keys.
type writesDuring struct {
	storecopy.Store
	during func()
}

func (w *writesDuring) ListAliasesAfter(ctx context.Context, keyID string, asOf time.Time, after core.AliasPosition, limit int) ([]core.Alias, error) {
	if w.during != nil {
		w.during()
		w.during = nil
	}
	return w.Store.ListAliasesAfter(ctx, keyID, asOf, after, limit)
}

// A PostgreSQL store copied from its Snapshot is copied as of one moment: a
// key and its alias made while the copy runs are left out together. Copied
// from the store itself, the new alias arrives without its key and the copy
// is refused, as it was before snapshots.
func TestACopyOfASnapshotLeavesOutWritesMadeDuringIt(t *testing.T) {
	rootBytes := make([]byte, 32)
	_, _ = rand.Read(rootBytes)
	root, err := core.NewRootKey(rootBytes)
	if err != nil {
		t.Fatal(err)
	}
	pg := newPostgres(t, "kmscopysnap")
	svc := service(t, pg, root)
	newKeyWithAlias := func(alias string) {
		key := do(t, svc, "CreateKey").(*alibaba.KeyMetadataResponse).KeyMetadata.KeyId
		do(t, svc, "CreateAlias", "KeyId", key, "AliasName", alias)
	}
	newKeyWithAlias("alias/before")

	snap, err := pg.Snapshot(bg)
	if err != nil {
		t.Fatal(err)
	}
	dst := newBolt(t)
	n, err := storecopy.Copy(bg, &writesDuring{Store: snap, during: func() { newKeyWithAlias("alias/during") }}, dst, time.Now())
	if err != nil {
		t.Fatalf("copying the snapshot: %v", err)
	}
	if want := (storecopy.Counts{Keys: 1, Versions: 1, Aliases: 1}); n != want {
		t.Errorf("copied %s; want %s", n, want)
	}
	if _, err := dst.GetAlias(bg, "alias/during"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("the alias made during the copy, in the copy: %v; want ErrNotFound", err)
	}
	if err := snap.DeleteAlias(bg, "alias/before"); err == nil {
		t.Error("a snapshot deleted an alias; want its writes refused")
	}
	if err := snap.Close(); err != nil {
		t.Fatalf("ending the snapshot: %v", err)
	}
	if _, err := pg.GetAlias(bg, "alias/before"); err != nil {
		t.Errorf("the alias the snapshot was refused deleting: %v", err)
	}
	if _, err := pg.GetAlias(bg, "alias/during"); err != nil {
		t.Errorf("the store after its snapshot ended: %v", err)
	}

	_, err = storecopy.Copy(bg, &writesDuring{Store: pg, during: func() { newKeyWithAlias("alias/after") }}, newBolt(t), time.Now())
	if err == nil {
		t.Error("a copy of the store itself took an alias made during it without its key")
	}
}

// newPostgres is a new PostgreSQL store in a database of its own.
func newPostgres(t *testing.T, prefix string) *postgres.Store {
	t.Helper()
	pg, err := postgres.Open(bg, storetest.PostgresDatabase(t, prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	return pg
}

// newBolt is a new bbolt store.
func newBolt(t *testing.T) *bolt.Store {
	t.Helper()
	b, err := bolt.Open(filepath.Join(t.TempDir(), "backup.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// failsAt is a source store whose listing of aliases fails, after every key
// has been copied.
type failsAt struct{ storecopy.Store }

var errListing = errors.New("the source went away")

func (failsAt) ListAliasesAfter(context.Context, string, time.Time, core.AliasPosition, int) ([]core.Alias, error) {
	return nil, errListing
}

// A copy in a transaction that fails part-way leaves the destination as it
// was, empty, so the same copy then succeeds into it; Copy alone leaves the
// keys it wrote.
func TestACopyInATransactionThatFailsLeavesNothing(t *testing.T) {
	src, _, svc := newSource(t)
	fill(t, svc, src)
	pg, backup := newPostgres(t, "kmscopyfail"), newBolt(t)
	for name, try := range map[string]func(from storecopy.Store) (storecopy.Counts, error){
		"postgres": func(from storecopy.Store) (storecopy.Counts, error) {
			return storecopy.CopyInTransaction[*postgres.Store](bg, from, pg, time.Now())
		},
		"bolt": func(from storecopy.Store) (storecopy.Counts, error) {
			return storecopy.CopyInTransaction[*bolt.Store](bg, from, backup, time.Now())
		},
	} {
		t.Run(name, func(t *testing.T) {
			if n, err := try(failsAt{src}); !errors.Is(err, errListing) || n != (storecopy.Counts{}) {
				t.Fatalf("a copy whose source fails = %s, %v; want nothing copied and the source's error", n, err)
			}
			if n, err := try(src); err != nil || n.Keys != 3 {
				t.Errorf("the same copy again = %s, %v; want it to find the destination empty and copy", n, err)
			}
		})
	}
	dst := newBolt(t)
	if _, err := storecopy.Copy(bg, failsAt{src}, dst, time.Now()); !errors.Is(err, errListing) {
		t.Fatalf("Copy from a failing source: %v", err)
	}
	if _, err := storecopy.Copy(bg, src, dst, time.Now()); !errors.Is(err, storecopy.ErrNotEmpty) {
		t.Errorf("Copy after a failed Copy: %v; want ErrNotEmpty, the keys it wrote kept", err)
	}
}

// TestCopyWalksSecretsPageByPage copies more secrets than three pages of
// the source's listing hold: each comes once, versions and all, those past
// their deletion dates, spread over every page, are left out, and no
// listing hands the copy more than a page (500) of them.
func TestCopyWalksSecretsPageByPage(t *testing.T) {
	src, _, _ := newSource(t)
	now := time.Now().UTC().Truncate(time.Second)
	var want []string
	err := src.Transaction(bg, func(tx *bolt.Store) error {
		for i := range 1201 {
			sec := core.GenericSecret{Name: fmt.Sprintf("s%04d", i), KeyID: "key", CreatedAt: now, UpdatedAt: now, Revision: 1,
				Stages:   map[string]string{"ACSCurrent": "v1"},
				Versions: []core.SecretVersion{{ID: "v1", CreatedAt: now, DataType: "text", Sealed: []byte("sealed " + strconv.Itoa(i))}}}
			if i%4 == 0 {
				sec.DeleteAt = now.Add(-time.Minute)
			} else {
				want = append(want, sec.Name)
			}
			if err := tx.CreateSecret(bg, sec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dst, listing := newBolt(t), &mostSecrets{Store: src}
	n, err := storecopy.CopyInTransaction[*bolt.Store](bg, listing, dst, now)
	if err != nil || n.Secrets != len(want) {
		t.Fatalf("copied %s, %v; want %d secrets", n, err, len(want))
	}
	if listing.most > 500 {
		t.Fatalf("one listing gave the copy %d secrets; want at most a page (500)", listing.most)
	}
	copied, _, err := dst.ListSecrets(bg, time.Time{}, core.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range copied {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("the copy holds %d secrets; want the %d not past their dates", len(names), len(want))
	}
	last, err := dst.GetSecret(bg, "s1199")
	if err != nil || len(last.Versions) != 1 || string(last.Versions[0].Sealed) != "sealed 1199" {
		t.Fatalf("the last page's secret in the copy: %+v, %v", last, err)
	}
}

// mostSecrets is a source store that keeps the most secrets one of its
// listings returned.
type mostSecrets struct {
	storecopy.Store
	most int
}

func (m *mostSecrets) ListSecrets(ctx context.Context, asOf time.Time, p core.Page) ([]core.GenericSecret, int, error) {
	secs, total, err := m.Store.ListSecrets(ctx, asOf, p)
	m.most = max(m.most, len(secs))
	return secs, total, err
}

func (m *mostSecrets) ListSecretsAfter(ctx context.Context, after string, limit int) ([]core.GenericSecret, error) {
	secs, err := m.Store.ListSecretsAfter(ctx, after, limit)
	m.most = max(m.most, len(secs))
	return secs, err
}
