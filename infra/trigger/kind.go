package trigger

import (
	"encoding/json"

	"github.com/kmsless/kmsless/core"
)

// Kind is the shape of an invocation event.
type Kind uint8

// The event shapes a function answers.
const (
	// Direct is a direct invocation: the action's request as a JSON object with
	// Alibaba's parameter names.
	Direct Kind = iota
	// RESTAPI is an API Gateway REST API proxy integration (payload format 1.0).
	RESTAPI
	// HTTPAPI is an API Gateway HTTP API (payload format 2.0) or a Lambda
	// function URL, which share one shape.
	HTTPAPI
	// FCHTTP is a Function Compute 3.0 HTTP trigger.
	FCHTTP
)

func (k Kind) String() string {
	switch k {
	case Direct:
		return "direct"
	case RESTAPI:
		return "apigateway-rest"
	case HTTPAPI:
		return "apigateway-http"
	case FCHTTP:
		return "fc-http"
	}
	return "unknown"
}

// Detect tells an event's shape from its top-level keys. Keys are compared
// exactly: encoding/json matches field names regardless of case, and a direct
// request's Alibaba names must never pass for a trigger's lower-case ones.
func Detect(event []byte) (Kind, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(event, &top); err != nil || top == nil {
		return Direct, core.Errorf(core.CodeInvalidParameter, "The event must be a JSON object.")
	}
	rc, ok := top["requestContext"]
	if !ok {
		return Direct, nil
	}
	var ctx map[string]json.RawMessage
	if json.Unmarshal(rc, &ctx) != nil || ctx == nil {
		return Direct, unknownShape()
	}
	switch version := stringField(top, "version"); {
	case stringField(top, "httpMethod") != "":
		return RESTAPI, nil
	case version == "2.0":
		return HTTPAPI, nil
	case version == "v1" || has(top, "queryParameters"):
		return FCHTTP, nil
	}
	return Direct, unknownShape()
}

func unknownShape() error {
	return core.Errorf(core.CodeInvalidParameter, "The event has a requestContext but is not an HTTP trigger event this function knows: API Gateway REST (1.0) or HTTP API (2.0), a Lambda function URL, or a Function Compute 3.0 HTTP trigger.")
}

func has(m map[string]json.RawMessage, k string) bool {
	_, ok := m[k]
	return ok
}

func stringField(m map[string]json.RawMessage, k string) string {
	var s string
	if raw, ok := m[k]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}
