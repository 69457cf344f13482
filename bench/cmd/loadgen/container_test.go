package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/bench/load"
)

// TestMain lets the test binary be container mode's server process, as
// loadgen's own binary is.
func TestMain(m *testing.M) {
	if os.Getenv(serverEnv) != "" {
		check(serveChild(os.Stdin, os.Stdout))
		return
	}
	os.Exit(m.Run())
}

// Without a cgroup controller to confine the servers with, container mode
// says so and starts nothing.
func TestContainerModeRefusesWithoutCgroup(t *testing.T) {
	root := filepath.Join(t.TempDir(), "no-cpu-controller")
	var out bytes.Buffer
	err := compareFloorIn(&out, load.Options{Rounds: 1, Run: time.Second}, inCgroup(root, 1), "")
	if err == nil || !strings.Contains(err.Error(), "cgroup v1 cpu controller at "+root) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want a refusal naming the controller and why", err)
	}
	if out.Len() > 0 {
		t.Fatalf("printed %q before refusing", out.String())
	}
}

// Where a cgroup can be made, container mode measures every side in the
// child, writes the child's profile and leaves no cgroup behind; the child,
// sized as the api server sizes itself, runs one P under a quota of one CPU.
func TestContainerModeReportsEverySide(t *testing.T) {
	root := defaultCgroupRoot()
	probe, err := newCgroup(root, 1)
	if err != nil {
		t.Skip(err)
	}
	probe.remove()
	profile := filepath.Join(t.TempDir(), "server.out")
	var out bytes.Buffer
	o := load.Options{Conns: 2, Rounds: 1, Run: 200 * time.Millisecond, Pool: 500}
	if err := compareFloorIn(&out, o, inCgroup(root, 1), profile); err != nil {
		t.Fatal(err)
	}
	for _, name := range append(floorNames, "GOMAXPROCS 1 of", "server throttled", profile) {
		if !strings.Contains(out.String(), name) {
			t.Errorf("report does not name %q:\n%s", name, out.String())
		}
	}
	if fi, err := os.Stat(profile); err != nil || fi.Size() == 0 {
		t.Errorf("no profile of the server process: %v", err)
	}
	if _, err := os.Stat(probe.dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("cgroup %s left behind: %v", probe.dir, err)
	}
}

// A cgroup made for the servers reads its quota back as the container box
// reads a container's, and this process's own cgroup is found in the same
// hierarchy as the box finds a container's: in cgroup v1's cpu controller
// or in a cgroup v2 hierarchy, whichever the machine has.
func TestCgroupReadsBackAsAContainersIs(t *testing.T) {
	root := defaultCgroupRoot()
	g, err := newCgroup(root, 0.5)
	if err != nil {
		t.Skip(err)
	}
	defer g.remove()
	back := cgroup{dir: g.dir, v2: g.v2}
	if err := back.readQuota(); err != nil || back.quota != cfsPeriod/2 {
		t.Errorf("the quota of half a CPU read back as %d µs (%v), not %d", back.quota, err, cfsPeriod/2)
	}
	if _, err := back.throttled(); err != nil {
		t.Errorf("cpu.stat: %v", err)
	}
	path, err := cgroupOf(strconv.Itoa(os.Getpid()), g.v2)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(root, path)); err != nil || !fi.IsDir() {
		t.Errorf("this process's cgroup %q is not under %s: %v", path, root, err)
	}
}
