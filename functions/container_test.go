package functions_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

// builtImage is the container image for one architecture, built once.
type builtImage struct {
	once sync.Once
	name string
	err  error
}

var (
	imagesMu sync.Mutex
	images   = map[string]*builtImage{}
)

// containerImage is the container image for this machine's architecture.
func containerImage(t *testing.T) string {
	t.Helper()
	return containerImageFor(t, runtime.GOARCH)
}

// containerImageFor is the container image for arch, built as `make image
// ARCH=arch` builds it once for every test that runs it, and removed when
// they are done (removeImages). Where no Docker daemon answers, the test is
// skipped.
func containerImageFor(t *testing.T, arch string) string {
	t.Helper()
	if out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		t.Skipf("no Docker daemon answers (%v): %s", err, bytes.TrimSpace(out))
	}
	imagesMu.Lock()
	img := images[arch]
	if img == nil {
		img = &builtImage{}
		images[arch] = img
	}
	imagesMu.Unlock()
	img.once.Do(func() {
		name := fmt.Sprintf("kmsless-test-%s-%d", arch, time.Now().UnixNano())
		// Compiled as TestMain compiled the functions, scripts/build takes
		// its four hundred packages from the build cache: with go run's own
		// flags they were compiled once more, 90 s on an empty cache on a
		// slow machine.
		build := emulate.GoCommand(context.Background(), root, "run", "./scripts/build", "-platform", "image", "-tag", name, "-arch", arch, "-context", t.TempDir())
		if out, err := build.CombinedOutput(); err != nil {
			img.err = fmt.Errorf("building the image for %s: %v\n%s", arch, err, out)
			return
		}
		img.name = name
	})
	if img.err != nil {
		t.Fatal(img.err)
	}
	return img.name
}

func removeImages() {
	for _, img := range images {
		if img.name != "" {
			_ = exec.Command("docker", "rmi", "-f", img.name).Run()
		}
	}
}

// docker runs the docker command and returns its standard output, trimmed.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker %s: %v\n%s%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return strings.TrimSpace(stdout.String())
}

// TestContainerImageServesTheSDKAndKeepsItsVolume builds the container image
// as `make image` does and runs it as a cautious operator would: a read-only
// root file system, no capabilities, no privilege escalation, the data in a
// named volume, the port published on loopback. Docker's health check, the
// image's own, finds it healthy. Alibaba's KMS SDK makes a key
// and a data key with the credentials the banner printed; SIGTERM, as `docker
// stop` sends it, stops the server cleanly; the kmsless command in the image
// verifies the audit trail the server left in the volume; and a new container
// on the same volume has the same development principal and root key, so it
// decrypts the data key. The test needs a Docker daemon; where none answers,
// it is skipped.
func TestContainerImageServesTheSDKAndKeepsItsVolume(t *testing.T) {
	name := containerImage(t)
	t.Parallel()
	if user := docker(t, "image", "inspect", "-f", "{{.Config.User}}", name); user != "65532:65532" {
		t.Errorf("the image runs as %q, not the unprivileged 65532:65532", user)
	}
	// Built in a git checkout, the image names the commit.
	if head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output(); err == nil {
		label := docker(t, "image", "inspect", "-f", `{{index .Config.Labels "org.opencontainers.image.revision"}}`, name)
		if !strings.HasPrefix(label, strings.TrimSpace(string(head))) {
			t.Errorf("the image's revision label is %q, not the commit it was built from, %s", label, head)
		}
	}
	newVolume(t, name)

	serve := func() *localAPI {
		a := runImage(t, name, name, "--health-interval", "500ms") // the image's health check, every half second
		if !strings.HasSuffix(a.banner["first"], "http://[::]:8080") {
			t.Errorf("banner's first line: %q", a.banner["first"])
		}
		return a
	}

	first := serve()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		health := docker(t, "inspect", "-f", "{{.State.Health.Status}}", name)
		if health == "healthy" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container is %s, not healthy: %s", health, docker(t, "inspect", "-f", "{{json .State.Health}}", name))
		}
	}
	c := sdkClient(t, first)
	key := createKey(t, c)
	gen, err := c.GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String(key)})
	if err != nil {
		t.Fatalf("GenerateDataKey through the SDK: %v", err)
	}
	first.stop(t, syscall.SIGTERM)

	verified := docker(t, "run", "--rm", "--read-only", "--cap-drop", "ALL", "-v", name+":/data", name,
		"kmsless", "audit", "verify", "/data/audit.jsonl")
	if m := regexp.MustCompile(`(?m)^OK: (\d+) records`).FindStringSubmatch(verified); m == nil || m[1] == "0" {
		t.Errorf("the audit trail in the volume: %q", verified)
	}

	second := serve()
	if second.banner["AccessKeyId"] != first.banner["AccessKeyId"] {
		t.Errorf("the development principal changed with the container: %s, then %s", first.banner["AccessKeyId"], second.banner["AccessKeyId"])
	}
	var dec *kms.DecryptResponse
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if dec, err = sdkClient(t, second).Decrypt(&kms.DecryptRequest{CiphertextBlob: gen.Body.CiphertextBlob}); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || tea.StringValue(dec.Body.Plaintext) != tea.StringValue(gen.Body.Plaintext) {
		t.Fatalf("Decrypt in a new container on the same volume: %v", err)
	}
	second.stop(t, syscall.SIGTERM)
}

