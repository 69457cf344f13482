package main

import (
	"bufio"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// inContainer is a box made of a Docker container of image, limited to cpus
// CPUs as `docker run --cpus` limits it, on Docker's default bridge network,
// so that the load reaches the servers through the container's own network
// as a published port does. The child is this program, built static and
// mounted into the container: the image gives it the file system the api
// server has there. root is the cgroup hierarchy (v2, or v1's cpu
// controller) where the container's cgroup is found for its quota and
// throttling counts.
func inContainer(image, root string, cpus float64) box {
	return &containerBox{image: image, root: root, cpus: cpus}
}

// containerLabel marks loadgen's containers, which `docker ps --filter
// label=kmsless-loadgen` lists.
const containerLabel = "kmsless-loadgen"

type containerBox struct {
	image, root string
	cpus        float64
	dir         string // the static child and the container's ID file
}

func (b *containerBox) cidFile() string { return filepath.Join(b.dir, "cid") }

// profileDir is where the profile's folder is mounted in the container: a
// path of its own, since the host's may be one the container has already
// (its /tmp, say, which would be mounted twice).
const profileDir = "/loadgen-profile"

func (b *containerBox) command(profile string) (*exec.Cmd, string, error) {
	var err error
	if b.dir, err = os.MkdirTemp("", "loadgen-docker"); err != nil {
		return nil, "", err
	}
	exe, err := staticChild(b.dir)
	if err != nil {
		return nil, "", err
	}
	args := []string{"run", "-i", "--rm", "--cidfile", b.cidFile(), "--label", containerLabel, "--cpus", strconv.FormatFloat(b.cpus, 'g', -1, 64),
		"--read-only", "--tmpfs", "/tmp", "--user", fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()),
		"-e", serverEnv + "=0.0.0.0:0", "-v", exe + ":/loadgen:ro", "--entrypoint", "/loadgen"}
	childProfile := ""
	if profile != "" {
		args = append(args, "-v", filepath.Dir(profile)+":"+profileDir)
		childProfile = profileDir + "/" + filepath.Base(profile)
	}
	return exec.Command("docker", append(args, b.image)...), childProfile, nil
}

// staticChild is this program as a binary that runs in an image without a
// C library: itself when it is linked statically, else a static build of
// loadgen in dir (go run links it against the C library).
func staticChild(dir string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := elf.Open(self)
	if err != nil {
		return "", err
	}
	defer f.Close()
	static := true
	for _, p := range f.Progs {
		static = static && p.Type != elf.PT_INTERP
	}
	if static {
		return self, nil
	}
	exe := filepath.Join(dir, "loadgen")
	build := exec.Command("go", "build", "-trimpath", "-o", exe, "github.com/kmsless/kmsless/bench/cmd/loadgen")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building loadgen static for the container: %v\n%s", err, out)
	}
	return exe, nil
}

func (b *containerBox) started() (cgroup, string, error) {
	id, err := os.ReadFile(b.cidFile())
	if err != nil {
		return cgroup{}, "", err
	}
	out, err := exec.Command("docker", "inspect", "-f", "{{.State.Pid}} {{.NetworkSettings.IPAddress}}", string(id)).Output()
	if err != nil {
		return cgroup{}, "", fmt.Errorf("docker inspect: %w", err)
	}
	pid, ip, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if ip == "" {
		return cgroup{}, "", errors.New("the container has no address on Docker's bridge network")
	}
	g := cgroup{v2: isCgroupV2(b.root)}
	path, err := cgroupOf(pid, g.v2)
	if err != nil {
		return cgroup{}, "", err
	}
	g.dir = filepath.Join(b.root, path)
	if err := g.readQuota(); err != nil {
		return cgroup{}, "", fmt.Errorf("the container's cgroup (in %s): %w", hierarchy(b.root), err)
	}
	return g, ip, nil
}

// cgroupOf is the path of process pid's cgroup, from /proc/PID/cgroup: in
// the cgroup v2 hierarchy, or else in the v1 cpu controller's.
func cgroupOf(pid string, v2 bool) (string, error) {
	f, err := os.Open(filepath.Join("/proc", pid, "cgroup"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-ID:controller,controller:path; v2's is 0::path.
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if v2 && parts[0] == "0" && parts[1] == "" || !v2 && slices.Contains(strings.Split(parts[1], ","), "cpu") {
			return parts[2], nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	if v2 {
		return "", fmt.Errorf("process %s is in no cgroup v2 hierarchy", pid)
	}
	return "", fmt.Errorf("process %s is in no cgroup v1 cpu hierarchy", pid)
}

func (b *containerBox) remove() {
	if id, err := os.ReadFile(b.cidFile()); err == nil {
		_ = exec.Command("docker", "rm", "-f", string(id)).Run()
	}
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

func (b *containerBox) String() string {
	return fmt.Sprintf("a Docker container of %s, --cpus %g, reached on its bridge network", b.image, b.cpus)
}
