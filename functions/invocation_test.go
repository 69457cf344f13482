package functions_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

// BenchmarkInvocation prices one warm invocation of the api function with a
// signed GenerateDataKeyWithoutPlaintext HTTP event (a Lambda function URL
// under aws-lambda-rie, an FC HTTP trigger under the FC emulator), against a
// hello-world function of the same runtime library answering the same event:
// x-hello is the ratio of the median round trips. One op is a block of
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
			sample, err := os.ReadFile(filepath.Join(root, "events", plat.sample))
			if err != nil {
				b.Fatal(err)
			}
			env := append(f.env(b, "api"), deployedRuntime(b, plat.name)...)
			api := startRunner(b, plat.name, "api", append(slices.Clone(env), strings.Fields(*apiEnv)...))
			hello := startRunner(b, plat.name, plat.hello, append(slices.Clone(env), strings.Fields(*helloEnv)...))
			var apiRTs, helloRTs []time.Duration
			invoke := func(r emulate.Runner, event []byte) time.Duration {
				out, err := r.Invoke(context.Background(), event)
				if err != nil {
					b.Fatal(err)
				}
				if out.Failed() {
					b.Fatalf("%s: %s\n%s", out.ErrorType, out.ErrorMessage, r.Logs())
				}
				return out.RoundTrip
			}
			sign := func() []byte {
				e, err := emulate.Resign(sample, f.ws.Caller, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				return e
			}
			for range 20 { // warm both: connections, caches, the runtime's buffers
				invoke(api, sign())
				invoke(hello, sample)
			}
			b.ResetTimer()
			for range b.N * invocationsPerOp {
				event := sign()
				apiRTs = append(apiRTs, invoke(api, event))
				helloRTs = append(helloRTs, invoke(hello, event))
			}
			b.StopTimer()
			slices.Sort(apiRTs)
			slices.Sort(helloRTs)
			q := func(ds []time.Duration, p float64) time.Duration { return ds[int(p*float64(len(ds)-1))] }
			µs := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
			b.ReportMetric(µs(q(apiRTs, 0.5)), "p50-µs")
			b.ReportMetric(µs(q(apiRTs, 0.99)), "p99-µs")
			b.ReportMetric(µs(q(helloRTs, 0.5)), "hello-p50-µs")
			b.ReportMetric(µs(q(helloRTs, 0.99)), "hello-p99-µs")
			b.ReportMetric(float64(q(apiRTs, 0.5))/float64(q(helloRTs, 0.5)), "x-hello")
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

// startRunner starts fn warm under its platform's emulator, stopped when b ends.
func startRunner(b *testing.B, platform, fn string, env []string) emulate.Runner {
	b.Helper()
	r := launch(b, platform, fn, env)
	b.Cleanup(func() { _ = r.Stop() })
	return r
}
