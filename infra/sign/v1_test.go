package sign

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

// docRequest is the CreateKey request of Alibaba Cloud KMS's signature guide
// (RPC, SignatureVersion 1.0), with AccessKeyId testid and secret testsecret.
var docRequest = url.Values{
	"Action": {"CreateKey"}, "SignatureVersion": {"1.0"}, "Format": {"json"}, "Version": {"2016-01-20"},
	"AccessKeyId": {"testid"}, "SignatureMethod": {"HMAC-SHA1"}, "Timestamp": {"2016-03-28T03:13:08Z"},
}

// TestSignatureGuideExample checks the guide's worked example step by step.
//
// The guide prints the StringToSign with the "&" between parameters left
// unencoded, although its own rule (percentEncode of the canonicalized query)
// and every SDK encode them as %26; its s/OdVWMTmNGagvWlljdAJ7Itsew= is the
// HMAC of that misprinted string, while the signed URL at the end of the same
// example carries 41wk2SSX1GJh7fwnc5eqOfiJPFg=, the HMAC of the correctly
// encoded one. Both figures are checked here: the first pins the key derivation
// (secret + "&") and the HMAC-SHA1/base64 step, the second the canonicalization.
func TestSignatureGuideExample(t *testing.T) {
	const (
		guideCanonical    = "AccessKeyId=testid&Action=CreateKey&Format=json&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&Timestamp=2016-03-28T03%3A13%3A08Z&Version=2016-01-20"
		guidePrinted      = "GET&%2F&AccessKeyId%3Dtestid&Action%3DCreateKey&Format%3Djson&SignatureMethod%3DHMAC-SHA1&SignatureVersion%3D1.0&Timestamp%3D2016-03-28T03%253A13%253A08Z&Version%3D2016-01-20"
		guideSignature    = "s/OdVWMTmNGagvWlljdAJ7Itsew="
		guideSignedURLSig = "41wk2SSX1GJh7fwnc5eqOfiJPFg="
	)
	if got := canonicalizeV1(docRequest); got != guideCanonical {
		t.Errorf("canonicalized query =\n%s\nwant\n%s", got, guideCanonical)
	}
	if got := b64(macV1(sha1.New, core.NewSecret("testsecret"), []byte(guidePrinted))); got != guideSignature {
		t.Errorf("HMAC of the guide's printed StringToSign = %s, want %s", got, guideSignature)
	}
	sts := string(stringToSignV1("GET", docRequest))
	if want := strings.ReplaceAll(guidePrinted, "&", "%26")[len("GET%26%2F%26"):]; sts != "GET&%2F&"+want {
		t.Errorf("StringToSign = %s", sts)
	}
	if got := b64(macV1(sha1.New, core.NewSecret("testsecret"), []byte(sts))); got != guideSignedURLSig {
		t.Errorf("signature = %s, want %s (the guide's signed URL)", got, guideSignedURLSig)
	}
}

// TestVerifyV1AcceptsTheSignatureGuideRequest sends the guide's request, with
// the SignatureNonce this service requires, through Verify.
func TestVerifyV1AcceptsTheSignatureGuideRequest(t *testing.T) {
	dir := testDirWith(t, "testid", "testsecret")
	now := time.Date(2016, 3, 28, 3, 13, 8, 0, time.UTC)

	guide := cloneValues(docRequest)
	guide.Set("Signature", "41wk2SSX1GJh7fwnc5eqOfiJPFg=")
	r := httptest.NewRequest(http.MethodGet, "http://kms.cn-hangzhou.aliyuncs.com/?"+guide.Encode(), nil)
	if _, err := Verify(r, guide, nil, dir, now, 0); codeOf(err) != "IncompleteSignature" || !strings.Contains(err.Error(), "SignatureNonce") {
		t.Fatalf("the guide's request has no SignatureNonce: got %v, want IncompleteSignature naming it", err)
	}

	withNonce := cloneValues(docRequest)
	withNonce.Set("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf")
	withNonce.Set("Signature", b64(macV1(sha1.New, core.NewSecret("testsecret"), stringToSignV1("GET", withNonce))))
	r = httptest.NewRequest(http.MethodGet, "http://kms.cn-hangzhou.aliyuncs.com/?"+withNonce.Encode(), nil)
	res, err := Verify(r, withNonce, nil, dir, now, 0)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.Action != "CreateKey" || res.Version != "2016-01-20" || res.Nonce != "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf" {
		t.Errorf("result = %+v", res)
	}
}

func TestVerifyV1AcceptsTheSDKSignature(t *testing.T) {
	for name, q := range map[string]sdkRequest{
		"typical":   {},
		"odd chars": {action: "Encrypt", query: map[string]string{"KeyId": "alias/x*y", "Plaintext": "a+b/c==", "EncryptionContext": `{"ü":"a b&c"}`}},
	} {
		t.Run(name, func(t *testing.T) {
			s := q.v1(t)
			res, err := s.verify(t, t0)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			q = q.defaults()
			if res.Principal.Name != "tester" || res.Nonce != q.nonce || res.Action != q.action {
				t.Errorf("result = %+v", res)
			}
		})
	}
}

