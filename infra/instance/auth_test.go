package instance_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"
	dkmsutil "github.com/aliyun/alibabacloud-dkms-gcs-go-sdk/openapi-util"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/testclock"
)

// signed is a request of api with body, signed as the SDK signs it (its own
// string to sign and signing function) by key at the time at; change, when
// set, alters the request after it is signed.
func (e *env) signed(api string, body []byte, key *rsa.PrivateKey, at time.Time, change func(h map[string]*string)) *http.Request {
	e.t.Helper()
	return e.signedAs(appKeyID, api, body, key, at, change)
}

// signedAs is signed, by the client key id.
func (e *env) signedAs(id, api string, body []byte, key *rsa.PrivateKey, at time.Time, change func(h map[string]*string)) *http.Request {
	e.t.Helper()
	sum := sha256.Sum256(body)
	h := map[string]*string{
		"accept": tea.String("application/x-protobuf"), "content-type": tea.String("application/x-protobuf"),
		"date": tea.String(at.UTC().Format(http.TimeFormat)), "x-kms-apiversion": tea.String("dkms-gcs-0.2"),
		"x-kms-apiname": tea.String(api), "x-kms-signaturemethod": tea.String("RSA_PKCS1_SHA_256"),
		"x-kms-acccesskeyid": tea.String(id), "content-sha256": tea.String(strings.ToUpper(hex.EncodeToString(sum[:]))),
	}
	sts, err := dkmsutil.GetStringToSign(tea.String("POST"), tea.String("/"), h, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if h["authorization"], err = dkmsutil.SignString(sts, tea.String(string(pemKey))); err != nil {
		e.t.Fatal(err)
	}
	if change != nil {
		change(h)
	}
	r, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range h {
		r.Header.Set(k, *v)
	}
	return r
}

// send sends r and returns the status and the Error message's code, or ""
// for a success.
func (e *env) send(r *http.Request) (int, string) {
	e.t.Helper()
	status, code, _ := e.reply(r)
	return status, code
}

// reply sends r and returns the status and the Error message's code and
// message, or "" and "" for a success.
func (e *env) reply(r *http.Request) (status int, code, message string) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, "", ""
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		e.t.Fatalf("an error of Content-Type %q", ct)
	}
	m, err := dkmsutil.GetErrMessage(b)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, m["Code"].(string), m["Message"].(string)
}

// randomBody is GenerateRandom's request for n bytes.
func randomBody(n uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), n)
}

