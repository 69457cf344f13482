package trigger

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/net/http/httpguts"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/linear"
	"github.com/kmsless/kmsless/internal/strictjson"
)

// want is what an HTTP trigger event says its request is, read member by
// member from the event's own shape, for NewRequest's output to agree with.
type want struct {
	method, path, host, sourceIP string
	query                        url.Values // nil: the raw query is rawQuery
	rawQuery                     string
	header                       map[string][]string // as the event spells the names
	body                         string
	base64                       bool
	again                        []byte // the event as its type encodes it again
}

// wantOf reads event as an event of kind k, or reports that it does not read.
func wantOf(k Kind, event []byte) (want, bool) {
	var w want
	w.header = map[string][]string{}
	switch k {
	case RESTAPI:
		var e events.APIGatewayProxyRequest
		if strictjson.Unmarshal(event, &e) != nil {
			return w, false
		}
		w.method, w.path, w.body, w.base64, w.sourceIP = e.HTTPMethod, e.Path, e.Body, e.IsBase64Encoded, e.RequestContext.Identity.SourceIP
		w.query = url.Values{}
		for name, vs := range e.MultiValueQueryStringParameters {
			if len(vs) > 0 {
				w.query[name] = append([]string{}, vs...)
			}
		}
		for name, v := range e.QueryStringParameters {
			if _, ok := w.query[name]; !ok {
				w.query[name] = []string{v}
			}
		}
		// headers holds the last of multiValueHeaders' values: it counts for a
		// name multiValueHeaders gives no value.
		multi := map[string]bool{}
		for name, vs := range e.MultiValueHeaders {
			w.header[name] = append(w.header[name], vs...)
			multi[textproto.CanonicalMIMEHeaderKey(name)] = multi[textproto.CanonicalMIMEHeaderKey(name)] || len(vs) > 0
		}
		for name, v := range e.Headers {
			if !multi[textproto.CanonicalMIMEHeaderKey(name)] {
				w.header[name] = append(w.header[name], v)
			}
		}
		w.host = e.RequestContext.DomainName
		w.again, _ = json.Marshal(e)
	case HTTPAPI:
		var e events.APIGatewayV2HTTPRequest
		if strictjson.Unmarshal(event, &e) != nil {
			return w, false
		}
		w.method, w.path, w.rawQuery, w.body, w.base64, w.sourceIP = e.RequestContext.HTTP.Method, e.RawPath, e.RawQueryString, e.Body, e.IsBase64Encoded, e.RequestContext.HTTP.SourceIP
		for name, v := range e.Headers {
			w.header[name] = []string{v}
		}
		if len(e.Cookies) > 0 {
			// The trigger moved the Cookie headers into cookies: they are one
			// Cookie header, and a Cookie in headers too is one more value the
			// request must carry, so an event with both can only be refused.
			w.header["Cookie"] = []string{strings.Join(e.Cookies, "; ")}
		}
		w.host = e.RequestContext.DomainName
		w.again, _ = json.Marshal(e)
	case FCHTTP:
		var e fcHTTPEvent
		if strictjson.Unmarshal(event, &e) != nil {
			return w, false
		}
		hc := e.RequestContext.HTTP
		w.method, w.path, w.body, w.base64, w.sourceIP = hc.Method, or(e.RawPath, hc.Path), e.Body, e.IsBase64Encoded, hc.SourceIP
		w.query = url.Values{}
		for name, v := range e.QueryParameters {
			w.query[name] = []string{v}
		}
		for name, v := range e.Headers {
			w.header[name] = []string{v}
		}
		w.host = e.RequestContext.DomainName
		w.again, _ = json.Marshal(e)
	}
	return w, true
}

