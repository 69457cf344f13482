package functions_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

// TestAPIServesLocallyToTheSDKWithThePrintedPrincipal starts the api binary as
// a developer would, with no configuration but a free port, and calls it with
// the official Alibaba Cloud KMS SDK using the credentials it printed.
func TestAPIServesLocallyToTheSDKWithThePrintedPrincipal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(filepath.Join(binDir, "api"))
	cmd.Dir = t.TempDir()
	cmd.Env = append(emulate.BaseEnv(), "KMS_LISTEN_ADDR="+addr)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	banner := map[string]string{}
	lines := bufio.NewScanner(stdout)
	field := regexp.MustCompile(`^\s+(AccessKeyId|AccessKeySecret):\s+(\S+)$`)
	for len(banner) < 2 && lines.Scan() {
		if m := field.FindStringSubmatch(lines.Text()); m != nil {
			banner[m[1]] = m[2]
		}
	}
	if len(banner) < 2 {
		t.Fatalf("no development principal in the banner; stderr:\n%s", stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()

	client, err := kms.NewClient(&openapi.Config{
		AccessKeyId: tea.String(banner["AccessKeyId"]), AccessKeySecret: tea.String(banner["AccessKeySecret"]),
		Endpoint: tea.String(addr), Protocol: tea.String("http"), RegionId: tea.String("cn-hangzhou"),
	})
	if err != nil {
		t.Fatal(err)
	}
	created, err := client.CreateKey(&kms.CreateKeyRequest{Description: tea.String("local development")})
	if err != nil {
		t.Fatalf("CreateKey through the SDK: %v", err)
	}
	key := tea.StringValue(created.Body.KeyMetadata.KeyId)
	gen, err := client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(key)})
	if err != nil || tea.StringValue(gen.Body.CiphertextBlob) == "" {
		t.Fatalf("GenerateDataKeyWithoutPlaintext through the SDK: %v", err)
	}

	// Ctrl-C: a clean shutdown that closes the store.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil || !strings.Contains(stderr.String(), "service closed") {
			t.Fatalf("after Ctrl-C: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the api server did not stop on Ctrl-C")
	}
}

func TestActionFunctionStartedLocallySaysHowToRunIt(t *testing.T) {
	cmd := exec.Command(filepath.Join(binDir, "decrypt"))
	cmd.Dir = t.TempDir()
	cmd.Env = emulate.BaseEnv()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "make invoke FN=decrypt") {
		t.Fatalf("exit %v, output:\n%s", err, out)
	}
	if entries, _ := filepath.Glob(filepath.Join(cmd.Dir, ".kmsless", "*")); len(entries) != 0 {
		t.Fatalf("a mistaken local start left %v behind", entries)
	}
}
