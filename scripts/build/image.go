package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

// The container image holds one program, the kmsless command, which is the
// api server too: by the name of its link kmsless-api, the image's default
// command, or as kmsless serve. Two binaries would share most of their
// code, and double the image.
const (
	imageCommand = "kmsless"
	imageServer  = "kmsless-api"
)

// caBundles are where Linux distributions, and macOS, keep the system's CA
// certificates; SSL_CERT_FILE, when set, comes first, as in Go's own lookup.
var caBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Alpine
	"/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL
	"/etc/ssl/cert.pem",                  // macOS
}

// image builds the container image the Dockerfile at root describes and
// tags it: the kmsless command for linux and arch with its link kmsless-api,
// the CA bundle the root key's cloud KMS, rediss:// and PostgreSQL's TLS
// verify against, and an empty data directory, in dir, the build's context,
// which it empties first.
func image(root, dir, tag, arch string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	// The data directory goes in inside a folder copied to /, so that it
	// keeps this mode: a directory a COPY names itself is made 755. Group 0
	// may write it, for a runtime that runs the image as an arbitrary user
	// in group 0 (OpenShift's restricted policy); what the server writes in
	// it (the store, a generated root key) it writes 0600.
	data := filepath.Join(dir, "volume", "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(data, 0o770); err != nil { // whatever the umask
		return err
	}
	if err := copyCABundle(filepath.Join(dir, "ca-certificates.crt")); err != nil {
		return err
	}
	bin := filepath.Join(dir, "bin")
	if err := emulate.Build(context.Background(), root, "./cmd/kmsless", filepath.Join(bin, imageCommand), "linux", arch); err != nil {
		return err
	}
	if err := os.Symlink(imageCommand, filepath.Join(bin, imageServer)); err != nil {
		return err
	}
	// Without its cache: Docker's legacy builder reuses a layer built for
	// another architecture, then refuses it as not of this one; and the
	// steps only copy files.
	args := []string{"build", "--no-cache", "--platform", "linux/" + arch, "-f", filepath.Join(root, "Dockerfile"), "-t", tag,
		"--label", "org.opencontainers.image.title=kmsless"}
	// The commit the image was built from, marked -dirty when the work tree
	// held changes, as git describe marks it (never a tag's name); none
	// outside a checkout.
	if rev, err := exec.Command("git", "-C", root, "describe", "--always", "--abbrev=40", "--dirty", "--exclude=*").Output(); err == nil {
		args = append(args, "--label", "org.opencontainers.image.revision="+strings.TrimSpace(string(rev)))
	}
	cmd := exec.Command("docker", append(args, dir)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("docker build: %w", err)
	}
	return nil
}

// copyCABundle copies the first of the system's CA bundles found to dst.
func copyCABundle(dst string) error {
	candidates := caBundles
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		candidates = append([]string{f}, candidates...)
	}
	for _, src := range candidates {
		b, err := os.ReadFile(src)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	}
	return fmt.Errorf("no CA bundle at %v: set SSL_CERT_FILE to one", caBundles)
}
