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
	return func(ctx context.Context, event []byte) (json.RawMessage, error) {
		out, err := invoke(ctx, e, h, event)
		if err != nil {
			return nil, FCError(err)
		}
		return out, nil
	}
}

// FCError is err as fc-runtime-go-sdk reports it when it is this exact type:
// errorType is the KMS error Code, errorMessage its message.
func FCError(err error) error {
	ke := core.AsError(err)
	return messages.InvokeResponse_Error{Type: ke.Code, Message: ke.Message}
}
