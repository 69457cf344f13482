package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kmsless/kmsless/bench/load"
	"github.com/kmsless/kmsless/infra/platform"
)

// serverEnv, set in a child's environment, makes loadgen serve the floor
// comparison's servers on the address it holds and take commands on stdin
// instead of generating load.
const serverEnv = "KMSLESS_LOADGEN_SERVER"

// cfsPeriod is the CFS period of the cgroups made, in µs: a quota of one
// period per period is one CPU, as `docker run --cpus 1` sets it.
const cfsPeriod = 100_000

// box confines the child to a number of CPUs: a cgroup of loadgen's own
// (inCgroup) or a Docker container (inContainer).
type box interface {
	// command is the child's command, which starts it in the box; with
	// profile set, at the path it returns the child writes that file.
	command(profile string) (cmd *exec.Cmd, childProfile string, err error)
	// started, called once the child has said hello, is the cgroup that
	// limits it and the host its servers are reached on ("" for the
	// addresses the child gave).
	started() (cgroup, string, error)
	// remove undoes what command made.
	remove()
	// String says what the box is, for the report.
	String() string
}

// compareFloorIn runs the floor comparison with its servers in a child process
// confined to a number of CPUs by b, as a container runtime confines a
// container, and the load client here, outside the limit. Each side's CPU is
// the child's own. With profile set, the child writes a CPU profile of
// kmsless's first run there.
func compareFloorIn(w io.Writer, o load.Options, b box, profile string) error {
	cmd, childProfile, err := b.command(profile)
	if err != nil {
		return err
	}
	// The box outlives this process unless removed, so it is removed on an
	// interrupt, or a closed output, too.
	var c *child
	cleanup := sync.OnceFunc(func() {
		if c != nil {
			c.stop()
		}
		b.remove()
	})
	defer cleanup()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	defer signal.Stop(sig)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sig:
			cleanup()
			os.Exit(1)
		case <-done:
		}
	}()
	c, h, err := startChild(cmd)
	if err != nil {
		return err
	}
	g, host, err := b.started()
	if err != nil {
		return err
	}
	s := h.Servers
	if host != "" {
		for i, a := range s.Addrs {
			_, port, _ := net.SplitHostPort(a)
			s.Addrs[i] = net.JoinHostPort(host, port)
		}
	}
	o.Sign = s.pool
	toProfile, profiled := profile != "", 0
	o.Around = func(side load.Side, run func() (load.Result, error)) (load.Result, error) {
		first := toProfile && side.Name == floorNames[1]
		if first {
			toProfile = false
			if _, err := c.ask("profile " + childProfile); err != nil {
				return load.Result{}, err
			}
		}
		before, err := c.cpu()
		if err != nil {
			return load.Result{}, err
		}
		r, err := run()
		after, err2 := c.cpu()
		r.CPU = after - before
		if first {
			profiled = r.Requests
			_, err3 := c.ask("stop")
			err2 = errors.Join(err2, err3)
		}
		return r, errors.Join(err, err2)
	}
	t0, err := g.throttled()
	if err != nil {
		return err
	}
	res, err := load.Compare(o, s.sides()...)
	if err != nil {
		return err
	}
	t1, err := g.throttled()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "== GenerateDataKeyWithoutPlaintext, ACS3-signed, HTTP, bbolt, vs a bare handler fed the same requests (%d conns, %d x %s each)\n", o.Conns, o.Rounds, o.Run)
	fmt.Fprintf(w, "   servers in %s (cfs quota %d µs a %d µs period), GOMAXPROCS %d of %d CPUs there; load client outside it\n",
		b, g.quota, cfsPeriod, h.GOMAXPROCS, h.NumCPU)
	reportFloor(w, res, "server process")
	fmt.Fprintf(w, "server throttled in %d of %d periods, %.2f s summed over its run queues\n", t1.throttled-t0.throttled, t1.periods-t0.periods, (t1.time - t0.time).Seconds())
	if profile != "" {
		fmt.Fprintf(w, "cpu profile of the server process during kmsless's first run (%d requests): %s\n", profiled, profile)
	}
	return nil
}

