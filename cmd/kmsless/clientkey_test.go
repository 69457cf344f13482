package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alibabacloud-go/tea/tea"
	dkmscredential "github.com/aliyun/alibabacloud-dkms-gcs-go-sdk/openapi-credential"

	"github.com/kmsless/kmsless/infra/principals"
)

// client-key writes Alibaba's client key file and its password, readable by
// their owner alone, which the SDK's own credential reader opens as the
// key its entry on stdout names; it never writes over a file already there,
// and refuses an ID of other characters.
func TestClientKeyWritesTheSDKsFilesAndTheEntry(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"client-key", "KAAP.orders-1", dir}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	file, passwordFile := filepath.Join(dir, "clientKey_KAAP.orders-1.json"), filepath.Join(dir, "clientKey_KAAP.orders-1_Password.txt")
	for _, f := range []string{file, passwordFile} {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", f, info.Mode().Perm())
		}
	}
	password, err := os.ReadFile(passwordFile)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := dkmscredential.NewClient(&dkmscredential.Config{Type: tea.String("rsa_key_pair"), ClientKeyFile: tea.String(file), Password: tea.String(string(password))})
	if err != nil {
		t.Fatalf("the SDK's credential reader: %v", err)
	}
	if tea.StringValue(cred.GetAccessKeyId()) != "KAAP.orders-1" {
		t.Errorf("the file names %q", tea.StringValue(cred.GetAccessKeyId()))
	}
	entry := "principals:\n  - name: orders\n    accessKeyId: LTAIorders\n    accessKeySecret: s\n    policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\"}]}\n    clientKeys:\n      " +
		strings.ReplaceAll(strings.TrimSpace(stdout.String()), "\n", "\n      ") + "\n"
	d, err := principals.Parse([]byte(entry))
	if err != nil {
		t.Fatalf("the printed entry: %v\n%s", err, entry)
	}
	if p, _ := d.LookupClientKey("KAAP.orders-1"); p == nil {
		t.Error("the entry names another key")
	}
	if !strings.Contains(stderr.String(), file) {
		t.Errorf("stderr does not name the file: %s", stderr.String())
	}

	stdout.Reset()
	if code := run(context.Background(), []string{"client-key", "KAAP.orders-1", dir}, nil, &stdout, &stderr); code == 0 || stdout.Len() > 0 {
		t.Error("a second client key was written over the first")
	}
	if again, _ := os.ReadFile(passwordFile); !bytes.Equal(again, password) {
		t.Error("the password file changed")
	}
	if code := run(context.Background(), []string{"client-key", "KAAP:bad", dir}, nil, &stdout, &stderr); code == 0 {
		t.Error("an ID with a colon was taken")
	}
}