func TestVerifyV1AcceptsHMACSHA256(t *testing.T) {
	p := cloneValues(sdkRequest{}.v1(t).params)
	p.Set("SignatureMethod", "HMAC-SHA256")
	p.Set("Signature", b64(macV1(sha256.New, core.NewSecret(testSecret), stringToSignV1("POST", p))))
	r := httptest.NewRequest(http.MethodPost, "http://"+testHost+"/", strings.NewReader(p.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := Verify(r, p, []byte(p.Encode()), testDir(t), t0, 0); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestVerifyV1Refusals(t *testing.T) {
	set := func(k, v string) func(url.Values) { return func(p url.Values) { p.Set(k, v) } }
	del := func(k string) func(url.Values) { return func(p url.Values) { p.Del(k) } }
	cases := []struct {
		name   string
		req    sdkRequest
		mutate func(url.Values)
		now    time.Time
		code   string
	}{
		{name: "wrong secret", req: sdkRequest{secret: "wrong"}, code: "SignatureDoesNotMatch"},
		{name: "unknown AccessKeyId", req: sdkRequest{id: "LTAI5tNobodyKnowsThis"}, code: "InvalidAccessKeyId.NotFound"},
		{name: "parameter changed", mutate: set("NumberOfBytes", "16"), code: "SignatureDoesNotMatch"},
		{name: "parameter added", mutate: set("DryRun", "true"), code: "SignatureDoesNotMatch"},
		{name: "action changed", mutate: set("Action", "GenerateDataKey"), code: "SignatureDoesNotMatch"},
		{name: "SHA1 signature under HMAC-SHA256", mutate: set("SignatureMethod", "HMAC-SHA256"), code: "SignatureDoesNotMatch"},
		{name: "stale timestamp", now: t0.Add(16 * time.Minute), code: "IllegalTimestamp"},
		{name: "future timestamp", now: t0.Add(-16 * time.Minute), code: "IllegalTimestamp"},
		{name: "malformed timestamp", mutate: set("Timestamp", "1456000000"), code: "IllegalTimestamp"},
		{name: "no Signature", mutate: del("Signature"), code: "IncompleteSignature"},
		{name: "no AccessKeyId", mutate: del("AccessKeyId"), code: "IncompleteSignature"},
		{name: "no SignatureNonce", mutate: del("SignatureNonce"), code: "IncompleteSignature"},
		{name: "no Timestamp", mutate: del("Timestamp"), code: "IncompleteSignature"},
		{name: "no SignatureMethod", mutate: del("SignatureMethod"), code: "IncompleteSignature"},
		{name: "SignatureVersion 2.0", mutate: set("SignatureVersion", "2.0"), code: "IncompleteSignature"},
		{name: "SignatureMethod MD5", mutate: set("SignatureMethod", "HMAC-MD5"), code: "IncompleteSignature"},
		{name: "Signature not base64", mutate: set("Signature", "not base64!"), code: "IncompleteSignature"},
		{name: "Signature given twice", mutate: func(p url.Values) { p.Add("Signature", p.Get("Signature")) }, code: "IncompleteSignature"},
		{name: "oversized nonce", req: sdkRequest{nonce: strings.Repeat("n", MaxNonceLen+1)}, code: "IncompleteSignature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.req.v1(t)
			if c.mutate != nil {
				c.mutate(s.params)
			}
			now := c.now
			if now.IsZero() {
				now = t0
			}
			res, err := s.verify(t, now)
			if got := codeOf(err); got != c.code {
				t.Fatalf("code = %q (%v), want %s", got, err, c.code)
			}
			if res.Principal != nil {
				t.Errorf("a refused request returned principal %q", res.Principal.Name)
			}
			if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "%2F&") {
				t.Errorf("message carries the secret or the string to sign: %s", err)
			}
		})
	}
}

func TestCanonicalizeV1SortsAndEncodes(t *testing.T) {
	got := canonicalizeV1(url.Values{
		"b": {"2", "1"}, "a": {"x y*~/+"}, "Signature": {"dropped"}, "é": {""},
	})
	if want := "a=x%20y%2A~%2F%2B&b=1&b=2&%C3%A9="; got != want {
		t.Errorf("canonicalizeV1 = %q, want %q", got, want)
	}
}

func testDirWith(t *testing.T, id, secret string) *core.Directory {
	t.Helper()
	d, err := core.NewDirectory([]core.Principal{{Name: "guide", AccessKeyID: id, Secret: core.NewSecret(secret), Policy: core.FullAccess()}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
