package scripts_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeGo stands in for the go command under scripts/fuzz.sh: each fuzz target
// passes, passes having only replayed part of its corpus, fails as Go 1.26's
// fuzzer does when its time runs out mid-input
// (go.dev/issue/75804: no input kept), or fails on an input it keeps in
// testdata/fuzz, as a real failure does. The target's name says which.
const fakeGo = `#!/usr/bin/env bash
pkg=${@: -1}
fn=$(printf '%s\n' "$@" | sed -n 's/^\^\(Fuzz[A-Za-z]*\)\$$/\1/p')
case $fn in
FuzzPasses) echo "fuzz: elapsed: 1s, execs: 42 (42/sec)" ;;
FuzzReplays) echo "fuzz: elapsed: 0s, gathering baseline coverage: 0/3160 completed"
  echo "fuzz: elapsed: 1s, gathering baseline coverage: 2774/3160 completed" ;;
FuzzRaces) echo "fuzz: elapsed: 1s, execs: 7 (7/sec)"; printf -- '--- FAIL: %s (1.00s)\n    context deadline exceeded\n' "$fn"; exit 1 ;;
FuzzFails) mkdir -p "$pkg/testdata/fuzz/$fn"; echo 'go test fuzz v1' > "$pkg/testdata/fuzz/$fn/0123"
  printf -- '--- FAIL: %s (0.10s)\n    context deadline exceeded\n' "$fn"; exit 1 ;;
esac
`

// fuzzTree makes a git work tree holding scripts/fuzz.sh and one package whose
// test file declares the given fuzz targets, and a fake go command beside it.
func fuzzTree(t *testing.T, targets ...string) (dir, goCmd string) {
	t.Helper()
	script, err := os.ReadFile("fuzz.sh")
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	var src strings.Builder
	src.WriteString("package p\n\nimport \"testing\"\n")
	for _, fn := range targets {
		src.WriteString("\nfunc " + fn + "(f *testing.F) {}\n")
	}
	for name, body := range map[string]string{
		"scripts/fuzz.sh": string(script),
		"p/p_test.go":     src.String(),
		"bin/go":          fakeGo,
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	git := exec.Command("sh", "-c", "git init -q && git add scripts p")
	git.Dir = dir
	if out, err := git.CombinedOutput(); err != nil {
		t.Fatalf("git: %v\n%s", err, out)
	}
	return dir, filepath.Join(dir, "bin", "go")
}

func runFuzz(t *testing.T, dir, goCmd string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(dir, "scripts", "fuzz.sh"))
	cmd.Env = append(os.Environ(), "GO="+goCmd, "FUZZTIME=1s")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// endsWell runs fuzz.sh over a tree declaring targets, which must end well,
// and fails t unless it printed each line of want.
func endsWell(t *testing.T, targets []string, want ...string) {
	t.Helper()
	dir, goCmd := fuzzTree(t, targets...)
	out, err := runFuzz(t, dir, goCmd)
	if err != nil {
		t.Fatalf("fuzz.sh: %v\n%s", err, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("fuzz.sh printed\n%s\nwithout %q", out, w)
		}
	}
}

// TestFuzzScriptGoesOnPastTheDeadlineRace: a target that fails with the
// fuzzer's deadline error and keeps no input is reported, and the run goes on
// to the next target and ends well.
func TestFuzzScriptGoesOnPastTheDeadlineRace(t *testing.T) {
	endsWell(t, []string{"FuzzRaces", "FuzzPasses"},
		"./p FuzzRaces: execs: 7, then the fuzzer's deadline race (go.dev/issue/75804): no failing input",
		"./p FuzzPasses: execs: 42",
		"fuzz: 2 targets, 1s each: no failing input (1 stopped by the deadline race)")
}

// TestFuzzScriptStopsAtAFailingInput: a failure that keeps an input stops the
// run with the fuzzer's output, even when it reads like the deadline race.
func TestFuzzScriptStopsAtAFailingInput(t *testing.T) {
	dir, goCmd := fuzzTree(t, "FuzzFails", "FuzzPasses")
	out, err := runFuzz(t, dir, goCmd)
	if err == nil {
		t.Fatalf("fuzz.sh ended well after a failing input:\n%s", out)
	}
	if !strings.Contains(out, "--- FAIL: FuzzFails") || !strings.Contains(out, "fuzz: ./p FuzzFails failed") {
		t.Errorf("fuzz.sh printed\n%s\nwithout the failure", out)
	}
	if strings.Contains(out, "FuzzPasses") {
		t.Errorf("fuzz.sh went on after a failing input:\n%s", out)
	}
}

// TestFuzzScriptTellsATargetThatOnlyReplayed: a target whose time ran out
// while it replayed its seeds and cached inputs, before it fuzzed any new
// input, is named with how far it got, and the run's last line says to give
// such targets more time.
func TestFuzzScriptTellsATargetThatOnlyReplayed(t *testing.T) {
	endsWell(t, []string{"FuzzReplays", "FuzzPasses"},
		"./p FuzzReplays: execs: 0, still replaying its corpus when its time ran out (2774 of 3160)",
		"./p FuzzPasses: execs: 42",
		"fuzz: 1 still replaying their corpus when their time ran out: give them a longer FUZZTIME")
}
