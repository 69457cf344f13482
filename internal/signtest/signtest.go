// Package signtest signs requests the way Alibaba Cloud's SDKs do, for tests and
// benchmarks that send raw requests: SignatureVersion 1.0 parameters and
// ACS3-HMAC-SHA256 headers. It is written from Alibaba's signing guide, apart
// from the verifier in infra/sign, so each checks the other.
package signtest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// APIVersion is the API version the signed requests name.
const APIVersion = "2016-01-20"

// V1 returns params with the SignatureVersion 1.0 parameters added (a fresh
// nonce, Timestamp at) and their HMAC-SHA1 Signature, for a request of method.
// params is left as it was.
func V1(method string, params url.Values, id, secret string, at time.Time) url.Values {
	p := url.Values{}
	for k, v := range params {
		p[k] = v
	}
	p.Set("AccessKeyId", id)
	p.Set("SignatureMethod", "HMAC-SHA1")
	p.Set("SignatureVersion", "1.0")
	p.Set("SignatureNonce", Nonce())
	p.Set("Timestamp", at.UTC().Format("2006-01-02T15:04:05Z"))
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = Percent(k) + "=" + Percent(p.Get(k))
	}
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(method + "&" + Percent("/") + "&" + Percent(strings.Join(pairs, "&"))))
	p.Set("Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return p
}

// ACS3 signs r (whose URL holds every parameter, with an empty body) as the Go
// SDK does with ACS3-HMAC-SHA256, dated at: x-acs-* headers for action, a
// canonical request over method, path, sorted query, signed headers and the
// payload hash, and an Authorization header.
func ACS3(r *http.Request, action, id, secret string, at time.Time) {
	r.Header.Set("x-acs-action", action)
	r.Header.Set("x-acs-version", APIVersion)
	r.Header.Set("x-acs-date", at.UTC().Format("2006-01-02T15:04:05Z"))
	r.Header.Set("x-acs-signature-nonce", Nonce())
	r.Header.Set("x-acs-content-sha256", EmptySHA256)
	r.Header.Set("Authorization", AuthorizationACS3(r.Method, r.URL.Query(), r.Host, r.Header, id, secret))
}

// EmptySHA256 is the hex SHA-256 of an empty body.
const EmptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// AuthorizationACS3 is the Authorization header of a request whose x-acs-*
// headers are set, signing host, every x-acs-* header and Content-Type.
func AuthorizationACS3(method string, query url.Values, host string, header http.Header, id, secret string) string {
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var q strings.Builder
	for i, k := range keys {
		if i > 0 {
			q.WriteByte('&')
		}
		q.WriteString(Percent(k) + "=" + Percent(query.Get(k)))
	}
	signed := []string{"host"}
	canonical := map[string]string{"host": host}
	for k := range header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-acs-") || lk == "content-type" {
			signed = append(signed, lk)
			canonical[lk] = strings.TrimSpace(header.Get(k))
		}
	}
	sort.Strings(signed)
	var hs strings.Builder
	for _, k := range signed {
		hs.WriteString(k + ":" + canonical[k] + "\n")
	}
	req := method + "\n/\n" + q.String() + "\n" + hs.String() + "\n" + strings.Join(signed, ";") + "\n" + header.Get("x-acs-content-sha256")
	sum := sha256.Sum256([]byte(req))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("ACS3-HMAC-SHA256\n" + hex.EncodeToString(sum[:])))
	return "ACS3-HMAC-SHA256 Credential=" + id + ",SignedHeaders=" + strings.Join(signed, ";") + ",Signature=" + hex.EncodeToString(mac.Sum(nil))
}

// Percent is the RFC 3986 encoding strings to sign use.
func Percent(s string) string { return rfc3986.Replace(url.QueryEscape(s)) }

var rfc3986 = strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~")

// Nonce is a fresh signature nonce.
func Nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
