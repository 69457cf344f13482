package rpc

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kmsless/kmsless/core"
)

// FuzzParseParamsAgreesWithParseQuery: the parameters of a request are
// exactly those url.ParseQuery reads from its query string and, when the body
// is a form, from its body, each given once and at most core.MaxParamLen
// bytes long; any other request is refused with InvalidParameter, in a short
// message of valid UTF-8 that quotes no value. The action's input is every
// parameter but the protocol's own.
func FuzzParseParamsAgreesWithParseQuery(f *testing.F) {
	f.Add("Action=Encrypt&KeyId=alias%2Fx&Signature=abc", "", "")
	f.Add("", "Action=Encrypt&Plaintext=aGk%3D&EncryptionContext=%7B%22a%22%3A%22b%22%7D", "application/x-www-form-urlencoded; charset=utf-8")
	f.Add("KeyId=a", "KeyId=b", "application/x-www-form-urlencoded")
	f.Add("a=%zz", "", "")
	f.Add("a=1;b=2", "", "")
	f.Add("SignatureX=1&Version=2016-01-20", "x=1", "text/plain")
	f.Add("%C3=1", "", "")
	f.Fuzz(func(t *testing.T, query, body, contentType string) {
		r := httptest.NewRequest("POST", "/", nil)
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", contentType)
		all, err := parseParams(r, []byte(body))
		want, why := expectedParams(query, body, contentType)
		if err != nil {
			var ke *core.Error
			if !errors.As(err, &ke) || ke.Code != core.CodeInvalidParameter {
				t.Fatalf("refused with %v (%T), not InvalidParameter", err, err)
			}
			if !utf8.ValidString(ke.Message) || len(ke.Message) > 256 {
				t.Fatalf("refused with a message of %d bytes, valid UTF-8 %v: %q", len(ke.Message), utf8.ValidString(ke.Message), ke.Message)
			}
			if why == "" {
				t.Fatalf("query %q, body %q (%q) refused: %v; ParseQuery reads %v", query, body, contentType, err, want)
			}
			for _, vs := range want {
				if v := vs[0]; len(v) >= 8 && strings.Contains(ke.Message, v) {
					t.Fatalf("refusal %q quotes the value %q", ke.Message, v)
				}
			}
			return
		}
		if why != "" {
			t.Fatalf("query %q, body %q (%q) accepted, want refused: %s", query, body, contentType, why)
		}
		if len(all) != len(want) {
			t.Fatalf("query %q, body %q: %d parameters %v, ParseQuery reads %d %v", query, body, len(all), all, len(want), want)
		}
		for k, vs := range want {
			if got := all[k]; len(got) != 1 || got[0] != vs[0] {
				t.Fatalf("parameter %q is %q, ParseQuery reads %q", k, got, vs)
			}
		}
		p := actionParams(all)
		for k, vs := range all {
			_, in := p[k]
			if own := protocolParams[k]; in == own || in && p[k] != vs[0] {
				t.Fatalf("parameter %q (%q) is in the action's input %v: %v", k, vs[0], in, p[k])
			}
		}
		if len(p) > len(all) {
			t.Fatalf("%d parameters give an input of %d", len(all), len(p))
		}
	})
}

// expectedParams is what url.ParseQuery reads from a request, and why it must
// be refused, if it must.
func expectedParams(query, body, contentType string) (url.Values, string) {
	all, err := url.ParseQuery(query)
	if err != nil {
		return all, "the query does not parse"
	}
	if body != "" {
		ct := strings.ToLower(contentType)
		if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			return all, "the body is not a form"
		}
		if rest := ct[len("application/x-www-form-urlencoded"):]; rest != "" && rest[0] != ';' && rest[0] != ' ' {
			return all, "the body is not a form"
		}
		form, err := url.ParseQuery(body)
		if err != nil {
			return all, "the body does not parse"
		}
		for k, vs := range form {
			all[k] = append(all[k], vs...)
		}
	}
	for _, vs := range all {
		if len(vs) > 1 {
			return all, "a parameter is given twice"
		}
		if len(vs[0]) > core.MaxParamLen {
			return all, "a parameter is too long"
		}
	}
	return all, ""
}
