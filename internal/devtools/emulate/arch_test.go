package emulate

import (
	"io"
	"os"
	"runtime"
	"testing"
)

// qemuAarch64 is the binfmt_misc entry Debian's qemu-user-static registers.
const qemuAarch64 = `enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: PF
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
`

func TestBinfmtEntryTakesTheExecutablesItsMagicMatches(t *testing.T) {
	for _, c := range []struct {
		name, entry, arch string
		want              bool
	}{
		{"qemu's arm64 entry, an arm64 executable", qemuAarch64, "arm64", true},
		{"qemu's arm64 entry, an amd64 executable", qemuAarch64, "amd64", false},
		{"disabled", "disabled" + qemuAarch64[len("enabled"):], "arm64", false},
		{"no mask", "enabled\noffset 0\nmagic 7f454c460201010000000000000000000200b700\n", "arm64", true},
		{"no mask, another OS/ABI byte", "enabled\noffset 0\nmagic 7f454c460201010300000000000000000200b700\n", "arm64", false},
		{"at an offset", "enabled\noffset 18\nmagic b700\n", "arm64", true},
		{"past the header", "enabled\noffset 19\nmagic b70000\n", "arm64", false},
		{"no magic", "enabled\noffset 0\n", "arm64", false},
	} {
		if got := binfmtTakes(c.entry, elfHeads[c.arch]); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// The header kept for this machine's architecture is its executables': the
// test binary's identification and machine.
func TestELFHeadOfThisMachine(t *testing.T) {
	head, ok := elfHeads[runtime.GOARCH]
	if runtime.GOOS != "linux" || !ok {
		t.Skipf("no ELF header kept for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	exe := make([]byte, 20)
	if _, err := io.ReadFull(f, exe); err != nil {
		t.Fatal(err)
	}
	// e_type (bytes 16–17) is 3 for a position-independent test binary.
	if string(exe[:16]) != string(head[:16]) || string(exe[18:20]) != string(head[18:20]) {
		t.Errorf("this executable begins % x, where the header kept is % x", exe[:20], head)
	}
	if err := RunsArch(runtime.GOARCH); err != nil {
		t.Errorf("RunsArch(%s) on a %s machine: %v", runtime.GOARCH, runtime.GOARCH, err)
	}
}