// Each part of a request the signature covers is held to it: a request
// changed after signing, outside the clock's window, of another version or
// method, unsigned, or naming an API or a body this service does not read
// is refused with the code the Alibaba API gives that fault, before any
// action runs. The same signed request is accepted again.
func TestSignatureCoversTheRequest(t *testing.T) {
	clock := testclock.New(time.Now().Truncate(time.Second))
	e := newEnv(t, func(s *setup) { s.clock = clock })
	now := clock.Now()
	body := randomBody(16)
	for name, c := range map[string]struct {
		api    string
		body   []byte
		at     time.Time
		change func(h map[string]*string)
		code   string
	}{
		"as signed":                 {"GenerateRandom", body, now, nil, ""},
		"a header added":            {"GenerateRandom", body, now, func(h map[string]*string) { h["x-kms-extra"] = tea.String("1") }, core.CodeSignatureDoesNotMatch},
		"another API named":         {"GenerateRandom", body, now, func(h map[string]*string) { h["x-kms-apiname"] = tea.String("GetPublicKey") }, core.CodeSignatureDoesNotMatch},
		"another date":              {"GenerateRandom", body, now, func(h map[string]*string) { h["date"] = tea.String(now.Add(time.Second).UTC().Format(http.TimeFormat)) }, core.CodeSignatureDoesNotMatch},
		"another body's hash":       {"GenerateRandom", body, now, func(h map[string]*string) { h["content-sha256"] = tea.String(strings.Repeat("0", 64)) }, core.CodeSignatureDoesNotMatch},
		"signed 16 minutes ago":     {"GenerateRandom", body, now.Add(-16 * time.Minute), nil, core.CodeIllegalTimestamp},
		"signed 16 minutes on":      {"GenerateRandom", body, now.Add(16 * time.Minute), nil, core.CodeIllegalTimestamp},
		"not an HTTP date":          {"GenerateRandom", body, now, func(h map[string]*string) { h["date"] = tea.String(now.Format(time.RFC3339)) }, core.CodeIllegalTimestamp},
		"another version":           {"GenerateRandom", body, now, func(h map[string]*string) { h["x-kms-apiversion"] = tea.String("dkms-gcs-0.1") }, core.CodeInvalidParameter},
		"another signature method":  {"GenerateRandom", body, now, func(h map[string]*string) { h["x-kms-signaturemethod"] = tea.String("HMAC_SHA256") }, core.CodeInvalidParameter},
		"no signature":              {"GenerateRandom", body, now, func(h map[string]*string) { delete(h, "authorization") }, core.CodeIncompleteSignature},
		"a signature not in base64": {"GenerateRandom", body, now, func(h map[string]*string) { h["authorization"] = tea.String("Bearer %%") }, core.CodeIncompleteSignature},
		"an unknown client key":     {"GenerateRandom", body, now, func(h map[string]*string) { h["x-kms-acccesskeyid"] = tea.String("KAAP.none") }, core.CodeInvalidAccessKeyID},
		"an API not answered":       {"CreateKey", body, now, nil, core.CodeInvalidParameter},
		"a body of no message":      {"GenerateRandom", []byte{0xff, 0xff}, now, nil, core.CodeInvalidParameter},
		"a Length of another type":  {"GenerateRandom", protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte("16")), now, nil, core.CodeInvalidParameter},
	} {
		r := e.signed(c.api, c.body, e.private, c.at, c.change)
		if status, code := e.send(r); code != c.code || (code == "" && status != http.StatusOK) {
			t.Errorf("%s: %d %q, want %q", name, status, code, c.code)
		}
	}
	// Another body than the one signed: its hash is not the signed one.
	r := e.signed("GenerateRandom", body, e.private, now, nil)
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(randomBody(17))), int64(len(randomBody(17)))
	if status, code := e.send(r); code != core.CodeSignatureDoesNotMatch {
		t.Errorf("another body: %d %q", status, code)
	}
	r = e.signed("GenerateRandom", body, e.private, now, nil)
	again := e.signed("GenerateRandom", body, e.private, now, nil)
	for i, r := range []*http.Request{r, again} {
		if status, code := e.send(r); code != "" {
			t.Errorf("the same signed request, sent %d times: %d %s", i+1, status, code)
		}
	}
}

// A request of another method than POST, or to another path than /, is
// refused before its signature is read.
func TestOnlyAPostToTheRootIsServed(t *testing.T) {
	e := newEnv(t)
	get := e.signed("GenerateRandom", randomBody(8), e.private, time.Now(), nil)
	get.Method = http.MethodGet
	if status, code := e.send(get); status != http.StatusBadRequest || code != core.CodeInvalidParameter {
		t.Errorf("GET: %d %s", status, code)
	}
	elsewhere := e.signed("GenerateRandom", randomBody(8), e.private, time.Now(), nil)
	elsewhere.URL.Path = "/keys"
	if status, code := e.send(elsewhere); status != http.StatusBadRequest || code != core.CodeInvalidParameter {
		t.Errorf("another path: %d %s", status, code)
	}
}

// A signed header given twice is refused, before the signature is checked,
// in a message that names it clipped, however long its name.
func TestATwiceGivenHeaderIsNamedClipped(t *testing.T) {
	e := newEnv(t)
	r := e.signed("GenerateRandom", randomBody(16), e.private, time.Now(), nil)
	name := "x-kms-" + strings.Repeat("a", 100_000)
	r.Header.Add(name, "1")
	r.Header.Add(name, "2")
	if _, code, msg := e.reply(r); code != core.CodeIncompleteSignature || len(msg) > 200 {
		t.Fatalf("%s in a message of %d bytes: %.200s", code, len(msg), msg)
	}
}
