package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

// copy-store moves a deployment from bbolt to PostgreSQL: the PostgreSQL
// deployment, under the same root key, opens every blob and signs with every
// certificate the bbolt one made. It refuses a destination that holds
// records, KMS_STORE itself, and never prints a URL it was given.
func TestCopyStoreMovesADeploymentToPostgres(t *testing.T) {
	d := newDeployment(t, "bolt://"+filepath.Join(t.TempDir(), "kms.db"), 3, 2)
	for k, v := range d.env {
		t.Setenv(k, v)
	}
	pg := storetest.PostgresDatabase(t, "kmscopycmd")
	copyStore := func(to string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"copy-store", to}, strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	code, stdout, stderr := copyStore(pg)
	if code != 0 || !strings.HasPrefix(stdout, "copied 3 keys with 6 versions,") || !strings.Contains(stdout, "2 certificates") {
		t.Fatalf("copy-store = %d\n%s%s", code, stdout, stderr)
	}

	moved := *d
	moved.env = map[string]string{"KMS_STORE": pg, "KMS_DATA_DIR": t.TempDir()}
	svc := moved.wire(t, d.old, "")
	defer svc.Close()
	if failed := moved.decryptAll(svc); failed != 0 {
		t.Errorf("%d of %d blobs do not open from PostgreSQL", failed, len(d.blobs))
	}
	if failed := moved.signAll(svc); failed != 0 {
		t.Errorf("%d of %d certificates do not sign from PostgreSQL", failed, len(d.certs))
	}

	if code, _, stderr := copyStore(pg); code != 1 || !strings.Contains(stderr, "not empty") {
		t.Errorf("a second copy into the same store = %d: %s", code, stderr)
	}
	if code, _, stderr := copyStore(d.env["KMS_STORE"]); code != 2 || !strings.Contains(stderr, "KMS_STORE itself") {
		t.Errorf("a copy into KMS_STORE = %d: %s", code, stderr)
	}
	if code, stdout, stderr := copyStore("mysql://kms:hunter2@db/kms"); code != 1 || strings.Contains(stdout+stderr, "hunter2") {
		t.Errorf("a copy into another kind of store = %d, printing %q %q", code, stdout, stderr)
	}
}

// copy-store backs a PostgreSQL deployment up while it serves: a writer makes
// keys with aliases all through the copies, and every copy is of one moment
// (an alias never arrives without its key), and serves the blobs made before.
func TestCopyStoreBacksUpPostgresWhileItServes(t *testing.T) {
	d := newDeployment(t, storetest.PostgresDatabase(t, "kmscopylive"), 40, 1)
	for k, v := range d.env {
		t.Setenv(k, v)
	}
	t.Setenv("KMS_ROOT_KEY", d.old)
	writer := d.wire(t, d.old, "")
	defer writer.Close()
	admin := &core.Principal{Name: "admin", AccessKeyID: "admin", Policy: core.FullAccess()}
	ctx, stop := context.WithCancel(context.Background())
	written := make(chan int)
	go func() {
		n := 0
		defer func() { written <- n }()
		for ctx.Err() == nil {
			k, err := writer.KMS.Handle(ctx, &core.Request{ID: "w", Action: "CreateKey", Params: core.Params{}, Caller: admin})
			if err != nil {
				return
			}
			n++
			_, _ = writer.KMS.Handle(ctx, &core.Request{ID: "w", Action: "CreateAlias", Caller: admin,
				Params: core.Params{"KeyId": k.(core.Key).ID, "AliasName": fmt.Sprintf("alias/live-%d", n)}})
		}
	}()
	for i := range 2 {
		backup := "bolt://" + filepath.Join(t.TempDir(), "backup.db")
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"copy-store", backup}, strings.NewReader(""), &stdout, &stderr); code != 0 {
			stop()
			t.Fatalf("copy %d while serving = %d\n%s%s", i, code, stdout.String(), stderr.String())
		}
		copied := *d
		copied.env = map[string]string{"KMS_STORE": backup, "KMS_DATA_DIR": t.TempDir()}
		svc := copied.wire(t, d.old, "")
		if failed := copied.decryptAll(svc); failed != 0 {
			t.Errorf("copy %d: %d of %d blobs do not open", i, failed, len(d.blobs))
		}
		svc.Close()
	}
	stop()
	if n := <-written; n == 0 {
		t.Error("the writer made no key during the copies")
	}
}
