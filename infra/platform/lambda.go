package platform

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/edge"
)

func startLambda(svc *config.Service, fn Function) {
	lambda.StartWithOptions(lambdaHandler{h: fn.Handler, edge: svc.Edge},
		lambda.WithEnableSIGTERM(func() {
			// Lambda sends SIGKILL 500ms later; leave at once, connections closed.
			closeOnStop(svc, "SIGTERM")
			os.Exit(0)
		}))
}

// lambdaHandler passes bytes through, skipping aws-lambda-go's reflection.
type lambdaHandler struct {
	h    Handler
	edge *edge.Edge
}

func (l lambdaHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := invoke(ctx, l.edge, l.h, payload)
	if err != nil {
		return nil, LambdaError(err)
	}
	return out, nil
}

// LambdaError is err as aws-lambda-go reports it when it is this exact type:
// errorType is the KMS error Code (Forbidden.KeyNotFound), errorMessage its
// message, and no stack trace.
func LambdaError(err error) error {
	ke := core.AsError(err)
	return messages.InvokeResponse_Error{Type: ke.Code, Message: ke.Message}
}
