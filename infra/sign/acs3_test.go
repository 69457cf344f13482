package sign

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestVerifyACS3AcceptsTheSDKSignature(t *testing.T) {
	cases := map[string]sdkRequest{
		"typical GenerateDataKeyWithoutPlaintext": {},
		"reserved and non-ASCII characters": {action: "Encrypt", query: map[string]string{
			"KeyId":             "alias/a*b~c",
			"Plaintext":         "aGVsbG8gd29ybGQ+/w==",
			"EncryptionContext": `{"név":"ünïcode & spaces","x":"a+b=c;d"}`,
		}},
		"empty parameter value": {action: "ListKeys", query: map[string]string{"PageNumber": "1", "Filter": ""}},
		"no parameters":         {action: "ListKeys", query: map[string]string{}},
		"form body":             {action: "Decrypt", form: map[string]string{"CiphertextBlob": "AAEC+/8=", "EncryptionContext": `{"k":"v"}`}},
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			s := q.acs3(t)
			res, err := s.verify(t, t0)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			q = q.defaults()
			if res.Principal == nil || res.Principal.AccessKeyID != testID || res.Principal.Name != "tester" {
				t.Errorf("principal = %+v, want tester", res.Principal)
			}
			if res.Nonce != q.nonce || res.Action != q.action || res.Version != "2016-01-20" {
				t.Errorf("result = nonce %q action %q version %q, want %q %q 2016-01-20", res.Nonce, res.Action, res.Version, q.nonce, q.action)
			}
		})
	}
}

func TestVerifyACS3AcceptsTimestampsWithinSkew(t *testing.T) {
	s := sdkRequest{}.acs3(t)
	for _, d := range []time.Duration{-15 * time.Minute, -time.Minute, time.Minute, 15 * time.Minute} {
		if _, err := s.verify(t, t0.Add(d)); err != nil {
			t.Errorf("server clock %v from the request: %v", d, err)
		}
	}
}

func TestVerifyHoldsToTheSkewItIsGiven(t *testing.T) {
	s := sdkRequest{}.acs3(t)
	if _, err := Verify(s.r, s.params, s.body, testDir(t), t0.Add(14*time.Minute), 15*time.Minute); err != nil {
		t.Errorf("14 minutes off with a 15-minute skew: %v", err)
	}
	if _, err := Verify(s.r, s.params, s.body, testDir(t), t0.Add(16*time.Minute), 15*time.Minute); codeOf(err) != "IllegalTimestamp" {
		t.Errorf("16 minutes off with a 15-minute skew: %v, want IllegalTimestamp", err)
	}
}

