package trigger_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/trigger"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func codeOf(t *testing.T, err error) string {
	t.Helper()
	var ke *core.Error
	if err == nil {
		return ""
	}
	if !errors.As(err, &ke) {
		t.Fatalf("error %v is not a *core.Error", err)
	}
	return ke.Code
}

func TestDetectTellsEveryTriggerShapeApart(t *testing.T) {
	for _, tc := range []struct {
		file string
		want trigger.Kind
	}{
		{"aws/apigw-rest-encrypt.json", trigger.RESTAPI},
		{"aws/apigw-http-describe-key.json", trigger.HTTPAPI},
		{"aws/function-url-generate-data-key-without-plaintext.json", trigger.HTTPAPI},
		{"fc/http-encrypt-form.json", trigger.FCHTTP},
		{"fc/http-generate-data-key-without-plaintext.json", trigger.FCHTTP},
		{"aws/direct-decrypt.json", trigger.Direct},
		{"fc/direct-generate-data-key.json", trigger.Direct},
	} {
		got, err := trigger.Detect(sample(t, tc.file))
		if err != nil || got != tc.want {
			t.Errorf("%s: Detect = %v, %v; want %v", tc.file, got, err, tc.want)
		}
	}
}

func TestDetectComparesTriggerKeysExactly(t *testing.T) {
	// Alibaba's Version parameter must not read as a trigger's "version".
	got, err := trigger.Detect([]byte(`{"Version":"2.0","HttpMethod":"POST","KeyId":"alias/x"}`))
	if err != nil || got != trigger.Direct {
		t.Fatalf("Detect = %v, %v; want a direct event", got, err)
	}
}

func TestDetectRefusesWhatNoTriggerSends(t *testing.T) {
	for _, event := range []string{`[1,2]`, `"KeyId"`, `null`, `{"requestContext":{"stage":"prod"}}`, `{"requestContext":"x"}`, `{`} {
		if _, err := trigger.Detect([]byte(event)); codeOf(t, err) != core.CodeInvalidParameter {
			t.Errorf("Detect(%s) = %v; want InvalidParameter", event, err)
		}
	}
}

func TestNewRequestCarriesTheRequestOfEveryHTTPTrigger(t *testing.T) {
	for _, tc := range []struct {
		file, host, action, keyID string
		form                      bool
	}{
		{"aws/apigw-rest-encrypt.json", "f6g7h8i9j0.execute-api.us-east-1.amazonaws.com", "Encrypt", "alias/kmsless-demo", true},
		{"aws/apigw-http-describe-key.json", "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", "DescribeKey", "alias/kmsless-demo", false},
		{"aws/function-url-generate-data-key-without-plaintext.json", "kmslessapiexample.lambda-url.us-east-1.on.aws", "GenerateDataKeyWithoutPlaintext", "alias/kmsless-demo", false},
		{"fc/http-generate-data-key-without-plaintext.json", "kmsless-api-abcdefghij.cn-hangzhou.fcapp.run", "GenerateDataKeyWithoutPlaintext", "alias/kmsless-demo", false},
		{"fc/http-encrypt-form.json", "kmsless-api-abcdefghij.cn-hangzhou.fcapp.run", "Encrypt", "alias/kmsless-demo", true},
	} {
		event := sample(t, tc.file)
		k, _ := trigger.Detect(event)
		r, err := trigger.NewRequest(context.Background(), k, event)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		body, _ := io.ReadAll(r.Body)
		params := r.URL.Query()
		action := r.Header.Get("x-acs-action")
		if tc.form {
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
				t.Errorf("%s: Content-Type %q", tc.file, r.Header.Get("Content-Type"))
			}
			if params, err = url.ParseQuery(string(body)); err != nil {
				t.Fatalf("%s: body %q is not a form: %v", tc.file, body, err)
			}
			action = params.Get("Action")
		}
		if r.Method != http.MethodPost || r.URL.Path != "/" || r.Host != tc.host || action != tc.action || params.Get("KeyId") != tc.keyID {
			t.Errorf("%s: got %s %s host %q action %q KeyId %q", tc.file, r.Method, r.URL.Path, r.Host, action, params.Get("KeyId"))
		}
		if !strings.HasPrefix(r.RemoteAddr, "203.0.113.10:") {
			t.Errorf("%s: RemoteAddr %q does not carry the source IP", tc.file, r.RemoteAddr)
		}
	}
}

