package emulate

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// elfHeads are the first 20 bytes of a static Linux executable of each
// architecture the deployments build for: the ELF identification (64-bit,
// little-endian, version 1), e_type ET_EXEC and e_machine.
var elfHeads = map[string][]byte{
	"amd64": append(elfIdent(), 2, 0, 0x3e, 0),
	"arm64": append(elfIdent(), 2, 0, 0xb7, 0),
}

func elfIdent() []byte {
	return []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}
}

// binfmtDir is where Linux lists the interpreters it runs foreign
// executables with (binfmt_misc).
const binfmtDir = "/proc/sys/fs/binfmt_misc"

// RunsArch reports, as nil, that this machine runs linux/goarch executables:
// it is one, or an enabled binfmt_misc entry (qemu-user's, say) takes them.
// Otherwise the error says what is missing.
func RunsArch(goarch string) error {
	if runtime.GOOS == "linux" && runtime.GOARCH == goarch {
		return nil
	}
	head, ok := elfHeads[goarch]
	if !ok {
		return fmt.Errorf("no ELF header known for %s", goarch)
	}
	if runtime.GOOS != "linux" {
		return fmt.Errorf("this machine is %s/%s, and binfmt_misc is Linux's", runtime.GOOS, runtime.GOARCH)
	}
	if status, err := os.ReadFile(filepath.Join(binfmtDir, "status")); err != nil || strings.TrimSpace(string(status)) != "enabled" {
		return fmt.Errorf("binfmt_misc is not mounted and enabled at %s, so this %s machine runs no linux/%s executable", binfmtDir, runtime.GOARCH, goarch)
	}
	entries, _ := os.ReadDir(binfmtDir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(binfmtDir, e.Name()))
		if err == nil && binfmtTakes(string(b), head) {
			return nil
		}
	}
	return fmt.Errorf("no enabled binfmt_misc entry in %s takes linux/%s executables (Debian: apt-get install qemu-user-static binfmt-support)", binfmtDir, goarch)
}

// binfmtTakes reports whether the binfmt_misc entry described by entry (the
// text of its file: "enabled", "offset N", "magic HEX", "mask HEX") is enabled
// and matches an executable that begins with head.
func binfmtTakes(entry string, head []byte) bool {
	var (
		enabled     bool
		offset      int
		magic, mask []byte
	)
	for line := range strings.Lines(entry) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch k {
		case "enabled":
			enabled = true
		case "offset":
			offset, _ = strconv.Atoi(v)
		case "magic":
			magic, _ = hex.DecodeString(v)
		case "mask":
			mask, _ = hex.DecodeString(v)
		}
	}
	if !enabled || len(magic) == 0 || offset < 0 || offset+len(magic) > len(head) {
		return false
	}
	got := bytes.Clone(head[offset : offset+len(magic)])
	for i := range got {
		if i < len(mask) {
			got[i] &= mask[i]
		}
	}
	return bytes.Equal(got, magic)
}