func TestVerifyACS3Refusals(t *testing.T) {
	setHeader := func(k, v string) func(*signedRequest) {
		return func(s *signedRequest) { s.r.Header.Set(k, v) }
	}
	replaceAuth := func(old, new string) func(*signedRequest) {
		return func(s *signedRequest) {
			s.r.Header.Set("Authorization", strings.Replace(s.r.Header.Get("Authorization"), old, new, 1))
		}
	}
	cases := []struct {
		name   string
		req    sdkRequest
		mutate func(*signedRequest)
		now    time.Time
		code   string
	}{
		{name: "wrong secret", req: sdkRequest{secret: "not-the-secret"}, code: "SignatureDoesNotMatch"},
		{name: "another principal's secret", req: sdkRequest{secret: "another-secret"}, code: "SignatureDoesNotMatch"},
		{name: "unknown AccessKeyId", req: sdkRequest{id: "LTAI5tNobodyKnowsThis"}, code: "InvalidAccessKeyId.NotFound"},
		{name: "query value changed", mutate: func(s *signedRequest) {
			s.r.URL.RawQuery = strings.Replace(s.r.URL.RawQuery, "NumberOfBytes=32", "NumberOfBytes=16", 1)
		}, code: "SignatureDoesNotMatch"},
		{name: "query parameter added", mutate: func(s *signedRequest) { s.r.URL.RawQuery += "&DryRun=true" }, code: "SignatureDoesNotMatch"},
		{name: "action header changed", mutate: setHeader("x-acs-action", "GenerateDataKey"), code: "SignatureDoesNotMatch"},
		{name: "host changed", mutate: func(s *signedRequest) { s.r.Host = "evil.example" }, code: "SignatureDoesNotMatch"},
		{name: "method changed", mutate: func(s *signedRequest) { s.r.Method = "GET" }, code: "SignatureDoesNotMatch"},
		{name: "body does not match its hash", req: sdkRequest{form: map[string]string{"CiphertextBlob": "AAEC"}},
			mutate: func(s *signedRequest) { s.body = []byte("CiphertextBlob=AAED") }, code: "SignatureDoesNotMatch"},
		{name: "content hash and body changed together", req: sdkRequest{form: map[string]string{"CiphertextBlob": "AAEC"}},
			mutate: func(s *signedRequest) {
				s.body = []byte("")
				s.r.Header.Set("x-acs-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
			}, code: "SignatureDoesNotMatch"},
		{name: "signature flipped", mutate: func(s *signedRequest) {
			a := s.r.Header.Get("Authorization")
			last := a[len(a)-1]
			flip := byte('0')
			if last == '0' {
				flip = '1'
			}
			s.r.Header.Set("Authorization", a[:len(a)-1]+string(flip))
		}, code: "SignatureDoesNotMatch"},
		{name: "stale timestamp", now: t0.Add(16 * time.Minute), code: "IllegalTimestamp"},
		{name: "timestamp from the future", now: t0.Add(-16 * time.Minute), code: "IllegalTimestamp"},
		{name: "malformed timestamp", mutate: setHeader("x-acs-date", "Sun, 01 Mar 2026 12:00:00 GMT"), code: "IllegalTimestamp"},
		{name: "missing date", mutate: func(s *signedRequest) { s.r.Header.Del("x-acs-date") }, code: "IncompleteSignature"},
		{name: "missing nonce", mutate: func(s *signedRequest) { s.r.Header.Del("x-acs-signature-nonce") }, code: "IncompleteSignature"},
		{name: "oversized nonce", req: sdkRequest{nonce: strings.Repeat("n", MaxNonceLen+1)}, code: "IncompleteSignature"},
		{name: "repeated nonce header", mutate: func(s *signedRequest) { s.r.Header.Add("x-acs-signature-nonce", "second") }, code: "IncompleteSignature"},
		{name: "missing content hash", mutate: func(s *signedRequest) { s.r.Header.Del("x-acs-content-sha256") }, code: "IncompleteSignature"},
		{name: "action left unsigned", mutate: replaceAuth("x-acs-action;", ""), code: "IncompleteSignature"},
		{name: "host left unsigned", mutate: replaceAuth("host;", ""), code: "IncompleteSignature"},
		{name: "unsigned x-acs header added", mutate: setHeader("x-acs-extra", "1"), code: "IncompleteSignature"},
		{name: "unsigned x-acs header in capitals", mutate: func(s *signedRequest) { s.r.Header["X-ACS-EXTRA"] = []string{"1"} }, code: "IncompleteSignature"},
		{name: "more signed headers than the bound", mutate: replaceAuth("x-acs-version", manyNames(MaxSignedHeaders-5)), code: "IncompleteSignature"},
		{name: "Authorization over the length bound", mutate: replaceAuth("Credential=", "Credential="+strings.Repeat("A", MaxAuthorizationLen)), code: "IncompleteSignature"},
		{name: "signed headers out of order", mutate: replaceAuth("host;x-acs-action", "x-acs-action;host"), code: "IncompleteSignature"},
		{name: "unsupported algorithm", mutate: replaceAuth("ACS3-HMAC-SHA256", "ACS3-HMAC-SM3"), code: "IncompleteSignature"},
		{name: "signature not hex", mutate: replaceAuth("Signature=", "Signature=zz"), code: "IncompleteSignature"},
		{name: "no Signature field", mutate: func(s *signedRequest) {
			a := s.r.Header.Get("Authorization")
			s.r.Header.Set("Authorization", a[:strings.Index(a, ",Signature=")])
		}, code: "IncompleteSignature"},
		{name: "not signed at all", mutate: func(s *signedRequest) { s.r.Header.Del("Authorization") }, code: "IncompleteSignature"},
		{name: "malformed query", mutate: func(s *signedRequest) { s.r.URL.RawQuery += "&bad=%zz" }, code: "IncompleteSignature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.req.acs3(t)
			if c.mutate != nil {
				c.mutate(&s)
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
			if msg := err.Error(); strings.Contains(msg, testSecret) || strings.Contains(msg, "another-secret") {
				t.Errorf("message carries a secret: %s", msg)
			}
		})
	}
}

// manyNames is "x-acs-version" followed by n more sorted names, which with the
// five others an SDK signs make a SignedHeaders list of n+6.
func manyNames(n int) string {
	var b strings.Builder
	b.WriteString("x-acs-version")
	for i := range n {
		fmt.Fprintf(&b, ";x-acs-z%04d", i)
	}
	return b.String()
}

func TestCheckSignedMatchesHeaderKeysInAnyCase(t *testing.T) {
	signed := append(slices.Clone(mustSign), "content-type", "x-acs-extra")
	slices.Sort(signed)
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	for _, k := range []string{"X-ACS-EXTRA", "x-acs-date", "X-Acs-Action", "CONTENT-TYPE", "Accept"} {
		r.Header[k] = []string{"v"}
	}
	if err := checkSigned(r, signed, true); err != nil {
		t.Fatalf("headers all signed, in other cases: %v", err)
	}
	r.Header["X-aCs-Other"] = []string{"v"}
	if err := checkSigned(r, signed, true); codeOf(err) != "IncompleteSignature" || !strings.Contains(err.Error(), "x-acs-other") {
		t.Fatalf("unsigned X-aCs-Other: %v, want IncompleteSignature naming it", err)
	}
}

func TestVerifyACS3MismatchMessageRevealsNoSignature(t *testing.T) {
	good := sdkRequest{}.acs3(t)
	want := good.r.Header.Get("Authorization")
	want = want[strings.Index(want, "Signature=")+len("Signature="):]
	bad := sdkRequest{secret: "wrong"}.acs3(t)
	_, err := bad.verify(t, t0)
	if codeOf(err) != "SignatureDoesNotMatch" {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "ACS3-HMAC-SHA256\n") {
		t.Errorf("message reveals the expected signature or string to sign: %s", err)
	}
}

func TestVerifyACS3NormalizesQueryEncoding(t *testing.T) {
	// A client may encode the wire query differently from the canonical form
	// (here "+" for space and a lower-case escape): the signature covers the
	// decoded parameters, so the request still verifies.
	s := sdkRequest{action: "Encrypt", query: map[string]string{"KeyId": "key one", "Plaintext": "a/b"}}.acs3(t)
	s.r.URL.RawQuery = "Plaintext=a%2fb&KeyId=key+one"
	if _, err := s.verify(t, t0); err != nil {
		t.Fatalf("re-encoded query: %v", err)
	}
}

func TestCanonicalQueryEncodesPerRFC3986(t *testing.T) {
	raw := url.Values{"b": {"x y*~"}, "a": {"1/2+3"}, "é": {""}}.Encode()
	b, err := appendCanonicalQuery(nil, raw)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "a=1%2F2%2B3&b=x%20y%2A~&%C3%A9="; got != want {
		t.Errorf("canonical query = %q, want %q", got, want)
	}
}

func TestParseAuthorization(t *testing.T) {
	good := "ACS3-HMAC-SHA256 Credential=LTAI5t,SignedHeaders=host;x-acs-date,Signature=abcd"
	a, err := parseAuthorization(good)
	if err != nil {
		t.Fatal(err)
	}
	if a.Algorithm != "ACS3-HMAC-SHA256" || a.Credential != "LTAI5t" || a.SignedHeaders != "host;x-acs-date" || a.Signature != "abcd" {
		t.Errorf("parsed %+v", a)
	}
	if a.String() != good {
		t.Errorf("String() = %q, want %q", a.String(), good)
	}
	if _, err := parseAuthorization("ACS3-HMAC-SHA256 Credential=LTAI5t, SignedHeaders=host, Signature=ab"); err != nil {
		t.Errorf("spaces after commas: %v", err)
	}
	for _, bad := range []string{
		"",
		"ACS3-HMAC-SHA256",
		" Credential=a,SignedHeaders=host,Signature=ab",
		"ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host",
		"ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=ab,Signature=cd",
		"ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=",
		"ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=ab,Extra=1",
		"ACS3-HMAC-SHA256 Credential=a,,SignedHeaders=host,Signature=ab",
		"ACS3-HMAC-SHA256 Credential:a,SignedHeaders=host,Signature=ab",
	} {
		if _, err := parseAuthorization(bad); codeOf(err) != "IncompleteSignature" {
			t.Errorf("parseAuthorization(%q) = %v, want IncompleteSignature", bad, err)
		}
	}
}

func TestSplitSignedHeadersBound(t *testing.T) {
	atBound := "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;" + manyNames(MaxSignedHeaders-6)
	if names, err := splitSignedHeaders(atBound); err != nil || len(names) != MaxSignedHeaders {
		t.Fatalf("%d names: %d accepted, %v", MaxSignedHeaders, len(names), err)
	}
	_, err := splitSignedHeaders(atBound + ";x-acs-zz")
	if codeOf(err) != "IncompleteSignature" || !strings.Contains(err.Error(), "at most 64") {
		t.Fatalf("%d names: %v, want IncompleteSignature naming the bound", MaxSignedHeaders+1, err)
	}
}

// The verified timestamp, and when it leaves the window, travel with the
// result: the nonce must be remembered until then, however early the request
// arrived.
func TestVerifyReportsTheSignedTimeAndWhenItExpires(t *testing.T) {
	for name, s := range map[string]signedRequest{"ACS3": sdkRequest{}.acs3(t), "1.0": sdkRequest{}.v1(t)} {
		res, err := Verify(s.r, s.params, s.body, testDir(t), t0.Add(-14*time.Minute), 15*time.Minute)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !res.Time.Equal(t0) || !res.Expires.Equal(t0.Add(15*time.Minute)) {
			t.Errorf("%s: Time %v, Expires %v; want %v and 15 minutes later", name, res.Time, res.Expires, t0)
		}
	}
}