func TestNewRequestRefusesABodyMarkedBase64ThatIsNot(t *testing.T) {
	event := []byte(`{"version":"v1","rawPath":"/","body":"not base64!","isBase64Encoded":true,"headers":{},"requestContext":{"http":{"method":"POST","path":"/"},"timeEpoch":"1748764800000"}}`)
	_, err := trigger.NewRequest(context.Background(), trigger.FCHTTP, event)
	if codeOf(t, err) != core.CodeInvalidParameter {
		t.Fatalf("err = %v; want InvalidParameter", err)
	}
}

// teapot answers with what each trigger must carry back: a status, repeated
// headers, cookies and a body.
var teapot = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("X-Multi", "a")
	w.Header().Add("X-Multi", "b")
	w.Header().Add("Set-Cookie", "c1=1")
	w.Header().Add("Set-Cookie", "c2=2")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTeapot)
	_, _ = io.WriteString(w, `{"Method":"`+r.Method+`"}`)
})

func TestServeAnswersInEachTriggersOwnShape(t *testing.T) {
	serve := func(file string) map[string]any {
		t.Helper()
		event := sample(t, file)
		k, _ := trigger.Detect(event)
		out, err := trigger.Serve(context.Background(), teapot, k, event)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%s: answer %s is not JSON", file, out)
		}
		if m["statusCode"] != float64(418) || m["body"] != `{"Method":"POST"}` || m["isBase64Encoded"] == true {
			t.Errorf("%s: answer %s", file, out)
		}
		return m
	}
	rest := serve("aws/apigw-rest-encrypt.json")
	if mv := rest["multiValueHeaders"].(map[string]any); len(mv["X-Multi"].([]any)) != 2 || len(mv["Set-Cookie"].([]any)) != 2 {
		t.Errorf("REST API answer lost repeated headers: %v", mv)
	}
	v2 := serve("aws/function-url-generate-data-key-without-plaintext.json")
	if h := v2["headers"].(map[string]any); h["X-Multi"] != "a,b" || h["Set-Cookie"] != nil {
		t.Errorf("payload 2.0 headers %v: want X-Multi joined and cookies apart", h)
	}
	if c := v2["cookies"].([]any); len(c) != 2 {
		t.Errorf("payload 2.0 cookies %v", c)
	}
	fc := serve("fc/http-encrypt-form.json")
	if h := fc["headers"].(map[string]any); h["X-Multi"] != "a,b" || h["Content-Type"] != "application/json" {
		t.Errorf("FC headers %v", h)
	}
}

func TestServeBase64EncodesABinaryBody(t *testing.T) {
	binary := []byte{0xff, 0x00, 0xfe}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(binary) })
	for _, file := range []string{"aws/apigw-rest-encrypt.json", "aws/apigw-http-describe-key.json", "fc/http-encrypt-form.json"} {
		event := sample(t, file)
		k, _ := trigger.Detect(event)
		out, err := trigger.Serve(context.Background(), h, k, event)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			StatusCode      int    `json:"statusCode"`
			Body            string `json:"body"`
			IsBase64Encoded bool   `json:"isBase64Encoded"`
		}
		_ = json.Unmarshal(out, &m)
		got, _ := base64.StdEncoding.DecodeString(m.Body)
		if m.StatusCode != 200 || !m.IsBase64Encoded || string(got) != string(binary) {
			t.Errorf("%s: answer %s", file, out)
		}
	}
}

