package platform

import (
	"context"
	"encoding/json"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fc/messages"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/edge"
)

func startFC(svc *config.Service, fn Function) {
	fc.RegisterPreStopFunction(func(context.Context) { closeOnStop(svc, "pre-stop") })
	// fc.Start, not fc.StartHandler: v0.3.1 accepts only a function there, and a
	// json.RawMessage result (unlike []byte) is passed through, not base64-encoded.
	// The event, though, is taken as []byte: the SDK hands those over as they
	// came, where a json.RawMessage event is first decoded, a full pass over it
	// (about 15 µs for an HTTP trigger event) that the trigger decoder repeats.
	fc.Start(fcHandler(svc.Edge, fn.Handler))
}

func fcHandler(e *edge.Edge, h Handler) func(context.Context, []byte) (json.RawMessage, error) {
	w := make(workers)
	return func(ctx context.Context, event []byte) (out json.RawMessage, err error) {
		w.run(func() { out, err = invoke(ctx, e, h, event) })
		if err != nil {
			return nil, FCError(err)
		}
		return out, nil
	}
}

// workers run invocations on goroutines that outlive them. fc-runtime-go-sdk
// starts a goroutine per invocation, whose small new stack was copied each time
// it doubled on the way down the handler: about 30 µs an invocation, where
// handing the invocation to a worker that kept its stack costs one or two.
// There are as many workers as invocations ever ran at once (the instance
// concurrency), each idle between invocations.
// A send on the channel succeeds only when a worker is waiting for a job.
type workers chan func()

// run runs f on an idle worker, or on a new one when none is idle, and returns
// when f has.
func (w workers) run(f func()) {
	done := make(chan struct{})
	job := func() { f(); close(done) }
	select {
	case w <- job:
	default:
		go w.work(job)
	}
	<-done
}

func (w workers) work(job func()) {
	for {
		job()
		job = <-w
	}
}

// FCError is err as fc-runtime-go-sdk reports it when it is this exact type:
// errorType is the KMS error Code, errorMessage its message.
func FCError(err error) error {
	ke := core.AsError(err)
	return messages.InvokeResponse_Error{Type: ke.Code, Message: ke.Message}
}
