package emulate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kmsless/kmsless/infra/fcemu"
	"github.com/kmsless/kmsless/internal/syncbuf"
)

// Outcome is one invocation's result as the invoker sees it.
type Outcome struct {
	// Payload is the function's response when it succeeded.
	Payload json.RawMessage
	// ErrorType and ErrorMessage describe a function error.
	ErrorType    string
	ErrorMessage string
	// RoundTrip is the time from sending the event to reading the answer.
	RoundTrip time.Duration
}

// Failed reports whether the invocation ended in a function error.
func (o Outcome) Failed() bool { return o.ErrorType != "" }

// Runner is a function instance under an emulator.
type Runner interface {
	// Invoke sends one event and waits for the answer.
	Invoke(ctx context.Context, event []byte) (Outcome, error)
	// InitDuration is how long the function took to initialize, as the
	// emulator measured it; zero if it is not known (the Lambda emulator
	// initializes on the first invocation).
	InitDuration() time.Duration
	// Logs is what the emulator and the function printed so far.
	Logs() string
	// CPU is the CPU time the function's process has spent so far, the
	// emulator's own not counted.
	CPU() (time.Duration, error)
	// Stop shuts the instance down as the platform would.
	Stop() error
}

// Lambda runs binary as a Lambda function's bootstrap under aws-lambda-rie,
// with env as the whole environment of the emulator and the function.
func Lambda(ctx context.Context, rie, binary string, env []string) (Runner, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]), binary)
	cmd.Env = env
	l := &lambdaRunner{cmd: cmd, url: "http://" + addr + "/2015-03-31/functions/function/invocations", exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &l.logs, &l.logs
	// Its own process group, so that Stop reaches the function too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = cmd.Wait(); close(l.exited) }()
	if err := waitListening(ctx, addr, l.exited); err != nil {
		_ = l.Stop()
		return nil, fmt.Errorf("aws-lambda-rie did not start: %w\n%s", err, l.Logs())
	}
	return l, nil
}

type lambdaRunner struct {
	cmd    *exec.Cmd
	url    string
	logs   syncbuf.Buffer
	exited chan struct{}
}

// initReport is the line the emulator prints when the runtime finished its
// initialization: INIT REPORT(durationMs: 7.107000).
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