func TestParamsCarryValuesAsTheWireWould(t *testing.T) {
	action, p, err := trigger.Params([]byte(`{"Action":"GenerateDataKey","KeyId":"alias/x","NumberOfBytes":32,
		"DryRun":false,"EncryptionContext":{ "b": "2", "a":"1" },"Aliases":["x","y"],"Description":null}`))
	if err != nil {
		t.Fatal(err)
	}
	want := core.Params{"KeyId": "alias/x", "NumberOfBytes": "32", "DryRun": "false",
		"EncryptionContext": `{"b":"2","a":"1"}`, "Aliases": `["x","y"]`}
	if action != "GenerateDataKey" || len(p) != len(want) {
		t.Fatalf("action %q params %v; want %v", action, p, want)
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q; want %q", k, p[k], v)
		}
	}
}

func TestParamsRefuseAnythingButAnObject(t *testing.T) {
	for _, event := range []string{`[]`, `"x"`, `12`, `null`, `{"KeyId":`} {
		if _, _, err := trigger.Params([]byte(event)); codeOf(t, err) != core.CodeInvalidParameter {
			t.Errorf("Params(%s) = %v; want InvalidParameter", event, err)
		}
	}
}

// TestParamsReadEachMemberOneWay: a direct invocation is read by the rules
// HTTP trigger events are, so no reader of the event before the function can
// take it for another request: a member named twice, such as two KeyIds or two
// Actions, or invalid UTF-8 anywhere refuses the event.
func TestParamsReadEachMemberOneWay(t *testing.T) {
	for _, event := range []string{
		`{"KeyId":"alias/a","KeyId":"alias/b"}`,
		`{"Action":"Decrypt","CiphertextBlob":"AQ==","Action":"GenerateDataKey"}`,
		`{"KeyId":"alias/a","EncryptionContext":{"t":"a","t":"b"}}`,
		"{\"KeyId\":\"alias/\xff\"}",
	} {
		if _, p, err := trigger.Params([]byte(event)); codeOf(t, err) != core.CodeInvalidParameter {
			t.Errorf("Params(%q) = %v, %v; want InvalidParameter", event, p, err)
		}
	}
}

func TestRouterRefusesEventsTheFunctionDoesNotAnswer(t *testing.T) {
	direct := func(context.Context, []byte) (any, error) { return "direct", nil }
	httpOnly := trigger.Router{HTTP: teapot}
	if _, err := httpOnly.Handle(context.Background(), sample(t, "aws/direct-describe-key.json")); codeOf(t, err) != core.CodeInvalidParameter {
		t.Errorf("an HTTP-only function answered a direct event: %v", err)
	}
	directOnly := trigger.Router{Direct: direct}
	if _, err := directOnly.Handle(context.Background(), sample(t, "fc/http-encrypt-form.json")); codeOf(t, err) != core.CodeInvalidParameter {
		t.Errorf("a direct-only function answered an HTTP event: %v", err)
	}
	both := trigger.Router{HTTP: teapot, Direct: direct}
	if v, err := both.Handle(context.Background(), sample(t, "aws/direct-describe-key.json")); v != "direct" || err != nil {
		t.Errorf("direct event: %v, %v", v, err)
	}
}

func TestNewRequestTakesFCTimeEpochAsAStringOrANumber(t *testing.T) {
	for _, epoch := range []string{`"1748764800000"`, `1748764800000`} {
		event := []byte(`{"version":"v1","rawPath":"/","body":"","isBase64Encoded":false,"headers":{"Host":"h.fcapp.run"},
			"queryParameters":{"KeyId":"alias/x"},"requestContext":{"http":{"method":"GET","path":"/"},"timeEpoch":` + epoch + `}}`)
		r, err := trigger.NewRequest(context.Background(), trigger.FCHTTP, event)
		if err != nil || r.URL.Query().Get("KeyId") != "alias/x" || r.Host != "h.fcapp.run" {
			t.Errorf("timeEpoch %s: %v", epoch, err)
		}
	}
}

