package functions_test

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

// The Lambda functions run on Graviton: SAM builds each for linux/arm64 with
// its target in functions/Makefile, a build the other tests, on this
// machine's architecture, do not run. Where this machine runs arm64
// executables (it is one, or qemu-user's binfmt_misc entry takes them, and
// make test-other-arch asked), the api function is built as SAM builds it
// and answers every README sample of its own under aws-lambda-rie, as the
// host's build does.
func TestLambdaBuildForGravitonAnswersTheSamples(t *testing.T) {
	if rie == "" {
		t.Skipf("aws-lambda-rie is missing: %v", rieErr)
	}
	runsArch(t, "arm64")
	t.Parallel()
	dir := t.TempDir()
	build := exec.Command("make", "-s", "-f", filepath.Join("functions", "Makefile"), "build-ApiFunction", "ARTIFACTS_DIR="+dir)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build-ApiFunction: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "bootstrap")
	exe, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	machine := exe.Machine
	exe.Close()
	if machine != elf.EM_AARCH64 {
		t.Fatalf("SAM's build of the api function is for %v, not Graviton's %v", machine, elf.EM_AARCH64)
	}

	f := newFixture(t)
	r := startBinary(t, "lambda", "api", bin, f.env(t, "api"))
	var samples int
	for _, row := range readmeRows(t) {
		if row.function == "api" && strings.HasPrefix(row.file, "aws/") {
			checkSample(t, r, f, row.file)
			samples++
		}
	}
	if samples == 0 {
		t.Fatal("no Lambda sample of the api function in events/README.md")
	}
	checkExtras(t, r, f, "api")
}

// otherArchEnv, set by make test-other-arch, runs the tests that build for
// an architecture other than this machine's.
const otherArchEnv = "KMS_TEST_OTHER_ARCH"

// runsArch skips the test unless this machine runs linux/arch executables
// and, when arch is not its own, otherArchEnv asks for it: such a build
// compiles every package again, about three minutes of CPU on an empty build
// cache, which make test leaves out.
func runsArch(t *testing.T, arch string) {
	t.Helper()
	if arch != runtime.GOARCH && os.Getenv(otherArchEnv) == "" {
		t.Skipf("building for %s, not this machine's architecture, takes minutes: make test-other-arch runs it (%s=1)", arch, otherArchEnv)
	}
	if err := emulate.RunsArch(arch); err != nil {
		t.Skip(err)
	}
}
