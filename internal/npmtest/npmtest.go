// Package npmtest installs JavaScript clients from the npm registry for the
// tests that drive the service through them.
package npmtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Modules returns a node_modules folder holding pkgs, each "name@version",
// installed once into the user cache (never the source tree), in a folder of
// their own so that test binaries needing other sets never install into the
// same folder at once. It skips t when node or npm is missing or the install
// fails, saying how to install them.
func Modules(t testing.TB, pkgs ...string) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: install Node.js 18+ and npm to run the JavaScript clients")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = filepath.Join(os.Getenv("HOME"), ".cache")
	}
	set := sha256.Sum256([]byte(strings.Join(pkgs, "\n")))
	dir := filepath.Join(cache, "kmsless-tools", "npm-"+hex.EncodeToString(set[:6]))
	mods := filepath.Join(dir, "node_modules")
	// The marker is written after a whole install: a folder an install left
	// half-made is installed into again.
	marker := filepath.Join(dir, "installed")
	if _, err := os.Stat(marker); err == nil {
		return mods
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: install it to run " + strings.Join(pkgs, ", "))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skip(err)
	}
	args := append([]string{"install", "--no-audit", "--no-fund", "--prefix", dir}, pkgs...)
	if out, err := exec.Command("npm", args...).CombinedOutput(); err != nil {
		t.Skipf("npm could not install the clients (%v): %s; install them with: npm %s", err, bytes.TrimSpace(out), strings.Join(args, " "))
	}
	if err := os.WriteFile(marker, []byte(strings.Join(pkgs, "\n")+"\n"), 0o644); err != nil {
		t.Skip(err)
	}
	return mods
}

// Run runs the Node.js script (a path relative to the test's package) with
// mods on NODE_PATH and env added, in a temporary folder, and fails t unless
// the script exits 0 having printed OK and nothing else.
func Run(t testing.TB, mods, script string, env ...string) {
	t.Helper()
	path, err := filepath.Abs(script)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", path)
	cmd.Dir = t.TempDir()
	cmd.Env = append(append(os.Environ(), "NODE_PATH="+mods), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || !bytes.Equal(bytes.TrimSpace(out), []byte("OK")) {
		t.Fatalf("node %s: %v\n%s%s", script, err, out, stderr.Bytes())
	}
}
