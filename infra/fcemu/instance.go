package fcemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"syscall"
	"time"
)

// Instance is a function process running under its own runtime API server.
type Instance struct {
	Server *Server
	// RuntimeAPI is the host:port the function was given as FC_RUNTIME_API.
	RuntimeAPI string
	cmd        *exec.Cmd
	http       *http.Server
	started    time.Time
	exited     chan struct{}
	exitErr    error
}

// Start serves a runtime API on runtimeAddr ("127.0.0.1:0" picks a port) and
// starts cmd with FC_RUNTIME_API and the FC_* variables of a function
// instance added to its environment (cmd.Env, or this process's when nil).
func Start(opts Options, runtimeAddr string, cmd *exec.Cmd) (*Instance, error) {
	s := New(opts)
	ln, err := net.Listen("tcp", runtimeAddr)
	if err != nil {
		return nil, err
	}
	in := &Instance{Server: s, RuntimeAPI: ln.Addr().String(), cmd: cmd, exited: make(chan struct{}),
		http: &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = in.http.Serve(ln) }()
	if cmd.Env == nil {
		cmd.Env = cmd.Environ()
	}
	cmd.Env = append(cmd.Env,
		"FC_RUNTIME_API="+in.RuntimeAPI,
		"FC_FUNCTION_NAME="+s.opts.FunctionName,
		"FC_FUNCTION_HANDLER="+s.opts.Handler,
		fmt.Sprintf("FC_FUNCTION_MEMORY_SIZE=%d", s.opts.MemoryMB),
		"FC_REGION="+s.opts.Region,
		"FC_ACCOUNT_ID="+s.opts.AccountID,
	)
	in.started = time.Now()
	if err := cmd.Start(); err != nil {
		_ = in.http.Close()
		return nil, err
	}
	go func() {
		in.exitErr = cmd.Wait()
		close(in.exited)
	}()
	return in, nil
}

// WaitReady waits for the function's first request for work and returns how
// long its initialization took, from process start.
func (in *Instance) WaitReady(ctx context.Context) (time.Duration, error) {
	select {
	case <-in.Server.Ready():
		return time.Since(in.started), nil
	case <-in.exited:
		return 0, fmt.Errorf("fcemu: the function exited during initialization: %v", in.exitErr)
	case <-ctx.Done():
		return 0, ErrNotReady
	}
}

// Invoke runs one invocation; it fails if the process exits or ctx ends first.
func (in *Instance) Invoke(ctx context.Context, event []byte) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-in.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	res, err := in.Server.Invoke(ctx, event)
	if err != nil && in.Exited() {
		return res, fmt.Errorf("fcemu: the function exited: %v", in.exitErr)
	}
	return res, err
}

// Exited reports whether the function process has ended.
func (in *Instance) Exited() bool {
	select {
	case <-in.exited:
		return true
	default:
		return false
	}
}

// Stop stops the instance as the platform does: the pre-stop hook first (if
// the function is still running), then SIGTERM, then SIGKILL after grace.
func (in *Instance) Stop(ctx context.Context, grace time.Duration) error {
	defer in.http.Close()
	if !in.Exited() {
		if res, err := in.Server.PreStop(ctx); err == nil && res.Error != nil {
			return errors.Join(fmt.Errorf("fcemu: pre-stop: %w", res.Error), in.terminate(grace))
		}
	}
	return in.terminate(grace)
}

func (in *Instance) terminate(grace time.Duration) error {
	if in.Exited() {
		return nil
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
		return nil
	case <-time.After(grace):
		_ = in.cmd.Process.Kill()
		<-in.exited
		return fmt.Errorf("fcemu: the function ignored SIGTERM for %s and was killed", grace)
	}
}
