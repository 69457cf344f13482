package functions_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

// BenchmarkInvocation prices one warm invocation of the api function with a
// signed GenerateDataKeyWithoutPlaintext HTTP event (a Lambda function URL
// under aws-lambda-rie, an FC HTTP trigger under the FC emulator), against a
// hello-world function of the same runtime library answering the same event:
// x-hello is the ratio of the median round trips. cpu-µs/inv is the api's
// process's CPU an invocation, beside hello-world's: the same invocation run
// hot in process (BenchmarkInvokeFCHTTP and BenchmarkInvokeFunctionURL in
// bench/) shows what of it is the work itself and what is the work done cold,
// between other processes. One op is a block of
// invocationsPerOp invocations of each, alternating, so that it shares a run
// (and the build of every function) with BenchmarkColdStart's -benchtime 10x;
// each api event is signed afresh before it is timed.
//
// Both run with the Go runtime settings the platform's template deploys
// (deployedRuntime), as a hello-world deployed beside the api would.
// -api-env and -hello-env add variables to one function's environment, to
// weigh a runtime setting against the same hello-world or to undo a deployed
// one:
//
//	go test -run '^$' -bench Invocation/fc -benchtime 10x ./functions/ -args -api-env GOGC=400
//	go test -run '^$' -bench Invocation -benchtime 10x ./functions/ -args -api-env GOMAXPROCS=2 -hello-env GOMAXPROCS=2
func BenchmarkInvocation(b *testing.B) {
	f := newFixture(b)
	for _, plat := range []struct{ name, hello, sample string }{
		{"lambda", "hello", "aws/function-url-generate-data-key-without-plaintext.json"},
		{"fc", "hello-fc", "fc/http-generate-data-key-without-plaintext.json"},
	} {
		b.Run(plat.name, func(b *testing.B) {
			if plat.name == "lambda" && rie == "" {
				b.Skipf("aws-lambda-rie is missing: %v", rieErr)
			}
			sample, sign := signer(b, f, plat.sample)
			api, hello := startPair(b, f, plat.name, plat.hello)
			var apiRTs, helloRTs []time.Duration
			invoke := func(r emulate.Runner, event []byte) time.Duration {
				rt, err := invokeOK(r, event)
				if err != nil {
					b.Fatal(err)
				}
				return rt
			}
			for range 20 { // warm both: connections, caches, the runtime's buffers
				invoke(api, sign())
				invoke(hello, sample)
			}
			apiCPU, helloCPU := cpuMeter(b, api), cpuMeter(b, hello)
			b.ResetTimer()
			for range b.N * invocationsPerOp {
				event := sign()
				apiRTs = append(apiRTs, invoke(api, event))
				helloRTs = append(helloRTs, invoke(hello, event))
			}
			b.StopTimer()
			n := float64(len(apiRTs))
			apiPer, helloPer := µs(apiCPU())/n, µs(helloCPU())/n
			b.ReportMetric(apiPer, "cpu-µs/inv")
			b.ReportMetric(helloPer, "hello-cpu-µs/inv")
			b.ReportMetric(apiPer/helloPer, "x-hello-cpu")
			b.ReportMetric(µs(quantile(apiRTs, 0.5)), "p50-µs")
			b.ReportMetric(µs(quantile(apiRTs, 0.99)), "p99-µs")
			b.ReportMetric(µs(quantile(helloRTs, 0.5)), "hello-p50-µs")
			b.ReportMetric(µs(quantile(helloRTs, 0.99)), "hello-p99-µs")
			b.ReportMetric(float64(quantile(apiRTs, 0.5))/float64(quantile(helloRTs, 0.5)), "x-hello")
		})
	}
}

var (
	apiEnv   = flag.String("api-env", "", "space-separated NAME=value pairs added to the api's environment in BenchmarkInvocation")
	helloEnv = flag.String("hello-env", "", "the same for the hello-world function's environment")
)

// deployedRuntime is the Go runtime's variables (GOMAXPROCS, GOGC, …) that
// platform's template sets for the api function: template.yaml's Globals on
// Lambda, s.yaml on FC. An environment's later entries win, so -api-env and
// -hello-env override them.
func deployedRuntime(tb testing.TB, platform string) []string {
	tb.Helper()
	var vars map[string]any
	if platform == "lambda" {
		vars = globalsEnv(tb)
	} else {
		var doc sDoc
		readYAML(tb, "s.yaml", &doc)
		vars, _ = doc.Resources["api"].Props["environmentVariables"].(map[string]any)
	}
	var env []string
	for _, k := range sortedKeys(vars) {
		if strings.HasPrefix(k, "GO") {
			env = append(env, fmt.Sprintf("%s=%v", k, vars[k]))
		}
	}
	return env
}