// runImage runs the image's default command on the named volume as a
// cautious operator would: a read-only root file system, no capabilities, no
// privilege escalation, the port published on loopback. It is a foreground
// `docker run`, which passes the signals it gets on to the container; the
// container is named after the volume.
func runImage(t *testing.T, image, volume string, args ...string) *localAPI {
	t.Helper()
	addr := freeAddr(t)
	args = append([]string{"run", "--rm", "--name", volume, "--read-only", "--cap-drop", "ALL",
		"--security-opt", "no-new-privileges", "-p", addr + ":8080", "-v", volume + ":/data"}, args...)
	run := exec.Command("docker", append(args, image)...)
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", volume).Run() })
	return startAPI(t, run, addr)
}

// newVolume creates a Docker volume for the test and removes it after.
func newVolume(t *testing.T, name string) {
	t.Helper()
	docker(t, "volume", "create", name)
	t.Cleanup(func() { _ = exec.Command("docker", "volume", "rm", "-f", name).Run() })
}

// createKey makes a key through the SDK and returns its ID. The published
// port answers once the container's network is up, which may be a moment
// after the server printed its banner.
func createKey(t *testing.T, c *kms.Client) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		created, err := c.CreateKey(&kms.CreateKeyRequest{Description: tea.String("in a container")})
		if err == nil {
			return tea.StringValue(created.Body.KeyMetadata.KeyId)
		}
		if time.Now().After(deadline) {
			t.Fatalf("CreateKey through the SDK: %v", err)
		}
	}
}

// A runtime may run the image as an arbitrary user in group 0, as
// OpenShift's restricted policy does: /data, and so a new named volume, is
// group 0's to write, so the server starts, writes its root key, store and
// audit trail, and answers the SDK.
func TestContainerImageRunsAsAnArbitraryUserInGroupZero(t *testing.T) {
	name := containerImage(t)
	t.Parallel()
	volume := name + "-anyuser"
	newVolume(t, volume)
	a := runImage(t, name, volume, "--user", "1000680000:0")
	c := sdkClient(t, a)
	if _, err := c.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(createKey(t, c))}); err != nil {
		t.Fatalf("GenerateDataKeyWithoutPlaintext through the SDK: %v", err)
	}
	a.stop(t, syscall.SIGTERM)
}

// The image for the other architecture (`make image ARCH=arm64` on an amd64
// machine) runs where this machine runs that architecture's executables,
// through qemu-user's binfmt_misc entry (make test-other-arch): Docker runs
// it for that platform, and the SDK makes a key and a data key and has it
// decrypted.
func TestContainerImageForTheOtherArchitecture(t *testing.T) {
	other := map[string]string{"amd64": "arm64", "arm64": "amd64"}[runtime.GOARCH]
	if other == "" {
		t.Skipf("no image is built for %s", runtime.GOARCH)
	}
	runsArch(t, other)
	name := containerImageFor(t, other)
	t.Parallel()
	if arch := docker(t, "image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", name); arch != "linux/"+other {
		t.Fatalf("make image ARCH=%s built an image for %s", other, arch)
	}
	newVolume(t, name)
	a := runImage(t, name, name, "--platform", "linux/"+other)
	c := sdkClient(t, a)
	gen, err := c.GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String(createKey(t, c))})
	if err != nil {
		t.Fatalf("GenerateDataKey through the SDK: %v", err)
	}
	dec, err := c.Decrypt(&kms.DecryptRequest{CiphertextBlob: gen.Body.CiphertextBlob})
	if err != nil || tea.StringValue(dec.Body.Plaintext) != tea.StringValue(gen.Body.Plaintext) {
		t.Fatalf("Decrypt through the SDK: %v", err)
	}
	a.stop(t, syscall.SIGTERM)
}

// loadgen's -docker runs the floor comparison's servers in a container of
// the image, limited to one CPU and reached on its bridge network: the
// report names the container's quota and every side, the servers' profile
// reaches the host, and no container is left behind. loadgen, built static
// here, is its own child in the container. The profile goes straight into
// /tmp, a path the container has as its own too (a tmpfs).
func TestLoadgenRunsItsServersInTheImage(t *testing.T) {
	image := containerImage(t)
	t.Parallel()
	f, err := os.CreateTemp("/tmp", "loadgen-server-*.out")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	profile := f.Name()
	t.Cleanup(func() { os.Remove(profile) })
	cmd := exec.Command(filepath.Join(binDir, "loadgen"), "-compare", "floor", "-cpus", "1", "-docker", image,
		"-rounds", "1", "-run", "200ms", "-conns", "2", "-cpuprofile", profile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("loadgen -docker: %v\n%s", err, out)
	}
	for _, want := range []string{"floor ", "kmsless ", "kmsless-unverified ", "Docker container of " + image, "cfs quota 100000 µs",
		"GOMAXPROCS 1 of", "server throttled", profile} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the report does not name %q:\n%s", want, out)
		}
	}
	if fi, err := os.Stat(profile); err != nil || fi.Size() == 0 {
		t.Errorf("no profile of the servers: %v", err)
	}
	if left := docker(t, "ps", "-aq", "--filter", "label=kmsless-loadgen", "--filter", "ancestor="+image); left != "" {
		t.Errorf("containers left behind: %s", left)
	}
}
