package sign

import (
	"net/url"
	"slices"
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
		if names, err := splitSignedHeaders(a.SignedHeaders); err == nil && !slices.IsSorted(names) {
			t.Fatalf("SignedHeaders %q accepted out of order", a.SignedHeaders)
		}
	})
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