// The invocation benchmarks run the functions as the templates deploy them:
// a template that stops setting GOMAXPROCS, or a reader that stops finding
// it, shows here.
func TestDeployedRuntimeIsReadFromBothTemplates(t *testing.T) {
	for _, platform := range []string{"lambda", "fc"} {
		if got := deployedRuntime(t, platform); !slices.Equal(got, []string{"GOMAXPROCS=1"}) {
			t.Errorf("%s: the template's Go runtime settings read as %q; want [GOMAXPROCS=1]", platform, got)
		}
	}
}

// invocationsPerOp is the number of invocations of each function in one op.
const invocationsPerOp = 100

// startPair starts the api and the hello-world function hello under
// platform's emulator, with the Go runtime settings the platform's template
// deploys and -api-env and -hello-env added; both stop when b ends.
func startPair(b *testing.B, f *fixture, platform, hello string) (api, helloWorld emulate.Runner) {
	b.Helper()
	env := append(f.env(b, "api"), deployedRuntime(b, platform)...)
	api = startRunner(b, platform, "api", append(slices.Clone(env), strings.Fields(*apiEnv)...))
	helloWorld = startRunner(b, platform, hello, append(slices.Clone(env), strings.Fields(*helloEnv)...))
	return api, helloWorld
}

// signer reads the sample event at events/file and returns it with a
// function that signs it afresh for the fixture's caller.
func signer(b *testing.B, f *fixture, file string) ([]byte, func() []byte) {
	b.Helper()
	sample, err := os.ReadFile(filepath.Join(root, "events", file))
	if err != nil {
		b.Fatal(err)
	}
	return sample, func() []byte {
		e, err := emulate.Resign(sample, f.ws.Caller, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		return e
	}
}

// invokeOK invokes r with event and returns the round trip; a function error
// is an error too, with the function's log.
func invokeOK(r emulate.Runner, event []byte) (time.Duration, error) {
	o, err := r.Invoke(context.Background(), event)
	if err != nil {
		return 0, err
	}
	if o.Failed() {
		return 0, fmt.Errorf("%s: %s\n%s", o.ErrorType, o.ErrorMessage, r.Logs())
	}
	return o.RoundTrip, nil
}

// startRunner starts fn warm under its platform's emulator, stopped when b ends.
func startRunner(b *testing.B, platform, fn string, env []string) emulate.Runner {
	b.Helper()
	r := launch(b, platform, fn, env)
	b.Cleanup(func() { _ = r.Stop() })
	return r
}

// BenchmarkInvocationConcurrent prices the api function as s.yaml deploys it
// on Function Compute: one instance serving instanceConcurrency invocations
// at once (deployedConcurrency), with the template's Go runtime settings,
// against hello-world under the same load. One op is a burst of
// invocationsPerOp invocations of each function, alternating, each burst
// with that many in flight; every api event is signed before the burst is
// timed. x-hello is the api's burst time as a multiple of hello-world's,
// and x-hello-cpu its process's CPU time an invocation as a multiple of
// hello-world's: what bounds an instance's throughput once its vCPU share
// (s.yaml's cpu) is spent. Both functions share the machine's CPUs with the
// emulator and this process, which send and time the invocations.
func BenchmarkInvocationConcurrent(b *testing.B) {
	f := newFixture(b)
	_, sign := signer(b, f, "fc/http-generate-data-key-without-plaintext.json")
	conc := deployedConcurrency(b)
	api, hello := startPair(b, f, "fc", "hello-fc")
	signed := func(n int) [][]byte {
		events := make([][]byte, n)
		for i := range events {
			events[i] = sign()
		}
		return events
	}
	var apiRun, helloRun burst
	for range 2 { // warm both, and start as many workers as will run at once
		events := signed(invocationsPerOp)
		runBurst(b, api, events, conc)
		runBurst(b, hello, events, conc)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		events := signed(invocationsPerOp)
		b.StartTimer()
		apiRun.add(runBurst(b, api, events, conc))
		helloRun.add(runBurst(b, hello, events, conc))
	}
	b.StopTimer()
	b.ReportMetric(float64(conc), "in-flight")
	b.ReportMetric(apiRun.perSecond(), "inv/s")
	b.ReportMetric(helloRun.perSecond(), "hello-inv/s")
	b.ReportMetric(µs(quantile(apiRun.rts, 0.5)), "p50-µs")
	b.ReportMetric(µs(quantile(apiRun.rts, 0.99)), "p99-µs")
	b.ReportMetric(µs(quantile(helloRun.rts, 0.99)), "hello-p99-µs")
	b.ReportMetric(apiRun.cpuPer(), "cpu-µs/inv")
	b.ReportMetric(helloRun.cpuPer(), "hello-cpu-µs/inv")
	b.ReportMetric(float64(apiRun.wall)/float64(helloRun.wall), "x-hello")
	b.ReportMetric(apiRun.cpuPer()/helloRun.cpuPer(), "x-hello-cpu")
}

// deployedConcurrency is s.yaml's instanceConcurrency for the api function.
func deployedConcurrency(tb testing.TB) int {
	tb.Helper()
	var doc sDoc
	readYAML(tb, "s.yaml", &doc)
	n, ok := doc.Resources["api"].Props["instanceConcurrency"].(int)
	if !ok || n < 1 {
		tb.Fatalf("s.yaml gives the api function no instanceConcurrency: %v", doc.Resources["api"].Props["instanceConcurrency"])
	}
	return n
}

// burst is what runBurst measured, summed over bursts.
type burst struct {
	wall, cpu time.Duration
	rts       []time.Duration
}

func (s *burst) add(o burst) {
	s.wall += o.wall
	s.cpu += o.cpu
	s.rts = append(s.rts, o.rts...)
}

// cpuPer is the function process's CPU time an invocation, in µs.
func (s *burst) cpuPer() float64 { return µs(s.cpu) / float64(len(s.rts)) }

func (s *burst) perSecond() float64 { return float64(len(s.rts)) / s.wall.Seconds() }

// quantile is the p-quantile of round trips ds, which it sorts.
func quantile(ds []time.Duration, p float64) time.Duration {
	slices.Sort(ds)
	return ds[int(p*float64(len(ds)-1))]
}

func µs(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// cpuMeter returns a function that tells the CPU time r's process has spent
// since cpuMeter was called.
func cpuMeter(b *testing.B, r emulate.Runner) func() time.Duration {
	read := func() time.Duration {
		d, err := r.CPU()
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	start := read()
	return func() time.Duration { return read() - start }
}

// runBurst invokes r once with each event, inFlight at a time, and times the
// whole, each round trip and the CPU time r's process spent meanwhile.
func runBurst(b *testing.B, r emulate.Runner, events [][]byte, inFlight int) burst {
	out := burst{rts: make([]time.Duration, len(events))}
	cpu := cpuMeter(b, r)
	next := make(chan int, len(events))
	for i := range events {
		next <- i
	}
	close(next)
	errs := make(chan error, inFlight)
	start := time.Now()
	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			for i := range next {
				rt, err := invokeOK(r, events[i])
				if err != nil {
					errs <- err
					return
				}
				out.rts[i] = rt
			}
		})
	}
	wg.Wait()
	out.wall = time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	out.cpu = cpu()
	return out
}

