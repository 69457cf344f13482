package awsjson_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// TestBoto3Judges: boto3, the AWS SDK for Python, goes through every
// operation kmsless serves (testdata/boto3_judge.py): its own JSON protocol
// code, paginators and modelled exceptions, and the import of key material
// wrapped by Python's cryptography package.
func TestBoto3Judges(t *testing.T) {
	needPython(t, "boto3")
	e := newEnv(t)
	cmd := exec.Command("python3", "testdata/boto3_judge.py", e.srv.URL, testRegion)
	cmd.Env = cliEnv(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("boto3: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if out := stdout.String(); !strings.HasSuffix(out, "ok\n") {
		t.Fatalf("boto3 did not finish: %q", out)
	} else if strings.Contains(out, "skipped") {
		t.Log(strings.TrimSpace(out))
	}
}

// TestReadmeBoto3ExampleRuns runs the README's boto3 example as written,
// pointed at a test server where alias/orders exists.
func TestReadmeBoto3ExampleRuns(t *testing.T) {
	needPython(t, "boto3")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "\n```python\n")
	example, _, closed := strings.Cut(rest, "\n```\n")
	const endpoint = `endpoint_url="http://127.0.0.1:8080"`
	if !ok || !closed || !strings.Contains(example, endpoint) {
		t.Fatalf("the README has no python example pointed at %s", endpoint)
	}
	e := newEnv(t)
	if _, err := e.aws.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String("alias/orders"), TargetKeyId: aws.String(e.createKey())}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "-c", strings.Replace(example, endpoint, `endpoint_url="`+e.srv.URL+`"`, 1))
	cmd.Env = cliEnv(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's boto3 example: %v\n%s", err, out)
	}
}

// needPython skips t unless python3 can import module: the Python clients
// are judges where they are installed, as the Node ones are where npm is.
func needPython(t *testing.T, module string) {
	t.Helper()
	if err := exec.Command("python3", "-c", "import "+module).Run(); err != nil {
		t.Skipf("python3 cannot import %s (pip install boto3)", module)
	}
}
