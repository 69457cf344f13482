package awsjson_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestBoto3Judges: boto3, the AWS SDK for Python, goes through every
// operation kmsless serves (testdata/boto3_judge.py): its own JSON protocol
// code, paginators and modelled exceptions, and the import of key material
// wrapped by Python's cryptography package.
func TestBoto3Judges(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("python3 cannot import boto3 (pip install boto3)")
	}
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
