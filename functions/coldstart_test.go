package functions_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

// coldStart is one fresh instance's figures under aws-lambda-rie.
type coldStart struct {
	init, firstRoundTrip time.Duration
}

// firstEvent is what each function is first invoked with: a request it
// answers successfully, from its sample or this installation's fixture.
func firstEvent(b *testing.B, f *fixture, fn string) []byte {
	b.Helper()
	var file string
	switch fn {
	case "hello":
		return []byte(`{}`)
	case "decrypt":
		return fmt.Appendf(nil, `{"CiphertextBlob":%q,"EncryptionContext":{"tenant":"acme"}}`, f.blob)
	case "re-encrypt":
		return fmt.Appendf(nil, `{"CiphertextBlob":%q,"SourceEncryptionContext":{"tenant":"acme"},"DestinationKeyId":%q}`, f.blob, emulate.DemoAlias)
	case "api":
		file = "aws/function-url-generate-data-key-without-plaintext.json"
	case "provision-partitions":
		file = "aws/provision-direct.json"
	case "purge":
		file = "aws/schedule-purge.json"
	default:
		file = "aws/direct-" + fn + ".json"
	}
	event, err := os.ReadFile(filepath.Join(root, "events", file))
	if err != nil {
		b.Fatal(err)
	}
	if event, err = emulate.Resign(event, f.ws.Caller, time.Now()); err != nil {
		b.Fatal(err)
	}
	return event
}

// once starts fn cold, invokes it once and stops it. On the Lambda emulator
// the first invocation waits for the init, so its round trip includes it.
func once(b *testing.B, fn string, env []string, event []byte) coldStart {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := emulate.Lambda(ctx, rie, filepath.Join(binDir, fn), env)
	if err != nil {
		b.Fatal(err)
	}
	out, err := r.Invoke(ctx, event)
	init := r.InitDuration()
	if stopErr := r.Stop(); err == nil {
		err = stopErr
	}
	if err != nil {
		b.Fatalf("%s: %v\n%s", fn, err, r.Logs())
	}
	if out.Failed() || init == 0 {
		b.Fatalf("%s: %s %s (init %s)\n%s", fn, out.ErrorType, out.ErrorMessage, init, r.Logs())
	}
	return coldStart{init, out.RoundTrip}
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// deploySize builds pkg for Lambda (linux/arm64, the deployment flags) and
// returns the binary's size.
func deploySize(b *testing.B, dir, pkg, name string) int64 {
	b.Helper()
	out := filepath.Join(dir, name)
	if err := emulate.Build(context.Background(), root, pkg, out, "linux", "arm64"); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(out)
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}

// BenchmarkColdStart reports, per function, the median cold start over b.N
// fresh instances under aws-lambda-rie (the emulator's INIT REPORT duration
// and the first invocation's round trip) and its Lambda binary's size, each
// also as a ratio to a hello-world Go function (scripts/hello) built the same
// way. The floor is measured in the same run, one hello start interleaved with
// each function start, so that load from elsewhere on the machine weighs on
// both alike. One op is one cold start of each; run with -benchtime 10x.
func BenchmarkColdStart(b *testing.B) {
	if rie == "" {
		b.Skipf("aws-lambda-rie is missing: %v", rieErr)
	}
	f := newFixture(b)
	sizes := b.TempDir()
	helloSize := deploySize(b, sizes, "./scripts/hello", "hello")
	helloEvent := firstEvent(b, f, "hello")
	fns, err := emulate.Functions(root)
	if err != nil {
		b.Fatal(err)
	}
	for _, fn := range fns {
		b.Run(fn, func(b *testing.B) {
			size := deploySize(b, sizes, "./functions/"+fn, fn)
			env := append(f.env(b, fn), deployedRuntime(b, "lambda")...)
			event := firstEvent(b, f, fn)
			var inits, rts, helloInits, helloRTs []time.Duration
			b.ResetTimer()
			for range b.N {
				h := once(b, "hello", env, helloEvent)
				c := once(b, fn, env, event)
				helloInits, helloRTs = append(helloInits, h.init), append(helloRTs, h.firstRoundTrip)
				inits, rts = append(inits, c.init), append(rts, c.firstRoundTrip)
			}
			b.StopTimer()
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(median(inits)), "init-ms")
			b.ReportMetric(ms(median(helloInits)), "hello-init-ms")
			b.ReportMetric(float64(median(inits))/float64(median(helloInits)), "init-x-hello")
			b.ReportMetric(ms(median(rts)), "first-rt-ms")
			b.ReportMetric(float64(median(rts))/float64(median(helloRTs)), "first-rt-x-hello")
			b.ReportMetric(float64(size)/1e6, "MB")
			b.ReportMetric(float64(size)/float64(helloSize), "size-x-hello")
		})
	}
}
