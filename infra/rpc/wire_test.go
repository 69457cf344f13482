package rpc_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/rpc"
	"github.com/kmsless/kmsless/infra/sign"
)

func TestClassicGETWithActionParameters(t *testing.T) {
	e := newEnv(t)
	r := e.get(action("CreateKey", "Description", "made by a hand-built GET"))
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var body alibaba.KeyMetadataResponse
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.RequestId == "" || r.header.Get("X-Acs-Request-Id") != body.RequestId {
		t.Errorf("RequestId %q, header %q", body.RequestId, r.header.Get("X-Acs-Request-Id"))
	}
	if body.KeyMetadata.Description != "made by a hand-built GET" || body.KeyMetadata.KeyState != "Enabled" {
		t.Errorf("KeyMetadata %+v", body.KeyMetadata)
	}
	d, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(body.KeyMetadata.KeyId)})
	if err != nil || tea.StringValue(d.Body.KeyMetadata.Description) != "made by a hand-built GET" {
		t.Fatalf("the key made by GET is not there: %v", err)
	}
}

func TestClassicPOSTWithFormBody(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	r := e.postForm(action("GenerateDataKeyWithoutPlaintext", "KeyId", id, "NumberOfBytes", "16", "EncryptionContext", `{"k":"v"}`))
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var body alibaba.CiphertextResponse
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.KeyId != id || body.CiphertextBlob == "" || body.RequestId == "" {
		t.Fatalf("response %s", r.body)
	}
	dec, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: tea.String(body.CiphertextBlob), EncryptionContext: map[string]interface{}{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tea.StringValue(dec.Body.Plaintext)); n != 24 {
		t.Errorf("16-byte key came back as %d base64 characters", n)
	}
}

func TestUnknownActionIsInvalidParameter(t *testing.T) {
	e := newEnv(t)
	_, err := e.client.CallApi(&openapi.Params{
		Action: tea.String("DeleteEverything"), Version: tea.String(rpc.APIVersion), Protocol: tea.String("HTTP"),
		Pathname: tea.String("/"), Method: tea.String("POST"), AuthType: tea.String("AK"), Style: tea.String("RPC"),
		ReqBodyType: tea.String("formData"), BodyType: tea.String("json"),
	}, &openapi.OpenApiRequest{}, &util.RuntimeOptions{})
	se := sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
	if !strings.Contains(tea.StringValue(se.Message), "DeleteEverything") {
		t.Errorf("message does not name the action: %s", tea.StringValue(se.Message))
	}
}