// inCgroup is a box made of a cgroup of its own under root (a cgroup v2
// hierarchy, or the cgroup v1 cpu controller's mount) that a shell joins
// before it becomes the child, so the Go runtime starts inside the limit and
// sizes GOMAXPROCS by it.
func inCgroup(root string, cpus float64) box { return &cgroupBox{root: root, cpus: cpus} }

type cgroupBox struct {
	root string
	cpus float64
	g    cgroup
}

func (b *cgroupBox) command(profile string) (*exec.Cmd, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	if b.g, err = newCgroup(b.root, b.cpus); err != nil {
		return nil, "", err
	}
	cmd := exec.Command("/bin/sh", "-c", `echo $$ > "$0" && exec "$1"`, filepath.Join(b.g.dir, "cgroup.procs"), exe)
	cmd.Env = append(os.Environ(), serverEnv+"=127.0.0.1:0")
	return cmd, profile, nil
}

func (b *cgroupBox) started() (cgroup, string, error) { return b.g, "", nil }

func (b *cgroupBox) remove() {
	if b.g.dir != "" {
		b.g.remove()
	}
}

func (b *cgroupBox) String() string { return fmt.Sprintf("a cgroup of %g CPU", b.cpus) }

// defaultCgroupRoot is where -cpus makes its cgroup unless -cgroup names
// another place: the unified (v2) hierarchy where the machine mounts it at
// /sys/fs/cgroup, else the cgroup v1 cpu controller's usual mount.
func defaultCgroupRoot() string {
	if isCgroupV2("/sys/fs/cgroup") {
		return "/sys/fs/cgroup"
	}
	return "/sys/fs/cgroup/cpu"
}

// isCgroupV2 reports whether dir is in a cgroup v2 hierarchy, whose every
// cgroup lists its controllers.
func isCgroupV2(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "cgroup.controllers"))
	return err == nil
}

// cgroup is a cgroup whose CPU time is limited: in a cgroup v2 hierarchy
// (cpu.max) or in the cgroup v1 cpu controller's (cpu.cfs_quota_us).
type cgroup struct {
	dir   string
	v2    bool
	quota int // µs of CPU per cfsPeriod
}

// hierarchy names where root is, for an error.
func hierarchy(root string) string {
	if isCgroupV2(root) {
		return "the cgroup v2 hierarchy at " + root
	}
	return "the cgroup v1 cpu controller at " + root
}

func newCgroup(root string, cpus float64) (cgroup, error) {
	g := cgroup{dir: filepath.Join(root, fmt.Sprintf("kmsless-loadgen-%d", os.Getpid())), v2: isCgroupV2(root), quota: int(cpus * cfsPeriod)}
	if g.quota < 1000 {
		return cgroup{}, fmt.Errorf("-cpus %g: a container needs at least 0.01 CPU", cpus)
	}
	if g.v2 {
		if err := enableCPU(root); err != nil {
			return cgroup{}, err
		}
	}
	if err := os.Mkdir(g.dir, 0o755); err != nil {
		return cgroup{}, fmt.Errorf("container mode confines the servers with %s, and cannot make a cgroup there "+
			"(it needs it mounted and writable, usually as root): %w", hierarchy(root), err)
	}
	var err error
	if g.v2 {
		err = g.write("cpu.max", fmt.Sprintf("%d %d", g.quota, cfsPeriod))
	} else if err = g.write("cpu.cfs_period_us", strconv.Itoa(cfsPeriod)); err == nil {
		err = g.write("cpu.cfs_quota_us", strconv.Itoa(g.quota))
	}
	if err != nil {
		g.remove()
		return cgroup{}, err
	}
	return g, nil
}

// enableCPU makes sure the cgroup v2 cgroup at root hands the cpu controller
// to the cgroups under it.
func enableCPU(root string) error {
	control := filepath.Join(root, "cgroup.subtree_control")
	enabled, err := os.ReadFile(control)
	if err == nil && slices.Contains(strings.Fields(string(enabled)), "cpu") {
		return nil
	}
	if err == nil {
		err = os.WriteFile(control, []byte("+cpu"), 0)
	}
	if err != nil {
		return fmt.Errorf("container mode limits the servers' CPU with the cpu controller, which %s does not hand to its cgroups "+
			"and could not be made to (it needs the controller in cgroup.controllers there, and root): %w", hierarchy(root), err)
	}
	return nil
}

