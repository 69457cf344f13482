package trigger

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/kmsless/kmsless/core"
)

// Router answers a function's events: HTTP trigger events through HTTP, direct
// invocations through Direct. A nil field refuses that kind of event with
// InvalidParameter, so a function answers only what it was built for.
type Router struct {
	HTTP   http.Handler
	Direct func(ctx context.Context, event []byte) (any, error)
}

// Handle answers one event. HTTP trigger events always get an HTTP response
// (errors included, as the RPC handler writes them); a direct invocation gets
// the action's response or a *core.Error, which the platform reports as a
// function error.
func (rt Router) Handle(ctx context.Context, event json.RawMessage) (any, error) {
	k, err := Detect(event)
	if err != nil {
		return nil, err
	}
	if k == Direct {
		if rt.Direct == nil {
			return nil, core.Errorf(core.CodeInvalidParameter, "This function answers HTTP trigger events only; send signed requests through its function URL or HTTP trigger.")
		}
		return rt.Direct(ctx, event)
	}
	if rt.HTTP == nil {
		return nil, core.Errorf(core.CodeInvalidParameter, "This function answers direct invocations only, not %s events.", k)
	}
	return Serve(ctx, rt.HTTP, k, event)
}