// TestRunnersTellTheirProcessCPU holds the CPU time the invocation benchmarks
// read to what the function's process can have spent: more after invocations
// than before, and never more than its threads could have run since it
// started. The Lambda emulator starts its function at the first invocation.
func TestRunnersTellTheirProcessCPU(t *testing.T) {
	f := newFixture(t)
	for _, plat := range []struct{ name, hello string }{{"lambda", "hello"}, {"fc", "hello-fc"}} {
		t.Run(plat.name, func(t *testing.T) {
			if plat.name == "lambda" && rie == "" {
				t.Skipf("aws-lambda-rie is missing: %v", rieErr)
			}
			started := time.Now()
			r := launch(t, plat.name, plat.hello, f.env(t, "api"))
			t.Cleanup(func() { _ = r.Stop() })
			invokeN := func(n int) {
				for range n {
					if o, err := r.Invoke(context.Background(), []byte(`{}`)); err != nil || o.Failed() {
						t.Fatal(err, o.ErrorMessage)
					}
				}
			}
			invokeN(1)
			before, err := r.CPU()
			if err != nil {
				t.Fatal(err)
			}
			if before <= 0 {
				t.Fatalf("a started process has spent %v of CPU", before)
			}
			invokeN(200)
			after, err := r.CPU()
			if err != nil {
				t.Fatal(err)
			}
			if after <= before {
				t.Errorf("200 invocations moved the process's CPU time from %v to %v", before, after)
			}
			if most := time.Since(started) * time.Duration(runtime.NumCPU()); after > most {
				t.Errorf("the process spent %v of CPU in %v on %d CPUs", after, time.Since(started), runtime.NumCPU())
			}
		})
	}
}
