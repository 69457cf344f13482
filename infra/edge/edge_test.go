package edge_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/edge"
)

func TestRequestIDIsThePlatformsWhenThereIsOne(t *testing.T) {
	lambda := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-1"})
	fc := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "fc-1"})
	if got := edge.RequestID(lambda); got != "lambda-1" {
		t.Errorf("Lambda: %q", got)
	}
	if got := edge.RequestID(fc); got != "fc-1" {
		t.Errorf("Function Compute: %q", got)
	}
	a, b := edge.RequestID(context.Background()), edge.RequestID(context.Background())
	if a == "" || a == b {
		t.Errorf("without a platform: %q then %q, want two fresh IDs", a, b)
	}
}

func TestRunTurnsAPanicIntoInternalFailureLoggingOnlyItsType(t *testing.T) {
	var logs bytes.Buffer
	e := edge.New(slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := context.Background()
	_, ke := e.Run(ctx, e.Begin(ctx), func() (any, error) { panic("a secret-looking value") })
	if ke == nil || ke.Code != core.CodeInternalFailure || strings.Contains(ke.Message, "secret") {
		t.Fatalf("error %v, want InternalFailure saying nothing of the panic", ke)
	}
	if strings.Contains(logs.String(), "secret-looking") || !strings.Contains(logs.String(), "panic of type string") {
		t.Fatalf("log %q: want the panic's type, not its value", logs.String())
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Fatalf("%d error lines for one panic, want 1:\n%s", n, logs.String())
	}
}

func TestRunLogsAServerFaultsCauseOnceAndNoCallerMistake(t *testing.T) {
	var logs bytes.Buffer
	e := edge.New(slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := context.Background()
	x := e.Begin(ctx)
	_, ke := e.Run(ctx, x, func() (any, error) { return nil, core.Internal(errors.New("disk on fire")) })
	if ke.Code != core.CodeInternalFailure || strings.Contains(ke.Message, "disk") {
		t.Fatalf("error %v: want InternalFailure without its cause", ke)
	}
	// The platform's guard around an entry's Run does not log it again.
	_, err := e.Guard(ctx, x, func() (any, error) { return nil, ke })
	if err != ke {
		t.Fatalf("Guard changed the error: %v", err)
	}
	_, _ = e.Run(ctx, x, func() (any, error) { return nil, core.Errorf(core.CodeInvalidParameter, "bad") })
	if n := strings.Count(logs.String(), "disk on fire"); n != 1 || strings.Count(logs.String(), "level=ERROR") != 1 {
		t.Fatalf("want the cause logged once and the caller's mistake not at all:\n%s", logs.String())
	}
}
