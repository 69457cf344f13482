package sign

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzParseAuthorization checks that the Authorization parser never panics and
// that whatever it accepts it can write back and read again unchanged, so no
// header has two readings.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("ACS3-HMAC-SHA256 Credential=LTAI5t,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=0f1e2d3c")
	f.Add("ACS3-HMAC-SHA256 Credential=a, SignedHeaders=host, Signature=ab")
	f.Add("ACS4-HMAC-SHA256 Credential=a/20260301/cn-hangzhou/kms/aliyun_v4_request,SignedHeaders=host,Signature=ab")
	f.Add("ACS3-HMAC-SHA256 Credential=a,Credential=b,SignedHeaders=host,Signature=ab")
	f.Add("acs LTAI5t:c2lnbmF0dXJl")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if codeOf(err) != "IncompleteSignature" {
				t.Fatalf("error %v is not IncompleteSignature", err)
			}
			return
		}
		if a.Algorithm == "" || a.Credential == "" || a.SignedHeaders == "" || a.Signature == "" {
			t.Fatalf("accepted %q with an empty part: %+v", h, a)
		}
		again, err := parseAuthorization(a.String())
		if err != nil || again != a {
			t.Fatalf("%q parsed as %+v, its rewrite as %+v (%v)", h, a, again, err)
		}
		if len(h) > MaxAuthorizationLen {
			t.Fatalf("accepted an Authorization header of %d bytes", len(h))
		}
		if names, err := splitSignedHeaders(a.SignedHeaders); err == nil {
			checkSignedNames(t, a.SignedHeaders, names)
		}
	})
}

// checkSignedNames asserts what an accepted SignedHeaders list must be: at most
// MaxSignedHeaders names, none empty or with an upper-case letter, strictly
// ascending (so distinct), and nothing lost in the split.
func checkSignedNames(t *testing.T, list string, names []string) {
	t.Helper()
	if len(names) == 0 || len(names) > MaxSignedHeaders {
		t.Fatalf("SignedHeaders %q accepted as %d names", list, len(names))
	}
	for i, n := range names {
		if n == "" || n != lowerASCII(n) {
			t.Fatalf("SignedHeaders %q accepted the name %q", list, n)
		}
		if i > 0 && names[i-1] >= n {
			t.Fatalf("SignedHeaders %q accepted %q before %q", list, names[i-1], n)
		}
	}
	if strings.Join(names, ";") != list {
		t.Fatalf("SignedHeaders %q split as %q", list, names)
	}
}

// FuzzCheckSigned checks the SignedHeaders split and the signed-header check
// together against a plain reading of the rule: every header of mustSign, every
// x-acs-* header and, with a body, Content-Type must be named in the list,
// whatever the case of the header's key. keys holds the request's header keys,
// one a line, as a client or a trigger event may spell them.
func FuzzCheckSigned(f *testing.F) {
	sdk := "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
	f.Add(sdk, "X-Acs-Action\nX-Acs-Date\nX-Acs-Version\nAccept", false)
	f.Add("content-type;"+sdk, "Content-Type\nX-ACS-DATE", true)
	f.Add(sdk, "X-Acs-Extra", false)
	f.Add(sdk+";x-acs-z", "x-acs-Z\nCONTENT-TYPE", false)
	f.Add("host;x-acs-action;;x-acs-date", "", false)
	f.Fuzz(func(t *testing.T, list, keys string, hasBody bool) {
		names, err := splitSignedHeaders(list)
		if err != nil {
			if codeOf(err) != "IncompleteSignature" {
				t.Fatalf("error %v is not IncompleteSignature", err)
			}
			if strings.Count(list, ";") < MaxSignedHeaders && !malformedList(list) {
				t.Fatalf("SignedHeaders %q refused: %v", list, err)
			}
			return
		}
		checkSignedNames(t, list, names)
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		for k := range strings.SplitSeq(keys, "\n") {
			r.Header[k] = append(r.Header[k], "v")
		}
		set := map[string]bool{}
		for _, n := range names {
			set[n] = true
		}
		want := true
		for _, n := range mustSign {
			want = want && set[n]
		}
		for k := range r.Header {
			lk := lowerASCII(k)
			if (len(lk) > 6 && strings.HasPrefix(lk, "x-acs-") || hasBody && lk == "content-type") && !set[lk] {
				want = false
			}
		}
		err = checkSigned(r, names, hasBody)
		if err != nil && codeOf(err) != "IncompleteSignature" {
			t.Fatalf("error %v is not IncompleteSignature", err)
		}
		if got := err == nil; got != want {
			t.Fatalf("SignedHeaders %q, header keys %q, body %v: accepted %v, want %v (%v)", list, keys, hasBody, got, want, err)
		}
	})
}

// malformedList reports whether a SignedHeaders list breaks the grammar apart
// from its length: an empty or upper-case name, or names out of order.
func malformedList(list string) bool {
	names := strings.Split(list, ";")
	for i, n := range names {
		if n == "" || n != lowerASCII(n) || i > 0 && names[i-1] >= n {
			return true
		}
	}
	return false
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// FuzzCanonicalizeV1 checks that the v1 canonicalizer never panics, emits only
// unreserved characters, escapes and separators, and loses nothing: decoding
// its output gives back every parameter but Signature.
func FuzzCanonicalizeV1(f *testing.F) {
	f.Add("AccessKeyId=testid&Action=CreateKey&Format=json&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&Timestamp=2016-03-28T03%3A13%3A08Z&Version=2016-01-20")
	f.Add("KeyId=alias%2Fx%2Ay&Plaintext=a%2Bb%2Fc%3D%3D&EncryptionContext=%7B%22%C3%BC%22%3A%22a+b%26c%22%7D&Signature=abc")
	f.Add("a=2&a=1&b=&=x&%00=%ff")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		params, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		c := canonicalizeV1(params)
		for i := 0; i < len(c); i++ {
			if ch := c[i]; !unreserved(ch) && ch != '%' && ch != '=' && ch != '&' {
				t.Fatalf("canonical form %q has %q", c, ch)
			}
		}
		if c != canonicalizeV1(params) {
			t.Fatal("canonicalizeV1 is not deterministic")
		}
		back, err := url.ParseQuery(c)
		if err != nil {
			t.Fatalf("canonical form %q does not parse: %v", c, err)
		}
		want := cloneValues(params)
		delete(want, "Signature")
		for k, vs := range want {
			slices.Sort(vs)
			if !slices.Equal(back[k], vs) {
				t.Fatalf("parameter %q: canonical form gives %q, want %q", k, back[k], vs)
			}
		}
		if len(back) != len(want) {
			t.Fatalf("canonical form has %d names, want %d", len(back), len(want))
		}
	})
}