func (l *lambdaRunner) Invoke(ctx context.Context, event []byte) (Outcome, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url, bytes.NewReader(event))
	if err != nil {
		return Outcome{}, err
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Outcome{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	rt := time.Since(start)
	if err != nil {
		return Outcome{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return Outcome{}, fmt.Errorf("aws-lambda-rie answered %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return outcome(body, rt), nil
}

// outcome reads an answer: a function error is the object with exactly the
// error fields the runtimes post; anything else is the function's response.
func outcome(body []byte, rt time.Duration) Outcome {
	var fe map[string]json.RawMessage
	if json.Unmarshal(body, &fe) == nil && fe["errorType"] != nil && fe["errorMessage"] != nil {
		extra := len(fe) - 2
		if fe["stackTrace"] != nil {
			extra--
		}
		if extra == 0 {
			var o Outcome
			_ = json.Unmarshal(fe["errorType"], &o.ErrorType)
			_ = json.Unmarshal(fe["errorMessage"], &o.ErrorMessage)
			o.RoundTrip = rt
			return o
		}
	}
	return Outcome{Payload: body, RoundTrip: rt}
}

func (l *lambdaRunner) InitDuration() time.Duration {
	// The emulator's output reaches us through a pipe, a moment after the
	// answer it accompanies: wait a little for the line.
	for wait := time.Now().Add(time.Second); ; time.Sleep(5 * time.Millisecond) {
		if m := initReport.FindStringSubmatch(l.logs.String()); m != nil {
			ms, _ := strconv.ParseFloat(m[1], 64)
			return time.Duration(ms * float64(time.Millisecond))
		}
		if time.Now().After(wait) {
			return 0
		}
	}
}

func (l *lambdaRunner) Logs() string { return l.logs.String() }

// CPU is the CPU time the function's process has spent so far (processCPU):
// the emulator's child, which it starts at the first invocation. The
// emulator's own time is not counted, as the FC emulator's is not.
func (l *lambdaRunner) CPU() (time.Duration, error) {
	// Any of the emulator's threads may have started the function.
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", l.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	var children []string
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
		children = append(children, strings.Fields(string(b))...)
	}
	if len(children) != 1 {
		return 0, fmt.Errorf("aws-lambda-rie runs %d processes (%s), not one function", len(children), strings.Join(children, " "))
	}
	pid, err := strconv.Atoi(children[0])
	if err != nil {
		return 0, err
	}
	return processCPU(pid)
}

// Stop sends SIGTERM, which the emulator passes on to the function, and kills
// the group if it lingers.
func (l *lambdaRunner) Stop() error {
	_ = syscall.Kill(-l.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-l.exited:
		return nil
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-l.cmd.Process.Pid, syscall.SIGKILL)
		<-l.exited
		return errors.New("aws-lambda-rie did not stop on SIGTERM and was killed")
	}
}

// FC runs binary under the Function Compute runtime API emulator, in this
// process, with env as the function's whole environment.
func FC(ctx context.Context, name, binary string, env []string, timeout time.Duration) (Runner, error) {
	cmd := exec.Command(binary)
	cmd.Env = env
	f := &fcRunner{}
	cmd.Stdout, cmd.Stderr = &f.logs, &f.logs
	in, err := fcemu.Start(fcemu.Options{FunctionName: name, Handler: "main", Region: "cn-hangzhou", Timeout: timeout}, "127.0.0.1:0", cmd)
	if err != nil {
		return nil, err
	}
	f.in, f.pid = in, cmd.Process.Pid
	if f.init, err = in.WaitReady(ctx); err != nil {
		_ = in.Stop(context.Background(), 2*time.Second)
		return nil, fmt.Errorf("%w\n%s", err, f.logs.String())
	}
	return f, nil
}

type fcRunner struct {
	in   *fcemu.Instance
	pid  int
	init time.Duration
	logs syncbuf.Buffer
}

// CPU is the CPU time the function's process has spent so far (processCPU).
func (f *fcRunner) CPU() (time.Duration, error) { return processCPU(f.pid) }

// processCPU is the CPU time process pid has spent so far, in user space and
// in the kernel: the sum of its threads' run time in Linux's schedstat, to
// the nanosecond. The Go runtime seldom ends a thread; the time of one that
// has ended is no longer counted.
func processCPU(pid int) (time.Duration, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if errors.Is(err, fs.ErrNotExist) {
			continue // the thread has exited
		}
		if err != nil {
			return 0, err
		}
		run, _, _ := strings.Cut(string(b), " ")
		ns, err := strconv.ParseInt(run, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s/%s/schedstat: %w", dir, t.Name(), err)
		}
		sum += time.Duration(ns)
	}
	return sum, nil
}

func (f *fcRunner) Invoke(ctx context.Context, event []byte) (Outcome, error) {
	start := time.Now()
	res, err := f.in.Invoke(ctx, event)
	rt := time.Since(start)
	if err != nil {
		return Outcome{}, err
	}
	if res.Error != nil {
		return Outcome{ErrorType: res.Error.Type, ErrorMessage: res.Error.Message, RoundTrip: rt}, nil
	}
	return Outcome{Payload: res.Payload, RoundTrip: rt}, nil
}

func (f *fcRunner) InitDuration() time.Duration { return f.init }
func (f *fcRunner) Logs() string                { return f.logs.String() }

func (f *fcRunner) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return f.in.Stop(ctx, 2*time.Second)
}

// freePorts asks the kernel for n distinct free ports. Another process could
// take one before the emulator binds it; the emulator then fails to start,
// loudly.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func waitListening(ctx context.Context, addr string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("the emulator exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// BaseEnv is the part of this process's environment a function needs to run
// (PATH, HOME, TMPDIR), without anything else it happens to have, such as
// REDIS_URL: runs stay hermetic.
func BaseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}
