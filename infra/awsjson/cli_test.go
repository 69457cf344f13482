package awsjson_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The AWS CLI (botocore, Python) is a second client written apart from the Go
// SDK: its own signer, its own JSON protocol code.

func (e *env) awsCLI(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", e.srv.URL, "--region", testRegion, "--output", "json", "kms"}, args...)...)
	cmd.Env = cliEnv(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws kms %s: %v: %s", args[0], err, stderr.String())
	}
	return out
}

func TestAWSCLIGeneratesAndDecryptsADataKey(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed (pip install awscli)")
	}
	e := newEnv(t)
	id := e.createKey()
	var gen struct{ CiphertextBlob, KeyId string }
	out := e.awsCLI(t, "generate-data-key-without-plaintext", "--key-id", id, "--key-spec", "AES_256", "--encryption-context", "tenant=acme,partition=p-1")
	if err := json.Unmarshal(out, &gen); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if gen.KeyId != keyARN(id) {
		t.Errorf("KeyId %q", gen.KeyId)
	}
	blob, err := base64.StdEncoding.DecodeString(gen.CiphertextBlob)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(file, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	var dec struct{ Plaintext, KeyId, EncryptionAlgorithm string }
	out = e.awsCLI(t, "decrypt", "--ciphertext-blob", "fileb://"+file, "--encryption-context", "tenant=acme,partition=p-1")
	if err := json.Unmarshal(out, &dec); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	pt, _ := base64.StdEncoding.DecodeString(dec.Plaintext)
	if len(pt) != 32 || dec.KeyId != keyARN(id) || dec.EncryptionAlgorithm != "SYMMETRIC_DEFAULT" {
		t.Errorf("decrypt: %d bytes under %q (%s)", len(pt), dec.KeyId, dec.EncryptionAlgorithm)
	}
	cmd := exec.Command("aws", "--endpoint-url", e.srv.URL, "--region", testRegion, "kms", "decrypt", "--ciphertext-blob", "fileb://"+file)
	cmd.Env = cliEnv(t)
	msg, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "InvalidCiphertextException") {
		t.Errorf("decrypt without the context: %v: %s", err, msg)
	}
}

// cliEnv is the environment with the admin's credentials and no profile,
// config file or instance metadata.
func cliEnv(t *testing.T) []string {
	none := filepath.Join(t.TempDir(), "none")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_ACCESS_KEY_ID="+adminID, "AWS_SECRET_ACCESS_KEY="+adminSecret,
		"AWS_CONFIG_FILE="+none, "AWS_SHARED_CREDENTIALS_FILE="+none, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
}
