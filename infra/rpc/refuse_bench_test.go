package rpc_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/infra/platform"
	"github.com/kmsless/kmsless/infra/rpc"
	"github.com/kmsless/kmsless/infra/sign"
	"github.com/kmsless/kmsless/internal/signtest"
)

// badRequest describes an unauthenticated ACS3 request: the headers every
// signature must cover, then lines of x-acs-* headers until the request line
// and headers would pass size bytes (or n lines, if n > 0), and an
// Authorization header whose SignedHeaders names the covered headers and the
// first signed-6 of the others (all of them if signed < 0). With distinct > 0
// the lines repeat that many header names, each with many values.
type badRequest struct {
	size, n, signed, distinct int
}

func (q badRequest) wire(date time.Time) []byte {
	head := "POST /?KeyId=alias%2Fx HTTP/1.1\r\nHost: kms.example.test\r\n" +
		"X-Acs-Action: GenerateDataKey\r\nX-Acs-Version: 2016-01-20\r\nX-Acs-Date: " + date.UTC().Format(time.RFC3339) + "\r\n" +
		"X-Acs-Signature-Nonce: 3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\r\nX-Acs-Content-Sha256: " + signtest.EmptySHA256 + "\r\n"
	var names []string
	auth := func() string {
		list := strings.Split(mustSign, ";")
		if q.signed < 0 {
			list = append(list, names...)
		} else {
			list = append(list, names[:min(len(names), q.signed-len(list))]...)
		}
		slices.Sort(list)
		return "Authorization: ACS3-HMAC-SHA256 Credential=" + adminID + ",SignedHeaders=" + strings.Join(list, ";") + ",Signature=" + strings.Repeat("0", 64) + "\r\n"
	}
	var lines bytes.Buffer
	for i := 0; q.n <= 0 || i < q.n; i++ {
		k := i
		if q.distinct > 0 {
			k = i % q.distinct
		}
		name := fmt.Sprintf("x-acs-h%06d", k)
		line := fmt.Sprintf("%s: %d\r\n", name, i)
		if k == i {
			names = append(names, name)
		}
		if q.n <= 0 && len(head)+len(auth())+lines.Len()+len(line)+2 > q.size {
			if k == i {
				names = names[:len(names)-1]
			}
			break
		}
		lines.WriteString(line)
	}
	return []byte(head + auth() + lines.String() + "\r\n")
}

// v1Form is the wire form of a SignatureVersion 1.0 request from a known
// AccessKeyId with a wrong signature and a form body of (1 << 20)
// bytes in as many parameters as Go's URL parser takes (10000): the largest
// body the handler reads, which the signature check has to canonicalize,
// sorted, before it can compare.
func v1Form(now time.Time) []byte {
	q := url.Values{"Action": {"ListKeys"}, "Version": {rpc.APIVersion}, "AccessKeyId": {adminID}, "SignatureMethod": {"HMAC-SHA1"},
		"SignatureVersion": {"1.0"}, "SignatureNonce": {"3ee8c1b8"}, "Timestamp": {now.UTC().Format(time.RFC3339)}, "Signature": {"AAAA"}}
	var body bytes.Buffer
	const params = 10_000 - 8
	pad := strings.Repeat("k", (1<<20)/params-12)
	for i := range params {
		fmt.Fprintf(&body, "P%05d%s=v&", i, pad)
	}
	body.Truncate(body.Len() - 1)
	return []byte("POST /?" + q.Encode() + " HTTP/1.1\r\nHost: kms.example.test\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
		"Content-Length: " + strconv.Itoa(body.Len()) + "\r\n\r\n" + body.String())
}

// BenchmarkRefuseWorstRequest is the CPU cost of reading and refusing the most
// expensive unauthenticated requests: Go's parsing of the request line and
// headers, then the RPC handler up to its refusal. The floor, measured in the
// same run, is what any server of this API must do with such a request: parse
// it and the parameters of its query and body; x-read is the whole over it.
//
//   - bound: platform.MaxHeaderBytes of x-acs-* headers and a SignedHeaders list
//     of sign.MaxSignedHeaders names, the largest the local server reads and the
//     signature check accepts.
//   - all-signed-bound: the same header block with every header named in
//     SignedHeaders.
//   - all-signed-27k: the attack as first found, 27000 headers all named,
//     about 1 MiB, which only Go's default header bound let through.
//   - repeated-values-bound: the bound filled with values of the few headers
//     a list can name, from a known AccessKeyId: it passes every check before
//     the signature's own and makes the canonical request sort the values.
//   - v1-max-body: see v1Form.
func BenchmarkRefuseWorstRequest(b *testing.B) {
	e := newEnv(b, func(s *setup) { s.opts.Logger = slog.New(slog.DiscardHandler) })
	h := e.srv.Config.Handler
	shapes := []struct {
		name string
		wire func(time.Time) []byte
		code string
	}{
		{"bound", badRequest{size: platform.MaxHeaderBytes, signed: sign.MaxSignedHeaders}.wire, "IncompleteSignature"},
		{"all-signed-bound", badRequest{size: platform.MaxHeaderBytes, signed: -1}.wire, "IncompleteSignature"},
		{"all-signed-27k", badRequest{n: 27_000, signed: -1}.wire, "IncompleteSignature"},
		{"repeated-values-bound", badRequest{size: platform.MaxHeaderBytes, signed: -1, distinct: sign.MaxSignedHeaders - 6}.wire, "SignatureDoesNotMatch"},
		{"v1-max-body", v1Form, "SignatureDoesNotMatch"},
	}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			raw := s.wire(time.Now())
			read := func() *http.Request {
				r, err := http.ReadRequest(bufio.NewReaderSize(bytes.NewReader(raw), 4096))
				if err != nil {
					b.Fatal(err)
				}
				return r
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, read())
			var body struct{ Code, Message string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Code != s.code {
				b.Fatalf("answered %d %s, want %s", rec.Code, rec.Body.Bytes(), s.code)
			}
			b.Logf("%d bytes refused: %s", len(raw), body.Message)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), read())
			}
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			start := time.Now()
			for range b.N {
				r := read()
				body, _ := io.ReadAll(r.Body)
				_, _ = url.ParseQuery(r.URL.RawQuery)
				_, _ = url.ParseQuery(string(body))
			}
			floor := float64(time.Since(start).Nanoseconds()) / float64(b.N)
			b.ReportMetric(float64(len(raw)), "request-bytes")
			b.ReportMetric(floor, "floor-ns/op")
			b.ReportMetric(perOp/floor, "x-read")
		})
	}
}
