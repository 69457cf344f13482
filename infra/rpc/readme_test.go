package rpc_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
	// The program must build inside the module, with its pinned SDK, yet
	// nothing is written into the source tree: a build overlay places the
	// file, kept in a temporary directory, at a path inside the module.
	tmp := t.TempDir()
	src := filepath.Join(tmp, "main.go")
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	main := filepath.Join(root, "internal", "readme-example-"+hex.EncodeToString(b[:]), "main.go")
	overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {main: src}})
	overlayFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "-overlay", overlayFile, main)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README example failed: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "key-") || lines[1] != "44" {
		t.Fatalf("the README example printed %q, want a key ID, version and blob, then 44", out)
	}
}
