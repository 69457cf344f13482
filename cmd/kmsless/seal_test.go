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

// Each password command seals what it reads on stdin as its own kind of
// secret, which the service opens as that kind only.
func TestSealPasswordsReadStdin(t *testing.T) {
	root := rootText(t)
	raw, _ := base64.StdEncoding.DecodeString(root)
	r, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	for command, kind := range map[string]string{"seal-store-password": sealed.StorePassword, "seal-redis-password": sealed.RedisPassword} {
		out, errOut, err := sealChild(t, root, "s3cret-pw\n", command)
		if err != nil || strings.Contains(out, "s3cret") {
			t.Fatalf("%s: %v\n%s%s", command, err, out, errOut)
		}
		pw, err := sealed.Open([]byte(out), kind, r)
		if err != nil || string(pw) != "s3cret-pw" {
			t.Fatalf("%s: opened %q, %v", command, pw, err)
		}
		for _, otherKind := range []string{sealed.StorePassword, sealed.RedisPassword, sealed.Principals} {
			if _, err := sealed.Open([]byte(out), otherKind, r); otherKind != kind && err == nil {
				t.Errorf("%s's output opened as %s", command, otherKind)
			}
		}
		if _, _, err := sealChild(t, root, "", command); err == nil {
			t.Fatalf("%s: an empty password was sealed", command)
		}
		if _, errOut, err := sealChild(t, "", "pw\n", command); err == nil || !strings.Contains(errOut, "no root key") {
			t.Fatalf("%s without a root key: %v %s", command, err, errOut)
		}
	}
}
