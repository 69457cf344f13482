package bench_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/platform"
	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

// BenchmarkInvokeFunctionURL is the api function's work on one warm Lambda
// invocation, in process: a signed function URL event for
// GenerateDataKeyWithoutPlaintext through the function's handler and encoded
// as the runtime sends it back. Events are signed before the timer starts. Its
// CPU profile is the per-invocation decoding and encoding that Lambda's one
// request per instance pays on every call.
func BenchmarkInvokeFunctionURL(b *testing.B) {
	benchInvoke(b, "aws/function-url-generate-data-key-without-plaintext.json")
}

// BenchmarkInvokeFCHTTP is the same for a Function Compute HTTP trigger event.
func BenchmarkInvokeFCHTTP(b *testing.B) {
	benchInvoke(b, "fc/http-generate-data-key-without-plaintext.json")
}

func benchInvoke(b *testing.B, sample string) {
	ctx := context.Background()
	ws, err := emulate.Prepare(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"KMS_QPS_PER_USER": "100000000"}
	for _, kv := range ws.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	set, err := config.Read(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	svc, err := config.Wire(ctx, set, config.NewLogger(set, io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = svc.Close() })
	h := platform.API(svc).Handler
	raw, err := os.ReadFile(filepath.Join("..", "events", sample))
	if err != nil {
		b.Fatal(err)
	}
	events := make([]json.RawMessage, b.N+1)
	for i := range events {
		if events[i], err = emulate.Resign(raw, ws.Caller, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	call := func(event json.RawMessage) {
		out, err := h(ctx, event)
		if err != nil {
			b.Fatal(err)
		}
		body, err := json.Marshal(out)
		if err != nil || !strings.Contains(string(body), "200") {
			b.Fatalf("%s %v", body, err)
		}
	}
	call(events[b.N]) // warm the cache
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		call(events[i])
	}
}
