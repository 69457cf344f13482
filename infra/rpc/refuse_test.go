package rpc_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/sign"
)

// mustSign are the headers every ACS3 signature has to cover, in order.
const mustSign = "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"

// manyHeaders adds n x-acs-* headers to r and returns their names, sorted and
// lower-case, as a SignedHeaders list would give them.
func manyHeaders(r *http.Request, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("x-acs-h%06d", i)
		r.Header.Set(names[i], "1")
	}
	return names
}

// TestAttackManySignedHeadersIsRefused mounts the attack that once cost the
// server about ten CPU-seconds a request: no valid signature, hundreds of
// kilobytes of x-acs-* headers, and an Authorization header whose SignedHeaders
// lists every one of them. Each shape must be refused as an incomplete
// signature. The variants keep one bound each in play: the Authorization
// length, the count of signed names, and the header check itself with a list
// at the bound.
func TestAttackManySignedHeadersIsRefused(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name     string
		signed   int // how many of the 27000 headers SignedHeaders lists
		mentions string
	}{
		{"as found: every header signed", 27_000, "longer than"},
		{"one name over the bound in a short header", sign.MaxSignedHeaders - 5, "at most"},
		{"a list at the bound, the rest unsigned", sign.MaxSignedHeaders - 6, "x-acs-h"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mustRequest(t, http.MethodPost, e.srv.URL+"/?KeyId=alias/x", "")
			names := manyHeaders(r, 27_000)
			for _, h := range []string{"x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"} {
				r.Header.Set(h, "1")
			}
			list := append(strings.Split(mustSign, ";"), names[:c.signed]...)
			slices.Sort(list)
			r.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential="+adminID+",SignedHeaders="+strings.Join(list, ";")+",Signature="+strings.Repeat("0", 64))
			resp := e.do(r)
			code, msg := resp.errorBody(t)
			if resp.status != http.StatusBadRequest || code != core.CodeIncompleteSignature || !strings.Contains(msg, c.mentions) {
				t.Fatalf("got %d %s %q, want 400 IncompleteSignature mentioning %q", resp.status, code, msg, c.mentions)
			}
		})
	}
}

// TestRefusedPathAndMethodAreQuotedBounded: a request to another path, or
// with another method, is refused with a message that quotes a bounded
// prefix of what it sent, however long.
func TestRefusedPathAndMethodAreQuotedBounded(t *testing.T) {
	e := newEnv(t)
	for name, r := range map[string]*http.Request{
		"a long path":   mustRequest(t, http.MethodPost, e.srv.URL+"/"+strings.Repeat("p", 60_000), ""),
		"a long method": mustRequest(t, strings.Repeat("M", 60_000), e.srv.URL+"/", ""),
	} {
		resp := e.do(r)
		code, msg := resp.errorBody(t)
		if resp.status != http.StatusBadRequest || code != core.CodeInvalidParameter || len(msg) > 512 {
			t.Errorf("%s: got %d %s and a message of %d bytes, want 400 InvalidParameter and a short message", name, resp.status, code, len(msg))
		}
	}
}
