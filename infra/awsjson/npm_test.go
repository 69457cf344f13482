package awsjson_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// npmModules installs @aws-sdk/client-kms and @aws-crypto/client-node into the
// user cache (never the source tree) and returns their node_modules, or skips.
func npmModules(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: install Node.js 18+ and npm to run the JavaScript clients")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = filepath.Join(os.Getenv("HOME"), ".cache")
	}
	dir := filepath.Join(cache, "kmsless-tools", "npm")
	mods := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(mods, "@aws-crypto", "client-node")); err == nil {
		return mods
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: install it to run @aws-sdk/client-kms and @aws-crypto/client-node")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skip(err)
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "@aws-sdk/client-kms", "@aws-crypto/client-node")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("npm could not install the clients (%v): %s; install them with: npm install --prefix %s @aws-sdk/client-kms @aws-crypto/client-node", err, bytes.TrimSpace(out), dir)
	}
	return mods
}

func TestJavaScriptClientsRoundTrip(t *testing.T) {
	mods := npmModules(t)
	e := newEnv(t)
	k, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "esdk.js"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods, "KMSLESS_ENDPOINT="+e.srv.URL, "KMSLESS_KEY_ARN="+aws.ToString(k.KeyMetadata.Arn),
		"KMSLESS_REGION="+testRegion, "KMSLESS_ACCESS_KEY_ID="+adminID, "KMSLESS_SECRET="+adminSecret)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || !bytes.Equal(bytes.TrimSpace(out), []byte("OK")) {
		t.Fatalf("node: %v\n%s%s", err, out, stderr.Bytes())
	}
}
