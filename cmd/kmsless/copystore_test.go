package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

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
