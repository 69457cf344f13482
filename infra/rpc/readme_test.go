package rpc_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

// readReadme returns the module's root and its README.
func readReadme(t *testing.T) (root string, readme []byte) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err = os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return root, readme
}

// TestReadmeExampleRunsAgainstTheService compiles the worked example of the
// README, as printed, and runs it against a real handler: the front door's code
// must keep working with the official SDK.
func TestReadmeExampleRunsAgainstTheService(t *testing.T) {
	root, readme := readReadme(t)
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
	cmd := emulate.GoCommand(context.Background(), root, "run", "-overlay", overlayFile, main)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README example failed: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "key-") || lines[1] != "44" {
		t.Fatalf("the README example printed %q, want a key ID, version and blob, then 44", out)
	}
}

// readmeCommand finds the go test and go run commands the README gives, inline
// (which may wrap onto the next line) or on a line of a code block.
var readmeCommand = regexp.MustCompile("`(go (?:test|run)\\s[^`]*)`|(?m)^\\s*(go (?:test|run)\\s.*)$")

// TestReadmeCommandsNameWhatExists checks, without running them, that every
// go test command of the README names a package with a test or benchmark its
// -run or -bench pattern selects, and every go run command a main package: a
// rename or a removal otherwise leaves the README pointing at nothing.
func TestReadmeCommandsNameWhatExists(t *testing.T) {
	root, readme := readReadme(t)
	funcs := regexp.MustCompile(`(?m)^func ((?:Test|Benchmark)\w+)\(`)
	mainPackage := regexp.MustCompile(`(?m)^package main$`)
	checked := 0
	for _, m := range readmeCommand.FindAllStringSubmatch(string(readme), -1) {
		cmd := strings.Join(strings.Fields(m[1]+m[2]), " ")
		args := strings.Fields(strings.NewReplacer("'", "", `"`, "").Replace(cmd))
		var pkg string
		patterns := map[string]string{}
		for i := 2; i < len(args) && args[i] != "-args"; i++ {
			switch a := args[i]; {
			case (a == "-run" || a == "-bench") && i+1 < len(args):
				patterns[a] = args[i+1]
				i++
			case strings.HasPrefix(a, "./") && pkg == "":
				pkg = a
			}
		}
		if pkg == "" {
			continue // a command run elsewhere, such as with the package named in prose
		}
		dir := filepath.Join(root, filepath.FromSlash(pkg))
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		if len(files) == 0 {
			t.Errorf("README: %q names %s, which holds no Go package", cmd, pkg)
			continue
		}
		checked++
		if args[1] == "run" {
			if b, err := os.ReadFile(filepath.Join(dir, "main.go")); err != nil || !mainPackage.Match(b) {
				t.Errorf("README: %q names %s, which is not a command", cmd, pkg)
			}
			continue
		}
		var names []string
		tests, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		for _, f := range tests {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, fm := range funcs.FindAllStringSubmatch(string(b), -1) {
				names = append(names, fm[1])
			}
		}
		for flag, kind := range map[string]string{"-run": "Test", "-bench": "Benchmark"} {
			p, ok := patterns[flag]
			if !ok || p == "^$" {
				continue
			}
			// go test matches each slash-separated element against one level
			// of names: the first selects the top-level function.
			re, err := regexp.Compile(strings.Split(p, "/")[0])
			if err != nil {
				t.Errorf("README: %q: %s %s is not a pattern: %v", cmd, flag, p, err)
				continue
			}
			if !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, kind) && re.MatchString(n) }) {
				t.Errorf("README: %q: %s %s selects no %s function in %s", cmd, flag, p, kind, pkg)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked %d README commands; the pattern no longer finds them", checked)
	}
}
