package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/edge"
)

// Handler answers one event with a value to encode as JSON (a json.RawMessage
// passes through as it is) or an error. A *core.Error becomes a function error
// whose type is its Code; any other error becomes InternalFailure.
type Handler func(ctx context.Context, event json.RawMessage) (any, error)

// Function is one entrypoint.
type Function struct {
	// Name is the function's folder under functions/.
	Name string
	// Handler answers invocations on Lambda and Function Compute.
	Handler Handler
	// HTTP, when set, is served on KMS_LISTEN_ADDR when no runtime API is
	// present. A function without it runs only under a runtime or an emulator.
	HTTP http.Handler
}

// Load wires the service from the environment, once per instance and outside
// any handler, or exits with the reason; then it sizes GOMAXPROCS to the CPU
// quota (SizeProcs).
func Load(opts ...config.Option) *config.Service {
	svc, err := config.Load(context.Background(), opts...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kmsless: cannot start: %v\n", err)
		os.Exit(1)
	}
	SizeProcs(svc.Logger)
	return svc
}

// RequireRuntime exits with directions when no runtime API is present, for a
// function that only answers invocations. It runs before Load, so a mistaken
// local start leaves no generated root key or data behind.
func RequireRuntime(name string) {
	set, err := config.Read(os.Getenv)
	if err != nil || set.Platform != config.Local {
		return // Load reports a bad environment.
	}
	fmt.Fprintf(os.Stderr, `%[1]s answers invocations from AWS Lambda or Alibaba Cloud Function Compute; it has no local server.
Run it under an emulator with one of its sample events (events/README.md lists them):
  make invoke FN=%[1]s EVENT=events/aws/<sample>.json              # aws-lambda-rie
  make invoke FN=%[1]s EVENT=events/fc/<sample>.json PLATFORM=fc   # the FC emulator
or serve every action over HTTP with: go run ./functions/api
`, name)
	os.Exit(2)
}

// Start runs fn on the platform the environment names and returns only when a
// local server has shut down; on Lambda and Function Compute it never returns.
// svc is closed when the platform stops the instance (SIGTERM on Lambda, the
// pre-stop hook on Function Compute, Ctrl-C locally).
func Start(svc *config.Service, fn Function) {
	switch svc.Settings.Platform {
	case config.Lambda:
		startLambda(svc, fn)
	case config.FC:
		startFC(svc, fn)
	default:
		if err := serveLocal(svc, fn); err != nil {
			fmt.Fprintf(os.Stderr, "kmsless %s: %v\n", fn.Name, err)
			os.Exit(1)
		}
	}
}

// invoke runs h on one event under the edge's panic guard, so that no stack
// trace reaches the invoker, and encodes the result.
func invoke(ctx context.Context, e *edge.Edge, h Handler, event json.RawMessage) (json.RawMessage, error) {
	out, err := e.Guard(ctx, e.Begin(ctx), func() (any, error) {
		v, err := h(ctx, event)
		if err != nil {
			return nil, err
		}
		if raw, ok := v.(json.RawMessage); ok {
			return raw, nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode response: %w", err)
		}
		return json.RawMessage(b), nil
	})
	if err != nil {
		return nil, core.AsError(err)
	}
	return out.(json.RawMessage), nil
}

// closeOnStop releases the instance's connections and files, logging failures.
func closeOnStop(svc *config.Service, why string) {
	if err := svc.Close(); err != nil {
		svc.Logger.Error("closing the service failed", "on", why, "err", err)
		return
	}
	svc.Logger.Info("service closed", "on", why)
}
