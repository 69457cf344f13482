package trigger

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"unicode/utf8"

	fcevents "github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/net/http/httpguts"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/strictjson"
)

// Serve answers an HTTP trigger event: it decodes the request the event
// carries, serves it with h and encodes h's response in the trigger's shape.
func Serve(ctx context.Context, h http.Handler, k Kind, event []byte) (json.RawMessage, error) {
	r, err := NewRequest(ctx, k, event)
	if err != nil {
		return nil, err
	}
	rec := &recorder{resp: Response{Header: http.Header{}}}
	h.ServeHTTP(rec, r)
	// The answer may carry a plaintext in base64. Once encoded it goes; the
	// string the trigger's response shape holds, and the encoded event that
	// the platform sends, are beyond reach.
	defer clear(rec.resp.Body)
	return Encode(k, &rec.resp)
}

// message is what every HTTP trigger event carries, in one form.
type message struct {
	method, host, path, rawQuery string
	header                       http.Header
	body                         string
	base64                       bool
	sourceIP                     string
}

// NewRequest decodes the HTTP request an event of kind k carries, matching
// members by their exact names, as Detect does (strictjson). Query
// parameters the trigger delivered decoded are encoded again; the RPC
// signatures are computed over a canonical form, so the wire encoding chosen
// here does not matter.
func NewRequest(ctx context.Context, k Kind, event []byte) (*http.Request, error) {
	var m message
	switch k {
	case RESTAPI:
		var e events.APIGatewayProxyRequest
		if err := strictjson.Unmarshal(event, &e); err != nil {
			return nil, badEvent(k)
		}
		m = message{method: e.HTTPMethod, path: e.Path, body: e.Body, base64: e.IsBase64Encoded,
			sourceIP: e.RequestContext.Identity.SourceIP}
		q := url.Values{}
		for name, vs := range e.MultiValueQueryStringParameters {
			q[name] = vs
		}
		// queryStringParameters holds the last of each list: it counts for a
		// name the lists give no value, as headers does.
		for name, v := range e.QueryStringParameters {
			if len(q[name]) == 0 {
				q.Set(name, v)
			}
		}
		m.rawQuery = q.Encode()
		// headers holds the last of each list in multiValueHeaders: it counts
		// for a name the lists give no value.
		multi, err := headerLists(k, e.MultiValueHeaders)
		if err != nil {
			return nil, err
		}
		single, err := header(k, e.Headers)
		if err != nil {
			return nil, err
		}
		for name, vs := range single {
			if len(multi[name]) == 0 {
				multi[name] = vs
			}
		}
		m.header = multi
		m.host = or(m.header.Get("Host"), e.RequestContext.DomainName)
	case HTTPAPI:
		var e events.APIGatewayV2HTTPRequest
		if err := strictjson.Unmarshal(event, &e); err != nil {
			return nil, badEvent(k)
		}
		h, err := header(k, e.Headers)
		if err != nil {
			return nil, err
		}
		m = message{method: e.RequestContext.HTTP.Method, path: e.RawPath, rawQuery: e.RawQueryString,
			body: e.Body, base64: e.IsBase64Encoded, sourceIP: e.RequestContext.HTTP.SourceIP, header: h}
		// Payload 2.0 moves the request's Cookie headers into cookies, one
		// cookie an item; they travel as one header, joined as HTTP/2 joins
		// cookie fields. A Cookie header beside them names it twice.
		if len(e.Cookies) > 0 {
			if _, twice := m.header["Cookie"]; twice {
				return nil, core.Errorf(core.CodeInvalidParameter, "The %s event names the header Cookie twice, in headers and in cookies.", k)
			}
			cookie := strings.Join(e.Cookies, "; ")
			if !httpguts.ValidHeaderFieldValue(cookie) {
				return nil, badValue(k, "Cookie")
			}
			m.header["Cookie"] = []string{cookie}
		}
		m.host = or(m.header.Get("Host"), e.RequestContext.DomainName)
	case FCHTTP:
		var e fcHTTPEvent
		if err := strictjson.Unmarshal(event, &e); err != nil {
			return nil, badEvent(k)
		}
		h, err := header(k, e.Headers)
		if err != nil {
			return nil, err
		}
		hc := e.RequestContext.HTTP
		m = message{method: hc.Method, path: or(e.RawPath, hc.Path), body: e.Body,
			base64: e.IsBase64Encoded, sourceIP: hc.SourceIP, header: h}
		q := url.Values{}
		for name, v := range e.QueryParameters {
			q.Set(name, v)
		}
		m.rawQuery = q.Encode()
		m.host = or(m.header.Get("Host"), e.RequestContext.DomainName)
	default:
		return nil, core.Errorf(core.CodeInvalidParameter, "The event is not an HTTP trigger event.")
	}
	if m.method == "" {
		return nil, core.Errorf(core.CodeInvalidParameter, "The %s event names no HTTP method.", k)
	}
	if !httpguts.ValidHostHeader(m.host) {
		return nil, core.Errorf(core.CodeInvalidParameter, "The %s event's host is not a host HTTP allows.", k)
	}
	body := []byte(m.body)
	if m.base64 {
		var err error
		if body, err = base64.StdEncoding.DecodeString(m.body); err != nil {
			return nil, core.Errorf(core.CodeInvalidParameter, "The %s event's body is marked base64 but is not valid base64.", k)
		}
	}
	u, err := requestURL(or(m.path, "/"), m.rawQuery)
	if err != nil {
		return nil, core.Errorf(core.CodeInvalidParameter, "The %s event's method or path is not valid.", k)
	}
	r, err := http.NewRequestWithContext(ctx, m.method, "/", bytes.NewReader(body))
	if err != nil {
		return nil, core.Errorf(core.CodeInvalidParameter, "The %s event's method or path is not valid.", k)
	}
	r.URL = u
	if len(body) == 0 {
		r.Body = http.NoBody
	}
	m.header.Del("Host")
	r.Header = m.header
	r.Host = m.host
	r.RequestURI = u.RequestURI()
	if m.sourceIP != "" {
		r.RemoteAddr = net.JoinHostPort(m.sourceIP, "0")
	}
	return r, nil
}