func TestRequestShapeErrors(t *testing.T) {
	e := newEnv(t)
	signed := signV1(http.MethodGet, action("ListKeys"), adminID, adminSecret)
	cases := []struct {
		name     string
		req      func() *http.Request
		status   int
		code     string
		mentions string
	}{
		{"missing Version", func() *http.Request {
			p := signV1(http.MethodGet, url.Values{"Action": {"ListKeys"}}, adminID, adminSecret)
			return mustRequest(t, http.MethodGet, e.srv.URL+"/?"+p.Encode(), "")
		}, 400, core.CodeMissingParameter, "Version"},
		{"wrong Version", func() *http.Request {
			p := signV1(http.MethodGet, url.Values{"Action": {"ListKeys"}, "Version": {"2019-01-01"}}, adminID, adminSecret)
			return mustRequest(t, http.MethodGet, e.srv.URL+"/?"+p.Encode(), "")
		}, 400, core.CodeInvalidParameter, "Version"},
		{"missing Action", func() *http.Request {
			p := signV1(http.MethodGet, url.Values{"Version": {rpc.APIVersion}}, adminID, adminSecret)
			return mustRequest(t, http.MethodGet, e.srv.URL+"/?"+p.Encode(), "")
		}, 400, core.CodeMissingParameter, "Action"},
		{"parameter given twice", func() *http.Request {
			return mustRequest(t, http.MethodGet, e.srv.URL+"/?"+signed.Encode()+"&PageSize=5&PageSize=6", "")
		}, 400, core.CodeInvalidParameter, "PageSize"},
		{"parameter in query and body", func() *http.Request {
			r := mustRequest(t, http.MethodPost, e.srv.URL+"/?"+signed.Encode()+"&PageSize=5", "PageSize=6")
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 400, core.CodeInvalidParameter, "PageSize"},
		{"malformed query", func() *http.Request {
			return mustRequest(t, http.MethodGet, e.srv.URL+"/?"+signed.Encode()+"&bad=%zz", "")
		}, 400, core.CodeInvalidParameter, "query string"},
		{"body that is not a form", func() *http.Request {
			r := mustRequest(t, http.MethodPost, e.srv.URL+"/?"+signed.Encode(), `{"PageSize":5}`)
			r.Header.Set("Content-Type", "application/json")
			return r
		}, 400, core.CodeInvalidParameter, "x-www-form-urlencoded"},
		{"oversized body", func() *http.Request {
			r := mustRequest(t, http.MethodPost, e.srv.URL+"/?"+signed.Encode(), "Description="+strings.Repeat("a", (1<<20)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 400, core.CodeInvalidParameter, "larger than"},
		{"oversized chunked body", func() *http.Request {
			r := mustRequest(t, http.MethodPost, e.srv.URL+"/?"+signed.Encode(), "Description="+strings.Repeat("a", (1<<20)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.ContentLength = -1
			return r
		}, 400, core.CodeInvalidParameter, "larger than"},
		{"parameter over the length bound", func() *http.Request {
			r := mustRequest(t, http.MethodPost, e.srv.URL+"/?"+signed.Encode(), "Description="+strings.Repeat("a", core.MaxParamLen+1))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 400, core.CodeInvalidParameter, "Description"},
		{"unsupported method", func() *http.Request {
			return mustRequest(t, http.MethodPut, e.srv.URL+"/?"+signed.Encode(), "")
		}, 400, core.CodeInvalidParameter, "PUT"},
		{"other path", func() *http.Request {
			return mustRequest(t, http.MethodGet, e.srv.URL+"/keys?"+signed.Encode(), "")
		}, 400, core.CodeInvalidParameter, "/keys"},
		{"bad Format", func() *http.Request {
			p := signV1(http.MethodGet, action("ListKeys", "Format", "YAML"), adminID, adminSecret)
			return mustRequest(t, http.MethodGet, e.srv.URL+"/?"+p.Encode(), "")
		}, 400, core.CodeInvalidParameter, "Format"},
		{"no AccessKeyId", func() *http.Request {
			return mustRequest(t, http.MethodGet, e.srv.URL+"/?"+action("ListKeys").Encode(), "")
		}, 400, core.CodeIncompleteSignature, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.req())
			code, msg := r.errorBody(t)
			if r.status != c.status || code != c.code || !strings.Contains(msg, c.mentions) {
				t.Fatalf("got %d %s %q, want %d %s mentioning %q", r.status, code, msg, c.status, c.code, c.mentions)
			}
		})
	}
}

// TestSignatureV1RunsOnlyTheSignedAction: a signature 1.0 request signs its
// Action parameter, not the x-acs-action header, so an added header must not
// turn a captured ListKeys into a CreateKey.
func TestSignatureV1RunsOnlyTheSignedAction(t *testing.T) {
	e := newEnv(t)
	signed := signV1(http.MethodGet, action("ListKeys"), adminID, adminSecret)
	r := mustRequest(t, http.MethodGet, e.srv.URL+"/?"+signed.Encode(), "")
	r.Header.Set("x-acs-action", "CreateKey")
	resp := e.do(r)
	var body struct {
		TotalCount *int
		Keys       *struct{ Key []any }
	}
	if err := json.Unmarshal(resp.body, &body); err != nil || resp.status != http.StatusOK || body.Keys == nil {
		t.Fatalf("got %d %s, want a ListKeys response", resp.status, resp.body)
	}
	if *body.TotalCount != 0 {
		t.Fatalf("a key was created: TotalCount %d", *body.TotalCount)
	}
}

func mustRequest(t *testing.T, method, u, body string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		r.Body, r.ContentLength = http.NoBody, 0
	}
	return r
}

func TestFormatXML(t *testing.T) {
	e := newEnv(t)
	r := e.get(action("CreateKey", "Format", "XML"))
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/xml;charset=utf-8" {
		t.Fatalf("status %d, Content-Type %q: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	var ok struct {
		XMLName     xml.Name
		RequestId   string
		KeyMetadata struct{ KeyId, KeyState string }
	}
	if err := xml.Unmarshal(r.body, &ok); err != nil {
		t.Fatal(err)
	}
	if ok.XMLName.Local != "CreateKeyResponse" || ok.RequestId == "" || ok.KeyMetadata.KeyState != "Enabled" {
		t.Fatalf("XML response %s", r.body)
	}

	r = e.get(action("DescribeKey", "Format", "xml", "KeyId", "key-missing"))
	var fail struct {
		XMLName                          xml.Name
		RequestId, HostId, Code, Message string
	}
	if err := xml.Unmarshal(r.body, &fail); err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusNotFound || fail.XMLName.Local != "Error" || fail.Code != core.CodeKeyNotFound || fail.RequestId == "" {
		t.Fatalf("XML error %d %s", r.status, r.body)
	}
}

func TestThrottlingSetsRetryAfter(t *testing.T) {
	const id, secret = "LTAI5tSlow0000000000001", "slow-secret"
	e := newEnv(t, withPrincipal("slow", id, secret, 1, core.FullAccess()))
	var last rawResponse
	for range 3 {
		p := signV1(http.MethodGet, action("ListKeys"), id, secret)
		last = e.do(mustRequest(t, http.MethodGet, e.srv.URL+"/?"+p.Encode(), ""))
		if last.status != http.StatusOK {
			break
		}
	}
	code, msg := last.errorBody(t)
	if last.status != http.StatusTooManyRequests || code != "Rejected.Throttling" || msg != "QPS Limit Exceeded" {
		t.Fatalf("got %d %s %q", last.status, code, msg)
	}
	secs, err := strconv.Atoi(last.header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Fatalf("Retry-After %q", last.header.Get("Retry-After"))
	}
}

func TestPanicBecomesInternalFailureWithoutLeakingValues(t *testing.T) {
	e := newEnv(t, func(s *setup) {
		s.opts.Authenticator = func(r *http.Request, params url.Values, body []byte) (sign.Result, error) {
			var m map[string]int
			m[params.Get("Plaintext")]++ // assignment to a nil map panics
			return sign.Result{}, nil
		}
	})
	r := e.get(action("Encrypt", "KeyId", "key-x", "Plaintext", "VGhlU2VjcmV0VmFsdWU="))
	code, msg := r.errorBody(t)
	if r.status != http.StatusInternalServerError || code != core.CodeInternalFailure {
		t.Fatalf("got %d %s", r.status, code)
	}
	if strings.Contains(string(r.body), "goroutine") || strings.Contains(msg, "nil map") {
		t.Errorf("response reveals internals: %s", r.body)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "panic while serving a request") || !strings.Contains(logs, "nil map") {
		t.Errorf("the panic was not logged: %s", logs)
	}
	if strings.Contains(logs, "VGhlU2VjcmV0VmFsdWU") {
		t.Errorf("a parameter value reached the log: %s", logs)
	}
}

func TestLogLineNamesRequestButNoValues(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	secretText := "U3VwZXJTZWNyZXRQbGFpbnRleHQ="
	if _, err := e.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(id), Plaintext: tea.String(secretText), EncryptionContext: map[string]interface{}{"tenant": "context-value-xyz"}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: tea.String("AAAA")})
	sdkError(t, err, core.CodeInvalidCiphertext, http.StatusBadRequest)
	logs := e.logs.String()
	for _, want := range []string{"action=Encrypt", "principal=admin", "code=OK", "duration=", "action=Decrypt", "code=InvalidCiphertext"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	for _, leak := range []string{secretText, "context-value-xyz", "Signature=", adminSecret} {
		if strings.Contains(logs, leak) {
			t.Errorf("log contains %q:\n%s", leak, logs)
		}
	}
}
