package trigger

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/edge"
	"github.com/kmsless/kmsless/internal/strictjson"
)

// Params decodes a direct invocation: a JSON object of the action's parameters
// with Alibaba's names. Strings pass as they are, numbers and booleans as their
// JSON text ("32", "true"), objects and arrays (EncryptionContext) as compact
// JSON text, and nulls are left out, which is how the RPC wire would carry the
// same request. An "Action" member, if any, is returned apart. The event is
// read as HTTP trigger events are (strictjson): a member named twice, at any
// depth, or invalid UTF-8 refuses it.
func Params(event []byte) (action string, p core.Params, err error) {
	var top map[string]json.RawMessage
	if err := strictjson.Unmarshal(event, &top); err != nil || top == nil {
		return "", nil, core.Errorf(core.CodeInvalidParameter, "The event must be a JSON object of the action's parameters, such as {\"KeyId\":\"alias/example\"}, naming each once, in valid UTF-8.")
	}
	p = make(core.Params, len(top))
	for name, raw := range top {
		v, present, err := paramText(name, raw)
		if err != nil {
			return "", nil, err
		}
		if !present {
			continue
		}
		if name == "Action" {
			action = v
			continue
		}
		p[name] = v
	}
	return action, p, nil
}

func paramText(name string, raw json.RawMessage) (string, bool, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return "", false, nil
	case raw[0] == '"':
		var s string
		if err := strictjson.Unmarshal(raw, &s); err != nil {
			return "", false, core.Errorf(core.CodeInvalidParameter, "The parameter %s is not a valid JSON string.", core.ClipText(name))
		}
		return s, true, nil
	case raw[0] == '{' || raw[0] == '[':
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return "", false, core.Errorf(core.CodeInvalidParameter, "The parameter %s is not valid JSON.", core.ClipText(name))
		}
		return buf.String(), true, nil
	}
	// A number, true or false: its JSON text is its wire form.
	return string(raw), true, nil
}

// Invoker answers direct invocations of one action. The platform has already
// authorized the invocation (IAM on Lambda, RAM on Function Compute), so every
// request runs as Caller, the principal that stands for "whoever may invoke
// this function".
type Invoker struct {
	KMS    *core.Service
	Edge   *edge.Edge
	Action string
	Caller *core.Principal
}

// Invoke runs one direct invocation and returns the action's Alibaba response
// object, whose RequestId is the platform's. An event that names another
// Action is refused with InvalidParameter; every error is a *core.Error.
func (iv Invoker) Invoke(ctx context.Context, event []byte) (any, error) {
	x := iv.Edge.Begin(ctx)
	x.Entry, x.Action, x.Principal, x.AccessKeyID = "direct", iv.Action, iv.Caller.Name, iv.Caller.AccessKeyID
	resp, ke := iv.Edge.Run(ctx, x, func() (any, error) {
		action, params, err := Params(event)
		if err != nil {
			return nil, err
		}
		if action != "" && action != iv.Action {
			return nil, core.Errorf(core.CodeInvalidParameter, "This function serves the %s action only, not %s: invoke that action's own function or the api function.", iv.Action, core.ClipText(action))
		}
		x.Params = params
		req := &core.Request{ID: x.ID, Action: iv.Action, Params: params, Caller: iv.Caller}
		result, err := iv.KMS.Handle(ctx, req)
		if err != nil {
			return nil, err
		}
		x.Result, x.GrantID = result, req.GrantID
		return alibaba.Response(iv.KMS, x.ID, result)
	})
	if ke != nil {
		return nil, ke
	}
	return resp, nil
}

// InvokePrincipal is the principal direct invocations of a function run as. Its
// policy allows the function's own actions on the resources its job needs and
// nothing else, so a platform permission to invoke the function grants exactly
// those actions there.
func InvokePrincipal(function string, resources []string, actions ...string) *core.Principal {
	allowed := make([]string, len(actions))
	for i, a := range actions {
		allowed[i] = "kms:" + a
	}
	policy := core.MustPolicy(core.Statement{Effect: "Allow", Action: allowed, Resource: resources})
	return &core.Principal{Name: "function/" + function, AccessKeyID: "function/" + function, Policy: policy}
}
