package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/sealed"
)

// sealChild runs a seal command in a child process with the root key given.
func sealChild(t *testing.T, root string, stdin string, args ...string) (string, string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "KMSLESS_TEST_ARGS="+strings.Join(args, " "), "KMS_ROOT_KEY="+root, "KMS_DATA_DIR="+t.TempDir())
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

func TestSealPrincipalsOutputLoadsAsThePrincipalsFile(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "principals.yaml")
	if err := os.WriteFile(plain, []byte(`principals:
  - name: app
    accessKeyId: LTAI5tCommandApp0001
    accessKeySecret: command-secret-0001
    policy: {Version: "1", Statement: [{Effect: Allow, Action: ["kms:Decrypt"], Resource: ["*"]}]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	root := rootText(t)
	out, errOut, err := sealChild(t, root, "", "seal-principals", plain)
	if err != nil || strings.Contains(out, "command-secret") || !sealed.IsSealed([]byte(out)) {
		t.Fatalf("seal-principals: %v\n%s%s", err, out, errOut)
	}
	file := filepath.Join(dir, "principals.sealed")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KMS_ROOT_KEY": root, "KMS_PRINCIPALS_FILE": file, "KMS_DATA_DIR": dir}
	set, err := config.Read(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	svc, err := config.Wire(context.Background(), set, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if p := svc.Principals.Lookup("LTAI5tCommandApp0001"); p == nil {
		t.Fatal("the sealed principals file lost its principal")
	}

	// A file that is not a principals document is refused before sealing.
	if err := os.WriteFile(plain, []byte("principals: [{name: x, nosuchfield: 1}]"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, err := sealChild(t, root, "", "seal-principals", plain); err == nil || out != "" {
		t.Fatalf("a bad principals file was sealed: %q", out)
	}
}

func TestSealStorePasswordReadsStdin(t *testing.T) {
	root := rootText(t)
	out, errOut, err := sealChild(t, root, "s3cret-pw\n", "seal-store-password")
	if err != nil || strings.Contains(out, "s3cret") {
		t.Fatalf("seal-store-password: %v\n%s%s", err, out, errOut)
	}
	raw, _ := base64.StdEncoding.DecodeString(root)
	r, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := sealed.Open([]byte(out), sealed.StorePassword, r)
	if err != nil || string(pw) != "s3cret-pw" {
		t.Fatalf("opened %q, %v", pw, err)
	}
	if _, _, err := sealChild(t, root, "", "seal-store-password"); err == nil {
		t.Fatal("an empty password was sealed")
	}
	if _, errOut, err := sealChild(t, "", "pw\n", "seal-store-password"); err == nil || !strings.Contains(errOut, "no root key") {
		t.Fatalf("without a root key: %v %s", err, errOut)
	}
}