// An event is read one way only: a member named twice, a name in another case
// or invalid UTF-8 cannot make the request differ from what the trigger sent
// and Detect saw.
func TestNewRequestReadsEachMemberOneWay(t *testing.T) {
	const head = `{"version":"v1","rawPath":"/","isBase64Encoded":false,"requestContext":{"http":{"method":"POST","path":"/"}},`
	for name, event := range map[string]string{
		"a body twice":   head + `"headers":{},"body":"a=1","body":"a=2"}`,
		"a header twice": head + `"headers":{"X-Acs-Signature-Nonce":"1","X-Acs-Signature-Nonce":"2"},"body":""}`,
		"invalid UTF-8":  head + "\"headers\":{\"X-Name\":\"\xff\"},\"body\":\"\"}",
	} {
		if _, err := trigger.NewRequest(context.Background(), trigger.FCHTTP, []byte(event)); codeOf(t, err) != core.CodeInvalidParameter {
			t.Errorf("%s: err = %v; want InvalidParameter", name, err)
		}
	}
	// A name in another case is not the trigger's: it is ignored, as Detect
	// ignores it.
	event := []byte(`{"version":"v1","rawPath":"/","RawPath":"/elsewhere","headers":{},"Body":"a=1","body":"","requestContext":{"http":{"method":"GET","Method":"DELETE","path":"/"}}}`)
	r, err := trigger.NewRequest(context.Background(), trigger.FCHTTP, event)
	if err != nil {
		t.Fatal(err)
	}
	if r.URL.Path != "/" || r.Method != http.MethodGet || r.Body != http.NoBody {
		t.Errorf("read %s %s (body %v); want GET / with no body", r.Method, r.URL.Path, r.Body)
	}
}

// The event's path is a path: a "#" or "?" in it (a trigger that decodes
// %23 and %3F hands them over bare) must not turn the rest into a fragment or
// a query, nor a leading "//" turn it into a host, which would drop or change
// the query the event carries beside it.
func TestNewRequestKeepsThePathAPath(t *testing.T) {
	for _, path := range []string{"/a#b", "/a?b=c", "//example.com/", "/#"} {
		for k, event := range map[trigger.Kind]string{
			trigger.HTTPAPI: `{"version":"2.0","rawPath":"` + path + `","rawQueryString":"Action=Decrypt","requestContext":{"http":{"method":"POST"}}}`,
			trigger.RESTAPI: `{"httpMethod":"POST","path":"` + path + `","queryStringParameters":{"Action":"Decrypt"},"requestContext":{}}`,
			trigger.FCHTTP:  `{"version":"v1","rawPath":"` + path + `","queryParameters":{"Action":"Decrypt"},"requestContext":{"http":{"method":"POST"}}}`,
		} {
			r, err := trigger.NewRequest(context.Background(), k, []byte(event))
			if err != nil {
				t.Fatalf("%s, path %q: %v", k, path, err)
			}
			if r.URL.Path != path || r.URL.Host != "" || r.URL.Fragment != "" || r.URL.RawQuery != "Action=Decrypt" {
				t.Errorf("%s: path %q read as path %q, host %q, fragment %q, query %q", k, path, r.URL.Path, r.URL.Host, r.URL.Fragment, r.URL.RawQuery)
			}
		}
	}
}

// Header names are case-insensitive: an event that names one header in two
// spellings names it twice, and which value the request would carry depended
// on map order. It is refused, as strictjson refuses a member named twice.
func TestNewRequestRefusesAHeaderNamedTwice(t *testing.T) {
	for k, event := range map[trigger.Kind]string{
		trigger.HTTPAPI: `{"version":"2.0","rawPath":"/","headers":{"x-acs-action":"Encrypt","X-Acs-Action":"Decrypt"},"requestContext":{"http":{"method":"POST"}}}`,
		trigger.FCHTTP:  `{"version":"v1","rawPath":"/","headers":{"x-acs-action":"Encrypt","X-ACS-ACTION":"Decrypt"},"requestContext":{"http":{"method":"POST"}}}`,
		trigger.RESTAPI: `{"httpMethod":"POST","path":"/","headers":{"x-acs-action":"Encrypt","X-Acs-Action":"Decrypt"},"requestContext":{}}`,
	} {
		if r, err := trigger.NewRequest(context.Background(), k, []byte(event)); codeOf(t, err) != core.CodeInvalidParameter {
			t.Errorf("%s: NewRequest = %v, %v; want InvalidParameter", k, r, err)
		}
	}
	multi := `{"httpMethod":"POST","path":"/","multiValueHeaders":{"x-acs-action":["Encrypt"],"X-Acs-Action":["Decrypt"]},"requestContext":{}}`
	if r, err := trigger.NewRequest(context.Background(), trigger.RESTAPI, []byte(multi)); codeOf(t, err) != core.CodeInvalidParameter {
		t.Errorf("multiValueHeaders: NewRequest = %v, %v; want InvalidParameter", r, err)
	}
	// The one header in headers and multiValueHeaders is how API Gateway
	// sends every header: the list counts.
	both := `{"httpMethod":"POST","path":"/","headers":{"x-acs-action":"Decrypt"},"multiValueHeaders":{"X-Acs-Action":["Encrypt","Decrypt"]},"requestContext":{}}`
	r, err := trigger.NewRequest(context.Background(), trigger.RESTAPI, []byte(both))
	if err != nil || strings.Join(r.Header.Values("X-Acs-Action"), ",") != "Encrypt,Decrypt" {
		t.Fatalf("NewRequest = %v, %v; want X-Acs-Action Encrypt, Decrypt", r, err)
	}
}

