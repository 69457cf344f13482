package rpc_test

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
)

// TestErrorsHonourFormatXML: a request whose query string asks for XML gets
// every error in XML, including those found before its parameters are read.
func TestErrorsHonourFormatXML(t *testing.T) {
	e := newEnv(t)
	signed := signV1(http.MethodGet, action("ListKeys", "Format", "XML"), adminID, adminSecret).Encode()
	form := func(r *http.Request) *http.Request {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	cases := []struct {
		name  string
		req   *http.Request
		xml   bool
		code  string
		about string
	}{
		{"unsupported method", mustRequest(t, http.MethodPut, e.srv.URL+"/?"+signed, ""), true, core.CodeInvalidParameter, "PUT"},
		{"other path", mustRequest(t, http.MethodGet, e.srv.URL+"/keys?"+signed, ""), true, core.CodeInvalidParameter, "/keys"},
		{"oversized body", form(mustRequest(t, http.MethodPost, e.srv.URL+"/?Format=XML", "Description="+strings.Repeat("a", (1<<20)))),
			true, core.CodeInvalidParameter, "larger than"},
		{"malformed query", mustRequest(t, http.MethodGet, e.srv.URL+"/?"+signed+"&bad=%zz", ""), true, core.CodeInvalidParameter, "query string"},
		{"parameter given twice", mustRequest(t, http.MethodGet, e.srv.URL+"/?"+signed+"&PageSize=5&PageSize=6", ""), true, core.CodeInvalidParameter, "PageSize"},
		{"body that is not a form", mustRequest(t, http.MethodPost, e.srv.URL+"/?Format=XML", `{"PageSize":5}`), true, core.CodeInvalidParameter, "x-www-form-urlencoded"},
		{"not signed", mustRequest(t, http.MethodGet, e.srv.URL+"/?"+action("ListKeys", "Format", "XML").Encode(), ""), true, core.CodeIncompleteSignature, "not signed"},
		{"lower-case value, encoded name", mustRequest(t, http.MethodPut, e.srv.URL+"/?F%6Frmat=xml", ""), true, core.CodeInvalidParameter, "PUT"},
		{"Format neither JSON nor XML", mustRequest(t, http.MethodPut, e.srv.URL+"/?Format=YAML", ""), false, core.CodeInvalidParameter, "PUT"},
		{"no Format", mustRequest(t, http.MethodPut, e.srv.URL+"/", ""), false, core.CodeInvalidParameter, "PUT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := e.do(c.req)
			if resp.status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", resp.status, resp.body)
			}
			if !c.xml {
				if code, _ := resp.errorBody(t); code != c.code {
					t.Fatalf("code %s, want %s", code, c.code)
				}
				return
			}
			var b struct {
				XMLName                          xml.Name
				RequestId, HostId, Code, Message string
			}
			if ct := resp.header.Get("Content-Type"); ct != "text/xml;charset=utf-8" {
				t.Fatalf("Content-Type %q: %s", ct, resp.body)
			}
			if err := xml.Unmarshal(resp.body, &b); err != nil {
				t.Fatalf("not XML: %v: %s", err, resp.body)
			}
			if b.XMLName.Local != "Error" || b.RequestId == "" || b.HostId == "" || b.Code != c.code || !strings.Contains(b.Message, c.about) {
				t.Fatalf("got %s, want an Error element with %s about %q", resp.body, c.code, c.about)
			}
		})
	}
}
