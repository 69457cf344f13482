package trigger

import (
	"bytes"
	"encoding/json"
	"strings"

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
// exactly, as the event's decoder compares them: a direct request's Alibaba
// names must never pass for a trigger's lower-case ones.
// Detect reads the top level only, without decoding the event (that took as
// long as decoding it for its kind), and leaves the values to the decoder that
// reads the event next, which refuses any that is not JSON.
func Detect(event []byte) (Kind, error) {
	var rc, version, method []byte
	query := false
	if !members(event, func(name, value []byte) {
		switch string(name) {
		case "requestContext":
			rc = value
		case "version":
			version = value
		case "httpMethod":
			method = value
		case "queryParameters":
			query = true
		}
	}) {
		return Direct, core.Errorf(core.CodeInvalidParameter, "The event must be a JSON object.")
	}
	if rc == nil {
		return Direct, nil
	}
	if rc[0] != '{' {
		return Direct, unknownShape()
	}
	switch version := text(version); {
	case text(method) != "":
		return RESTAPI, nil
	case version == "2.0":
		return HTTPAPI, nil
	case version == "v1" || query:
		return FCHTTP, nil
	}
	return Direct, unknownShape()
}

func unknownShape() error {
	return core.Errorf(core.CodeInvalidParameter, "The event has a requestContext but is not an HTTP trigger event this function knows: API Gateway REST (1.0) or HTTP API (2.0), a Lambda function URL, or a Function Compute 3.0 HTTP trigger.")
}

// text is the JSON string value, or "" when value is something else.
func text(value []byte) string {
	var s string
	if len(value) > 0 && value[0] == '"' {
		_ = json.Unmarshal(value, &s)
	}
	return s
}

// members calls f with the name (escapes undone) and the raw value of each
// member of the JSON object b, in order, and reports whether b is shaped like
// one: an object, its members' names and string values closed, its brackets
// balanced, nothing after it. Scalars and nesting are not checked further.
func members(b []byte, f func(name, value []byte)) bool {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		if i == len(b) || b[i] != '"' {
			return false
		}
		end := skipValue(b, i)
		if end < 0 {
			return false
		}
		name := b[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			var s string
			if json.Unmarshal(b[i:end], &s) != nil {
				return false
			}
			name = []byte(s)
		}
		if i = skipSpace(b, end); i == len(b) || b[i] != ':' {
			return false
		}
		start := skipSpace(b, i+1)
		if end = skipValue(b, start); end < 0 {
			return false
		}
		f(name, b[start:end])
		if i = skipSpace(b, end); i == len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

// skipValue returns the end of the JSON value that starts at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i == len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return -1
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end := skipValue(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && strings.IndexByte(",}] \t\r\n", b[j]) < 0 {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}