// queryStringParameters holds the last of each list in
// multiValueQueryStringParameters: it counts for a name whose list is empty,
// as headers does.
func TestNewRequestReadsAQueryParameterAnEmptyListLeavesOut(t *testing.T) {
	event := `{"httpMethod":"POST","path":"/","queryStringParameters":{"KeyId":"k"},"multiValueQueryStringParameters":{"KeyId":[]},"requestContext":{}}`
	r, err := trigger.NewRequest(context.Background(), trigger.RESTAPI, []byte(event))
	if err != nil || r.URL.Query().Get("KeyId") != "k" {
		t.Fatalf("NewRequest = %v, %v; want KeyId k", r, err)
	}
}

// A server reading a request off the wire never hands its handler a header
// whose name is not an HTTP token or whose value holds a control character
// (a CR or LF above all, which would end the header and start another), nor
// a Host that is not a host. An event is the platform's account of such a
// request, so an event that carries one is not what any client sent: it is
// refused, as an event that names a header twice is.
func TestNewRequestRefusesHeadersHTTPDoesNotAllow(t *testing.T) {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	var events []struct {
		k     trigger.Kind
		event string
	}
	add := func(k trigger.Kind, event string) {
		events = append(events, struct {
			k     trigger.Kind
			event string
		}{k, event})
	}
	for _, name := range []string{"x-acs-action ", "x-acs:action", "", "x-acs-\x00", "x-acs-\r\nx", "x-acs-é"} {
		h := `{` + q(name) + `:"Encrypt"}`
		add(trigger.HTTPAPI, `{"version":"2.0","rawPath":"/","headers":`+h+`,"requestContext":{"http":{"method":"POST"}}}`)
		add(trigger.FCHTTP, `{"version":"v1","rawPath":"/","headers":`+h+`,"requestContext":{"http":{"method":"POST"}}}`)
		add(trigger.RESTAPI, `{"httpMethod":"POST","path":"/","headers":`+h+`,"requestContext":{}}`)
		add(trigger.RESTAPI, `{"httpMethod":"POST","path":"/","multiValueHeaders":{`+q(name)+`:["Encrypt"]},"requestContext":{}}`)
	}
	for _, value := range []string{"Encrypt\r\nX-Acs-Action: Decrypt", "Encrypt\n", "Enc\x00rypt", "Encrypt\x7f", "\x1b[31m"} {
		h := `{"x-acs-action":` + q(value) + `}`
		add(trigger.HTTPAPI, `{"version":"2.0","rawPath":"/","headers":`+h+`,"requestContext":{"http":{"method":"POST"}}}`)
		add(trigger.FCHTTP, `{"version":"v1","rawPath":"/","headers":`+h+`,"requestContext":{"http":{"method":"POST"}}}`)
		add(trigger.RESTAPI, `{"httpMethod":"POST","path":"/","headers":`+h+`,"requestContext":{}}`)
		// A bad value in the list refuses the event, even where headers
		// gives a good one.
		add(trigger.RESTAPI, `{"httpMethod":"POST","path":"/","headers":{"x-acs-action":"Encrypt"},"multiValueHeaders":{"x-acs-action":["Encrypt",`+q(value)+`]},"requestContext":{}}`)
		// Payload 2.0 carries the request's cookies apart; they become one
		// Cookie header.
		add(trigger.HTTPAPI, `{"version":"2.0","rawPath":"/","cookies":["a=1",`+q(value)+`],"requestContext":{"http":{"method":"POST"}}}`)
	}
	for _, host := range []string{"example.com/evil", "exa mple.com", "example.com\r\nX: y"} {
		add(trigger.HTTPAPI, `{"version":"2.0","rawPath":"/","headers":{"host":`+q(host)+`},"requestContext":{"http":{"method":"POST"}}}`)
		add(trigger.HTTPAPI, `{"version":"2.0","rawPath":"/","requestContext":{"domainName":`+q(host)+`,"http":{"method":"POST"}}}`)
		add(trigger.FCHTTP, `{"version":"v1","rawPath":"/","requestContext":{"domainName":`+q(host)+`,"http":{"method":"POST"}}}`)
		add(trigger.RESTAPI, `{"httpMethod":"POST","path":"/","requestContext":{"domainName":`+q(host)+`}}`)
	}
	for _, tc := range events {
		if r, err := trigger.NewRequest(context.Background(), tc.k, []byte(tc.event)); codeOf(t, err) != core.CodeInvalidParameter {
			t.Errorf("%s %s: NewRequest = %v, %v; want InvalidParameter", tc.k, tc.event, r, err)
		}
	}

	// What HTTP does allow stays: a tab, text past ASCII, an empty value.
	event := `{"version":"2.0","rawPath":"/","headers":{"x-a":"a\tb","x-b":"é","x-c":"","host":"kms.example.com:8443"},"requestContext":{"http":{"method":"POST"}}}`
	r, err := trigger.NewRequest(context.Background(), trigger.HTTPAPI, []byte(event))
	if err != nil || r.Header.Get("X-A") != "a\tb" || r.Header.Get("X-B") != "é" || len(r.Header.Values("X-C")) != 1 || r.Host != "kms.example.com:8443" {
		t.Fatalf("NewRequest = %v, %v; want the headers as sent", r, err)
	}
}