// pathEscaper escapes what would end a path: a trigger that decodes the path
// hands %3F and %23 over as a bare "?" and "#".
var pathEscaper = strings.NewReplacer("?", "%3F", "#", "%23")

// requestURL is the URL of an event's path and query, kept apart as the event
// carries them. The path is read as a server reads a request's target
// (url.ParseRequestURI), so a leading "//" names no host, and it must be a
// path: a trigger sends nothing else.
func requestURL(path, rawQuery string) (*url.URL, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, errors.New("not a path")
	}
	target := pathEscaper.Replace(path)
	if rawQuery != "" {
		target += "?" + rawQuery
	}
	return url.ParseRequestURI(target)
}

// fcHTTPEvent is the part of a Function Compute 3.0 HTTP trigger event a
// request needs. Unlike API Gateway's, its query is queryParameters, and
// requestContext.timeEpoch is a string; it is not decoded here, so neither its
// type nor its absence can fail a request.
type fcHTTPEvent struct {
	RawPath         string            `json:"rawPath"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	Headers         map[string]string `json:"headers"`
	QueryParameters map[string]string `json:"queryParameters"`
	RequestContext  struct {
		DomainName string `json:"domainName"`
		HTTP       struct {
			Method   string `json:"method"`
			Path     string `json:"path"`
			SourceIP string `json:"sourceIp"`
		} `json:"http"`
	} `json:"requestContext"`
}

// header is an http.Header of a trigger's headers, one value a name, as
// Header.Set would make it but with the values in one backing array rather
// than one allocation each.
func header(k Kind, hs map[string]string) (http.Header, error) {
	h := make(http.Header, len(hs))
	vals := make([]string, 0, len(hs))
	for name, v := range hs {
		key := textproto.CanonicalMIMEHeaderKey(name)
		if _, twice := h[key]; twice {
			return nil, headerTwice(k, name)
		}
		if err := checkHeader(k, name, v); err != nil {
			return nil, err
		}
		vals = append(vals, v)
		n := len(vals)
		h[key] = vals[n-1 : n : n]
	}
	return h, nil
}

// headerLists is an http.Header of a trigger's headers, a list of values a name.
func headerLists(k Kind, hs map[string][]string) (http.Header, error) {
	h := make(http.Header, len(hs))
	for name, vs := range hs {
		key := textproto.CanonicalMIMEHeaderKey(name)
		if _, twice := h[key]; twice {
			return nil, headerTwice(k, name)
		}
		if err := checkHeader(k, name, vs...); err != nil {
			return nil, err
		}
		h[key] = vs
	}
	return h, nil
}

// headerTwice refuses an event that names a header in two spellings: header
// names are case-insensitive, so it names the header twice, and which value
// counted would depend on map order.
func headerTwice(k Kind, name string) error {
	return core.Errorf(core.CodeInvalidParameter, "The %s event names the header %s twice, in two spellings.", k, core.ClipText(name))
}

// checkHeader refuses a header a server would not read off the wire: a name
// that is not an HTTP token (a space, a colon, a control character) or a value
// holding a control character other than a tab, a CR or LF above all, which
// on the wire would end the header and begin another. A server never hands a
// handler such a header, so an event that carries one is not what any client
// sent. The value is not quoted: it may be a credential.
func checkHeader(k Kind, name string, vs ...string) error {
	if !httpguts.ValidHeaderFieldName(name) {
		return core.Errorf(core.CodeInvalidParameter, "The %s event names a header %s, which is not a name HTTP allows.", k, core.ClipText(name))
	}
	for _, v := range vs {
		if !httpguts.ValidHeaderFieldValue(v) {
			return badValue(k, name)
		}
	}
	return nil
}

func badValue(k Kind, name string) error {
	return core.Errorf(core.CodeInvalidParameter, "The %s event's header %s holds a value HTTP does not allow.", k, core.ClipText(name))
}

func badEvent(k Kind) error {
	return core.Errorf(core.CodeInvalidParameter, "The event does not decode as an %s event.", k)
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Response is an HTTP response as a handler wrote it.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Encode renders resp in the response shape of kind k. A body that is not valid
// UTF-8 travels base64-encoded, as every trigger requires.
func Encode(k Kind, resp *Response) (json.RawMessage, error) {
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	body, b64 := string(resp.Body), false
	if !utf8.Valid(resp.Body) {
		body, b64 = base64.StdEncoding.EncodeToString(resp.Body), true
	}
	var v any
	switch k {
	case RESTAPI:
		single := map[string]string{}
		for name, vs := range resp.Header {
			single[name] = vs[len(vs)-1]
		}
		v = events.APIGatewayProxyResponse{StatusCode: status, Headers: single, MultiValueHeaders: resp.Header,
			Body: body, IsBase64Encoded: b64}
	case HTTPAPI:
		cookies := resp.Header.Values("Set-Cookie")
		if cookies == nil {
			cookies = []string{} // an empty list, not null, in the answer
		}
		v = events.LambdaFunctionURLResponse{StatusCode: status, Headers: joined(resp.Header), Cookies: cookies,
			Body: body, IsBase64Encoded: b64}
	case FCHTTP:
		v = fcevents.HTTPTriggerResponse{StatusCode: status, Headers: joined(resp.Header), Body: body, IsBase64Encoded: b64}
	default:
		return nil, core.Errorf(core.CodeInternalFailure, "no HTTP response shape for %s events", k)
	}
	return json.Marshal(v)
}

// joined folds each header's values into one, comma-separated, as the payload
// 2.0 and FC shapes carry them; cookies travel apart.
func joined(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for name, vs := range h {
		if name == "Set-Cookie" {
			continue
		}
		out[name] = strings.Join(vs, ",")
	}
	return out
}

// recorder is the http.ResponseWriter a trigger's handler writes to.
type recorder struct {
	resp  Response
	wrote bool
}

func (r *recorder) Header() http.Header { return r.resp.Header }

func (r *recorder) WriteHeader(status int) {
	if r.wrote {
		return
	}
	r.wrote = true
	r.resp.Status = status
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	r.resp.Body = append(r.resp.Body, b...)
	return len(b), nil
}