func (g cgroup) write(file, v string) error {
	return os.WriteFile(filepath.Join(g.dir, file), []byte(v), 0)
}

// readQuota reads the cgroup's CPU quota, in µs a cfsPeriod (-1 for none).
func (g *cgroup) readQuota() error {
	file := "cpu.cfs_quota_us"
	if g.v2 {
		file = "cpu.max" // "QUOTA PERIOD", QUOTA "max" for none
	}
	b, err := os.ReadFile(filepath.Join(g.dir, file))
	if err != nil {
		return err
	}
	quota, _, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	if quota == "max" {
		g.quota = -1
		return nil
	}
	g.quota, err = strconv.Atoi(quota)
	return err
}

// remove deletes the cgroup, which its processes have left by exiting.
func (g cgroup) remove() {
	if err := os.Remove(g.dir); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen: removing the cgroup:", err)
	}
}

// throttling is the cgroup's cpu.stat so far.
type throttling struct {
	periods, throttled int64
	time               time.Duration
}

func (g cgroup) throttled() (throttling, error) {
	b, err := os.ReadFile(filepath.Join(g.dir, "cpu.stat"))
	if err != nil {
		return throttling{}, err
	}
	var t throttling
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, " ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "nr_periods":
			t.periods = n
		case "nr_throttled":
			t.throttled = n
		case "throttled_time": // v1, in ns
			t.time = time.Duration(n)
		case "throttled_usec": // v2
			t.time = time.Duration(n) * time.Microsecond
		}
	}
	return t, nil
}

// hello is the child's first line on stdout.
type hello struct {
	Servers    floorServers
	GOMAXPROCS int
	NumCPU     int
}

// child is this program running the floor comparison's servers, taking one
// command a line on stdin and answering one line on stdout: "cpu" (its CPU
// time so far, in ns), "profile PATH", "stop" (the profile); stdin's end
// stops it.
type child struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startChild starts cmd, the child, and reads its hello.
func startChild(cmd *exec.Cmd) (*child, hello, error) {
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, hello{}, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, hello{}, err
	}
	if err := cmd.Start(); err != nil {
		return nil, hello{}, err
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewReader(out)}
	line, err := c.out.ReadBytes('\n')
	var h hello
	if err == nil {
		err = json.Unmarshal(line, &h)
	}
	if err != nil {
		c.stop()
		return nil, hello{}, fmt.Errorf("the server process did not start: %w", err)
	}
	return c, h, nil
}

// ask sends a command and returns the answer, or the error the child gave.
func (c *child) ask(cmd string) (string, error) {
	if _, err := io.WriteString(c.in, cmd+"\n"); err != nil {
		return "", err
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\n")
	if msg, failed := strings.CutPrefix(line, "error "); failed {
		return "", fmt.Errorf("server process: %s: %s", cmd, msg)
	}
	return line, nil
}

// cpu is the child's CPU time so far.
func (c *child) cpu() (time.Duration, error) {
	s, err := c.ask("cpu")
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return time.Duration(n), err
}

// stop ends stdin, which stops the child, and waits for it to exit.
func (c *child) stop() {
	_ = c.in.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// serveChild is the child's side: it sizes GOMAXPROCS as the api server
// does at start-up, serves the floor comparison's servers and answers
// commands until stdin ends.
func serveChild(in io.Reader, out io.Writer) error {
	listenAddr = os.Getenv(serverEnv)
	platform.SizeProcs(slog.New(slog.DiscardHandler))
	s, stop, err := startFloorServers()
	if err != nil {
		return err
	}
	defer stop()
	if err := json.NewEncoder(out).Encode(hello{Servers: s, GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU()}); err != nil {
		return err
	}
	var prof *os.File
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(sc.Text(), " ")
		var err error
		answer := "ok"
		switch cmd {
		case "cpu":
			answer = strconv.FormatInt(int64(load.ProcessCPU()), 10)
		case "profile":
			if prof, err = os.Create(arg); err == nil {
				err = pprof.StartCPUProfile(prof)
			}
		case "stop":
			pprof.StopCPUProfile()
			err = prof.Close()
		default:
			err = errors.New("unknown command")
		}
		if err != nil {
			answer = "error " + err.Error()
		}
		if _, err := fmt.Fprintln(out, answer); err != nil {
			return err
		}
	}
	return sc.Err()
}
