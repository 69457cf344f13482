package emulate

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BuildFlags are the flags of every function binary: static, reproducible,
// without aws-lambda-go's RPC mode, stripped.
var BuildFlags = []string{"-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w"}

// GoCommand is `go verb` with BuildFlags and cgo off, then args, run in the
// module root dir: how every function binary is built, and how whatever runs
// beside them is compiled so that it takes their packages from the build
// cache (with other flags, Go compiles each package once more).
func GoCommand(ctx context.Context, dir, verb string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", append(append([]string{verb}, BuildFlags...), args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd
}

// Build compiles the main package pkg (such as ./functions/decrypt, relative to
// the module root dir) into out for goos/goarch, with CGO disabled.
func Build(ctx context.Context, dir, pkg, out, goos, goarch string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	cmd := GoCommand(ctx, dir, "build", "-o", out, pkg)
	cmd.Env = append(cmd.Env, "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s (%s/%s): %v\n%s", pkg, goos, goarch, err, strings.TrimSpace(string(b)))
	}
	return nil
}

// ModuleRoot finds the directory of go.mod from dir upwards.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		dir = parent
	}
}

// RIEPackage is the pinned AWS Lambda Runtime Interface Emulator, for go install.
const RIEPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// Target is a platform's artifact: the OS, architecture and executable name its
// runtime expects.
type Target struct {
	Platform, GOOS, GOARCH, Binary string
}

// Targets are the deployment builds: Lambda's provided.al2023 runtime on
// Graviton (arm64) runs `bootstrap`; Function Compute's go1 runtime (x86_64
// only) runs the handler's file, `main`.
var Targets = []Target{
	{Platform: "lambda", GOOS: "linux", GOARCH: "arm64", Binary: "bootstrap"},
	{Platform: "fc", GOOS: "linux", GOARCH: "amd64", Binary: "main"},
}

// Functions lists the folders of root/functions that hold a main package.
func Functions(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, err
	}
	var fns []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, "functions", e.Name(), "main.go")); err == nil {
			fns = append(fns, e.Name())
		}
	}
	return fns, nil
}

// FindRIE returns the Lambda emulator: one on PATH, else the pinned version in
// the user's cache directory, installed there on first use (never into the
// source tree).
func FindRIE(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("aws-lambda-rie is not on PATH and there is no cache directory to install it into: %w", err)
	}
	bin := filepath.Join(cache, "kmsless", "bin")
	local := filepath.Join(bin, "aws-lambda-rie")
	if _, err := os.Stat(local); err == nil {
		return local, nil
	}
	cmd := exec.CommandContext(ctx, "go", "install", RIEPackage)
	cmd.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("aws-lambda-rie is not installed and go install %s failed: %v\n%s", RIEPackage, err, strings.TrimSpace(string(out)))
	}
	return local, nil
}
