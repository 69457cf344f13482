package rpc_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeExampleRunsAgainstTheService compiles the worked example of the
// README, as printed, and runs it against a real handler: the front door's code
// must keep working with the official SDK.
func TestReadmeExampleRunsAgainstTheService(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```go\n(package main\n.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no Go example")
	}
	e := newEnv(t)
	code := string(m[1])
	for _, r := range [][2]string{
		{`tea.String("LTAI…")`, `tea.String("` + adminID + `")`},
		{`AccessKeySecret: tea.String("…")`, `AccessKeySecret: tea.String("` + adminSecret + `")`},
		{`"127.0.0.1:8080"`, `"` + strings.TrimPrefix(e.srv.URL, "http://") + `"`},
	} {
		if !strings.Contains(code, r[0]) {
			t.Fatalf("the README example no longer contains %s", r[0])
		}
		code = strings.Replace(code, r[0], r[1], 1)
	}
	// The program builds in a module of its own, outside the source tree, that
	// pins the same SDK versions as this one: a copy of go.mod and go.sum
	// under another module path.
	dir := t.TempDir()
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mod = regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(mod, []byte("module readmeexample"))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"go.mod": mod, "go.sum": sum, "main.go": []byte(code)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README example failed: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "key-") || lines[1] != "44" {
		t.Fatalf("the README example printed %q, want a key ID, version and blob, then 44", out)
	}
}