// FuzzNewRequestAgreesWithEvent: decoding never panics; an event is refused
// with InvalidParameter and no request, or it gives the request the event
// says, member by member (method, path, query, every header value, host,
// source address, body, base64 undone), one a server could have read off the
// wire (every header name a token, no value with a control character but a
// tab, a host a server accepts); and the event encoded again decodes to the
// same request, so no member is read two ways.
func FuzzNewRequestAgreesWithEvent(f *testing.F) {
	for _, b := range sampleEvents(f) {
		f.Add(b)
	}
	for _, s := range []string{
		`{"version":"2.0","rawPath":"/","rawQueryString":"a=b&a=c","cookies":["x=1","y=2"],"headers":{"x-acs-action":"Encrypt"},"requestContext":{"http":{"method":"POST"}}}`,
		`{"httpMethod":"POST","path":"/","headers":{"X-A":"1"},"multiValueHeaders":{"X-A":["2","3"]},"queryStringParameters":{"a":"1"},"multiValueQueryStringParameters":{"a":["2"]},"requestContext":{}}`,
		`{"version":"v1","rawPath":"/","isBase64Encoded":true,"body":"YT1i","queryParameters":{"a":"b c"},"requestContext":{"http":{"method":"POST"}}}`,
		`{"version":"2.0","rawPath":"/a#b","rawQueryString":"Action=Decrypt","requestContext":{"http":{"method":"POST"}}}`,
		`{"version":"2.0","rawPath":"//host/","requestContext":{"http":{"method":"POST"}}}`,
		`{"version":"2.0","headers":{"x-acs-action":"Encrypt","X-Acs-Action":"Decrypt"},"requestContext":{"http":{"method":"POST"}}}`,
		`{"version":"2.0","rawPath":"/","headers":{"x-acs-action":"Encrypt\r\nX-Acs-Action: Decrypt","x-b c":"d"},"requestContext":{"http":{"method":"POST"}}}`,
		`{"version":"2.0","rawPath":"/","cookies":["a=1\r\nb: 2"],"headers":{"cookie":"c=3"},"requestContext":{"domainName":"a b","http":{"method":"POST"}}}`,
		`{"httpMethod":"POST","path":"/","multiValueHeaders":{"X-A":["1","\u0000"],"x:y":[]},"requestContext":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		_, _ = Detect(event)
		for _, k := range []Kind{RESTAPI, HTTPAPI, FCHTTP} {
			r, err := NewRequest(context.Background(), k, event)
			if err != nil {
				var ke *core.Error
				if r != nil || !errors.As(err, &ke) || ke.Code != core.CodeInvalidParameter {
					t.Fatalf("%s: refused with %v (%T) and request %v", k, err, err, r)
				}
				continue
			}
			w, ok := wantOf(k, event)
			if !ok {
				t.Fatalf("%s: NewRequest read %q, which does not decode", k, event)
			}
			checkRequest(t, k, r, w)
			again, err := NewRequest(context.Background(), k, w.again)
			if err != nil {
				t.Fatalf("%s: %q decoded, encoded again as %q it is refused: %v", k, event, w.again, err)
			}
			if a, b := dump(r), dump(again); a != b {
				t.Fatalf("%s: %q decoded as\n%s\nencoded again as\n%s", k, event, a, b)
			}
		}
	})
}

func checkRequest(t *testing.T, k Kind, r *http.Request, w want) {
	t.Helper()
	if r.Method != w.method {
		t.Fatalf("%s: method %q, event says %q", k, r.Method, w.method)
	}
	if r.URL.Scheme != "" || r.URL.Host != "" || r.URL.Fragment != "" || r.URL.User != nil {
		t.Fatalf("%s: path %q read as the URL %#v", k, w.path, r.URL)
	}
	if p := or(w.path, "/"); r.URL.EscapedPath() != p && r.URL.Path != p {
		t.Fatalf("%s: path %q (%q), event says %q", k, r.URL.Path, r.URL.EscapedPath(), w.path)
	}
	if w.query == nil {
		if r.URL.RawQuery != w.rawQuery {
			t.Fatalf("%s: query %q, event says %q", k, r.URL.RawQuery, w.rawQuery)
		}
	} else if got, err := url.ParseQuery(r.URL.RawQuery); err != nil || !reflect.DeepEqual(got, w.query) && len(got)+len(w.query) > 0 {
		t.Fatalf("%s: query %q reads as %v (%v), event says %v", k, r.URL.RawQuery, got, err, w.query)
	}
	for name, vs := range w.header {
		if textproto.CanonicalMIMEHeaderKey(name) == "Host" {
			continue
		}
		for _, v := range vs {
			if !contains(r.Header.Values(name), v) {
				t.Fatalf("%s: header %q is %q, event says %q among %q", k, name, r.Header.Values(name), v, vs)
			}
		}
	}
	for name, vs := range r.Header {
		if !httpguts.ValidHeaderFieldName(name) {
			t.Fatalf("%s: header name %q is not one a server reads off the wire", k, name)
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				t.Fatalf("%s: header %q holds %q, a value a server does not read off the wire", k, name, v)
			}
		}
	}
	if !httpguts.ValidHostHeader(r.Host) {
		t.Fatalf("%s: host %q is not one a server accepts", k, r.Host)
	}
	if hosts := hostValues(w.header); len(hosts) > 0 && !contains(hosts, r.Host) || len(hosts) == 0 && r.Host != w.host {
		t.Fatalf("%s: host %q, event says %q, domain %q", k, r.Host, hosts, w.host)
	}
	if w.sourceIP != "" && r.RemoteAddr != net.JoinHostPort(w.sourceIP, "0") {
		t.Fatalf("%s: remote address %q, event says %q", k, r.RemoteAddr, w.sourceIP)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	wantBody := []byte(w.body)
	if w.base64 {
		if wantBody, err = base64.StdEncoding.DecodeString(w.body); err != nil {
			t.Fatalf("%s: body %q is marked base64 and is not, yet the event was read", k, w.body)
		}
	}
	if !bytes.Equal(body, wantBody) {
		t.Fatalf("%s: body %q, event says %q", k, body, wantBody)
	}
}

func hostValues(h map[string][]string) []string {
	var out []string
	for name, vs := range h {
		for _, v := range vs {
			if v != "" && textproto.CanonicalMIMEHeaderKey(name) == "Host" {
				out = append(out, v) // an empty Host leaves the domain name
			}
		}
	}
	return out
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// dump is a request's parts NewRequest sets, in a comparable form.
func dump(r *http.Request) string {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var h bytes.Buffer
	_ = r.Header.Write(&h)
	return fmt.Sprintf("%s %s %q\nHost %q from %q\n%s\n%q", r.Method, r.URL, r.RequestURI, r.Host, r.RemoteAddr, h.String(), body)
}

// FuzzEventDecodingWorkIsLinear: the event decoders' work grows linearly with
// the number of members, whatever a member is. The event is prefix, then n
// copies of member joined by commas (each "#" in a copy replaced by its index,
// so that names stay distinct), then suffix; an event refused costs work too.
func FuzzEventDecodingWorkIsLinear(f *testing.F) {
	f.Add(`{"httpMethod":"POST","path":"/","headers":{`, `"X-Acs-H#":"v"`, `},"requestContext":{}}`)
	f.Add(`{"httpMethod":"POST","path":"/","multiValueHeaders":{`, `"X-Acs-M#":["a","b"]`, `},"requestContext":{}}`)
	f.Add(`{"version":"2.0","rawPath":"/","cookies":[`, `"c#=d"`, `],"requestContext":{"http":{"method":"POST"}}}`)
	f.Add(`{"version":"v1","rawPath":"/","queryParameters":{`, `"P#":"v"`, `},"requestContext":{"http":{"method":"POST"}}}`)
	f.Add(`{"version":"2.0","rawQueryString":"`, `a#=b`, `","requestContext":{"http":{"method":"POST"}}}`)
	f.Add(`{`, `"P#":"v"`, `,"EncryptionContext":{"a":"b"}}`)
	f.Add(`{"a":`, `[[[[{"#":"\u00e9"}]]]]`, `}`)
	f.Fuzz(func(t *testing.T, prefix, member, suffix string) {
		if len(prefix)+len(member)+len(suffix) > 256 {
			return // the input grows 50 times; keep a run short
		}
		build := linear.Repeat(prefix, member, ",", suffix)
		run := func(event []byte) error {
			// Only the time counts: most of these events are refused.
			_, _ = Detect(event)
			for _, k := range []Kind{RESTAPI, HTTPAPI, FCHTTP} {
				_, _ = NewRequest(context.Background(), k, event)
			}
			_, _, err := Params(event)
			return err
		}
		if bad, costs := linear.Superlinear(5, build, run); bad {
			t.Fatalf("prefix %q, member %q, suffix %q: %s: more than linear", prefix, member, suffix, costs)
		}
	})
}

// FuzzParamsAgreesWithEncodingJSON: a direct invocation is refused with
// InvalidParameter and a short message of valid UTF-8, or it gives every
// member encoding/json reads, strings as they are and anything else as its
// compact JSON text.
func FuzzParamsAgreesWithEncodingJSON(f *testing.F) {
	for _, b := range sampleEvents(f) {
		f.Add(b)
	}
	for _, s := range []string{`{"Action":"Encrypt","KeyId":"k","NumberOfBytes":32,"EncryptionContext":{"a": "b"},"X":null}`, `{"a":"\ud800"}`, `{"a":1,"a":2}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		action, p, err := Params(event)
		if err != nil {
			var ke *core.Error
			if !errors.As(err, &ke) || ke.Code != core.CodeInvalidParameter {
				t.Fatalf("refused with %v (%T)", err, err)
			}
			if !utf8.ValidString(ke.Message) || len(ke.Message) > 512 {
				t.Fatalf("refused with a message of %d bytes, valid UTF-8 %v: %q", len(ke.Message), utf8.ValidString(ke.Message), ke.Message)
			}
			return
		}
		var top map[string]any
		d := json.NewDecoder(bytes.NewReader(event))
		d.UseNumber()
		if err := d.Decode(&top); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", event, err)
		}
		n := 0
		for name, v := range top {
			got, ok := p[name]
			if name == "Action" {
				got, ok = action, action != "" || v == ""
			}
			switch v := v.(type) {
			case nil:
				if ok && name != "Action" {
					t.Fatalf("null member %q read as %q", name, got)
				}
				continue
			case string:
				if !ok || got != v {
					t.Fatalf("member %q is %q, read as %q", name, v, got)
				}
			default:
				var again any
				d := json.NewDecoder(strings.NewReader(got))
				d.UseNumber()
				var compact bytes.Buffer
				if !ok || d.Decode(&again) != nil || !reflect.DeepEqual(again, v) || json.Compact(&compact, []byte(got)) != nil || compact.String() != got {
					t.Fatalf("member %q is %v, read as %q", name, v, got)
				}
			}
			if name != "Action" {
				n++
			}
		}
		if len(p) != n {
			t.Fatalf("%q read as %d parameters %v, encoding/json finds %d", event, len(p), p, n)
		}
	})
}
