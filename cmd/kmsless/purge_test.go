package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/store/storecopy"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

// purge destroys, in the deployment's own store, a key and a secret past
// their deletion dates that no request met, with the key's alias; a key
// still in its waiting period and the blobs of the others stay as they were.
func testPurge(t *testing.T, store string) {
	ctx := context.Background()
	d, svc, keys := deploymentToPurge(t, store, 3)
	handle := func(action string, kv ...string) { t.Helper(); handleAs(t, svc, action, kv...) }
	doomed, waiting := keys[0].ID, keys[1].ID
	handle("CreateAlias", "AliasName", "alias/doomed", "KeyId", doomed)
	handle("ScheduleKeyDeletion", "KeyId", doomed, "PendingWindowInDays", "7")
	handle("ScheduleKeyDeletion", "KeyId", waiting, "PendingWindowInDays", "7")
	handle("CreateSecret", "SecretName", "gone", "VersionId", "v1", "SecretData", "s3cr3t", "EncryptionKeyId", keys[2].ID)
	handle("DeleteSecret", "SecretName", "gone", "RecoveryWindowInDays", "7")
	svc.Close()
	// Seven days on: their dates are moved back, as time would move them.
	st := openStore(t, store)
	doomedAt := storetest.Expire(t, st, doomed)
	goneAt := storetest.ExpireSecret(t, st, "gone")
	st.Close()

	purge := func() (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(ctx, []string{"purge"}, strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	// An audit log it cannot write stops it before anything is destroyed.
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KMS_AUDIT_LOG", filepath.Join(notADir, "audit.jsonl"))
	if code, stdout, stderr := purge(); code != 1 || stdout != "" || !strings.Contains(stderr, "KMS_AUDIT_LOG") {
		t.Fatalf("purge with an audit log it cannot write = %d\n%s%s", code, stdout, stderr)
	}
	t.Setenv("KMS_AUDIT_LOG", "")
	want := "destroyed key " + doomed + "\ndestroyed secret gone\ndestroyed 1 key and 1 secret past their deletion dates\n"
	if code, stdout, stderr := purge(); code != 0 || stdout != want {
		t.Fatalf("purge = %d\n%s%s\nwant:\n%s", code, stdout, stderr, want)
	}
	if code, stdout, stderr := purge(); code != 0 || stdout != "destroyed 0 keys and 0 secrets past their deletion dates\n" {
		t.Fatalf("purge again = %d\n%s%s", code, stdout, stderr)
	}
	checkDestructionRecords(t, d, map[string]destruction{"DeleteKey": {doomed, doomedAt}, "DeleteSecret": {"gone", goneAt}})

	st = openStore(t, store)
	for what, err := range map[string]error{
		"key":    errOf(st.GetKey(ctx, doomed)),
		"alias":  errOf(st.GetAlias(ctx, "alias/doomed")),
		"secret": errOf(st.GetSecret(ctx, "gone")),
	} {
		if !errors.Is(err, core.ErrNotFound) {
			t.Errorf("the destroyed %s, read from the store: err = %v; want ErrNotFound", what, err)
		}
	}
	if vs, _, err := st.ListVersions(ctx, doomed, core.Page{}); err != nil || len(vs) != 0 {
		t.Errorf("the destroyed key's versions: %d left (%v); want none", len(vs), err)
	}
	if k, err := st.GetKey(ctx, waiting); err != nil || k.DeleteAt.IsZero() {
		t.Errorf("the key still waiting: %+v, %v; want it stored and scheduled", k, err)
	}
	st.Close()
	svc = d.wire(t, d.old, "")
	defer svc.Close()
	handle("CancelKeyDeletion", "KeyId", waiting)
	if failed := d.decryptAll(svc); failed != 1 {
		t.Errorf("%d of %d blobs no longer open; want only the destroyed key's one", failed, len(d.blobs))
	}
}

func TestPurgeOnBolt(t *testing.T) { testPurge(t, "bolt://"+filepath.Join(t.TempDir(), "kms.db")) }

func TestPurgeOnPostgres(t *testing.T) { testPurge(t, storetest.PostgresDatabase(t, "kmspurgecmd")) }

// deploymentToPurge is a deployment of n keys on store, its settings in the
// environment as the command reads them, and a service on it.
func deploymentToPurge(t *testing.T, store string, n int) (*deployment, *config.Service, []core.Key) {
	t.Helper()
	d := newDeployment(t, store, n, 1)
	for k, v := range d.env {
		t.Setenv(k, v)
	}
	t.Setenv("KMS_ROOT_KEY", d.old)
	svc := d.wire(t, d.old, "")
	keys, _, err := svc.KMS.Store().ListKeys(context.Background(), time.Time{}, core.Page{})
	if err != nil || len(keys) != n {
		t.Fatalf("the deployment's keys: %d, %v", len(keys), err)
	}
	return d, svc, keys
}

// handleAs runs action, with kv's names and values, on svc as an
// administrator.
func handleAs(t *testing.T, svc *config.Service, action string, kv ...string) {
	t.Helper()
	p := core.Params{}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	admin := &core.Principal{Name: "admin", AccessKeyID: "admin", Policy: core.FullAccess()}
	if _, err := svc.KMS.Handle(context.Background(), &core.Request{ID: "r", Action: action, Params: p, Caller: admin}); err != nil {
		t.Fatalf("%s: %v", action, err)
	}
}

// destruction is a key or secret destroyed, and the deletion date it was due.
type destruction struct {
	id  string
	due time.Time
}

// checkDestructionRecords verifies the chains of the deployment's audit log
// (KMS_AUDIT_LOG by default) and finds in it one record per destruction,
// want mapping its action to what was destroyed: a purge's, by kmsless, with
// the deletion date that was due.
func checkDestructionRecords(t *testing.T, d *deployment, want map[string]destruction) {
	t.Helper()
	env := d.envWith(d.old, "")
	log := filepath.Join(d.env["KMS_DATA_DIR"], "audit.jsonl")
	if code, _, stderr := runAudit(env, "verify", log); code != 0 {
		t.Fatalf("audit verify %s = %d: %s", log, code, stderr)
	}
	for action, w := range want {
		code, out, stderr := runAudit(env, "query", "-json", "-action", action, log)
		if code != 0 {
			t.Fatalf("audit query -action %s = %d: %s", action, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 1 {
			t.Fatalf("%s records: %d; want one\n%s", action, len(lines), out)
		}
		var rec audit.Record
		if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
			t.Fatal(err)
		}
		name := "keyId"
		if action == "DeleteSecret" {
			name = "secretName"
		}
		due := w.due.UTC().Format(time.RFC3339)
		if rec.Entry != "purge" || rec.UserIdentity.Principal != "kmsless" || rec.RequestParameters[name] != w.id ||
			rec.AdditionalEventData["deletionDate"] != due || rec.ReadOnly {
			t.Errorf("the %s record: %s; want the purge's of %s, due %s", action, lines[0], w.id, due)
		}
	}
}

// openStore opens the deployment's store as a command does.
func openStore(t *testing.T, url string) storecopy.Store {
	t.Helper()
	st, err := config.OpenStore(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// errOf is the error of a two-valued store read.
func errOf[T any](_ T, err error) error { return err }

// A destruction whose record cannot be written stands, and the command says
// so and fails: an operator's script must not take a purge without its trail
// for a clean one. /dev/full takes the file open and refuses every write.
func TestPurgeFailsWhenARecordIsNotWritten(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	ctx := context.Background()
	store := "bolt://" + filepath.Join(t.TempDir(), "kms.db")
	_, svc, keys := deploymentToPurge(t, store, 1)
	doomed := keys[0].ID
	handleAs(t, svc, "ScheduleKeyDeletion", "KeyId", doomed, "PendingWindowInDays", "7")
	svc.Close()
	st := openStore(t, store)
	storetest.Expire(t, st, doomed)
	st.Close()

	t.Setenv("KMS_AUDIT_LOG", "/dev/full")
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"purge"}, strings.NewReader(""), &stdout, &stderr)
	want := "destroyed key " + doomed + "\ndestroyed 1 key and 0 secrets past their deletion dates\n"
	if code != 1 || stdout.String() != want || !strings.Contains(stderr.String(), "1 record could not be written to KMS_AUDIT_LOG") {
		t.Fatalf("purge with a full audit log = %d\n%s%s\nwant 1, and:\n%s", code, stdout.String(), stderr.String(), want)
	}
	st = openStore(t, store)
	defer st.Close()
	if _, err := st.GetKey(ctx, doomed); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("the key whose record was lost, read from the store: %v; want it destroyed all the same", err)
	}
}