// Payload 2.0 moves the request's Cookie headers out of headers into the
// cookies list, which becomes one Cookie header, joined by "; " as HTTP/2
// joins cookie fields. An event with a Cookie header beside the list names
// the header twice, so it is refused rather than one of the two dropped.
func TestNewRequestReadsPayload2Cookies(t *testing.T) {
	event := `{"version":"2.0","rawPath":"/","cookies":["a=1","b=2"],"requestContext":{"http":{"method":"POST"}}}`
	r, err := trigger.NewRequest(context.Background(), trigger.HTTPAPI, []byte(event))
	if err != nil || len(r.Header.Values("Cookie")) != 1 || r.Header.Get("Cookie") != "a=1; b=2" {
		t.Fatalf("NewRequest = %v, %v; want Cookie a=1; b=2", r, err)
	}
	if c, err := r.Cookie("b"); err != nil || c.Value != "2" {
		t.Fatalf("cookie b = %v, %v", c, err)
	}
	event = `{"version":"2.0","rawPath":"/","headers":{"cookie":"c=3"},"requestContext":{"http":{"method":"POST"}}}`
	if r, err := trigger.NewRequest(context.Background(), trigger.HTTPAPI, []byte(event)); err != nil || r.Header.Get("Cookie") != "c=3" {
		t.Fatalf("NewRequest = %v, %v; want the Cookie header of headers", r, err)
	}
	event = `{"version":"2.0","rawPath":"/","headers":{"cookie":"c=3"},"cookies":["a=1"],"requestContext":{"http":{"method":"POST"}}}`
	if r, err := trigger.NewRequest(context.Background(), trigger.HTTPAPI, []byte(event)); codeOf(t, err) != core.CodeInvalidParameter {
		t.Fatalf("NewRequest = %v, %v; want InvalidParameter", r, err)
	}
}
