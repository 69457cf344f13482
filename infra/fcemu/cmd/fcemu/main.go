// Command fcemu runs a function binary under the project's Function Compute
// runtime API emulator and serves its synchronous invocations over HTTP:
//
//	fcemu -addr 127.0.0.1:9000 -function decrypt -- ./dist/fc/decrypt/main
//	curl -d @events/fc/direct-decrypt.json http://127.0.0.1:9000/2023-03-30/functions/decrypt/invocations
//
// It prints an INIT REPORT line when the function first asks for work and a
// REPORT line per invocation; Ctrl-C runs the function's pre-stop hook, then
// stops it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/kmsless/kmsless/infra/fcemu"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "address of the invocation API")
	runtimeAddr := flag.String("runtime-api", "127.0.0.1:0", "address of the runtime API given to the function as FC_RUNTIME_API")
	name := flag.String("function", "function", "function name (x-fc-function-name and the invocation path)")
	timeout := flag.Duration("timeout", 60*time.Second, "deadline of each invocation (whole seconds)")
	memory := flag.Int("memory", 512, "memory size in MB reported to the function")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: fcemu [flags] -- command [args...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*addr, *runtimeAddr, fcemu.Options{FunctionName: *name, Handler: "main", Region: "cn-hangzhou", MemoryMB: *memory, Timeout: *timeout}, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "fcemu: %v\n", err)
		os.Exit(1)
	}
}

func run(addr, runtimeAddr string, opts fcemu.Options, argv []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	in, err := fcemu.Start(opts, runtimeAddr, cmd)
	if err != nil {
		return err
	}
	init, err := in.WaitReady(ctx)
	if err != nil {
		_ = in.Stop(context.Background(), 2*time.Second)
		return err
	}
	fmt.Printf("INIT REPORT Init Duration: %.2f ms\n", float64(init.Microseconds())/1000)
	fmt.Printf("fcemu: invoke with POST http://%s%s\n", ln.Addr(), fcemu.InvocationPath(opts.FunctionName))
	srv := &http.Server{Handler: report(fcemu.InvokeHandler(in)), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), opts.Timeout+5*time.Second)
	defer cancel()
	_ = srv.Shutdown(stopCtx)
	if serr := in.Stop(stopCtx, 2*time.Second); serr != nil {
		return serr
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// report prints one line per invocation, like the platform's log.
func report(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		fmt.Printf("REPORT RequestId: %s Duration: %.2f ms\n", w.Header().Get("X-Fc-Request-Id"), float64(time.Since(start).Microseconds())/1000)
	})
}
