package sign

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	openapiutil "github.com/alibabacloud-go/openapi-util/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
)

// The tests sign requests with the Alibaba SDK's own signing functions
// (openapi-util), so that what Verify accepts is what the SDK produces, not
// what a second copy of this package's reading of the documentation produces.

const (
	testID     = "LTAI5tTestPrincipal01"
	testSecret = "kF9+r/2xQ=secret&with*odd~chars"
	testHost   = "kms.example.test:8080"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testDir(t testing.TB) *core.Directory {
	t.Helper()
	d, err := core.NewDirectory([]core.Principal{
		{Name: "tester", AccessKeyID: testID, Secret: core.NewSecret(testSecret), Policy: core.FullAccess()},
		{Name: "other", AccessKeyID: "LTAI5tOtherPrincipal2", Secret: core.NewSecret("another-secret"), Policy: core.FullAccess()},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// signedRequest is a request as the server receives it, with the parameters
// and body the RPC handler hands to Verify.
type signedRequest struct {
	r      *http.Request
	params url.Values
	body   []byte
}

func (s signedRequest) verify(t testing.TB, now time.Time) (Result, error) {
	t.Helper()
	return Verify(s.r, s.params, s.body, testDir(t), now, 15*time.Minute)
}

// sdkRequest describes one call; zero fields take the SDK's usual values.
type sdkRequest struct {
	id, secret string
	action     string
	query      map[string]string
	form       map[string]string
	nonce      string
	date       time.Time
}

// acs3 builds and signs the request the Go SDK sends for an RPC action with its
// default algorithm (darabonba-openapi Client.DoRequest).
func (q sdkRequest) acs3(t testing.TB) signedRequest {
	t.Helper()
	q = q.defaults()
	headers := map[string]*string{
		"host":                  tea.String(testHost),
		"x-acs-version":         tea.String("2016-01-20"),
		"x-acs-action":          tea.String(q.action),
		"user-agent":            tea.String("AlibabaCloud (linux; amd64) Go/go1.26 Core/1.0"),
		"x-acs-date":            tea.String(q.date.Format("2006-01-02T15:04:05Z")),
		"x-acs-signature-nonce": tea.String(q.nonce),
		"accept":                tea.String("application/json"),
	}
	body := ""
	if q.form != nil {
		m := map[string]any{}
		for k, v := range q.form {
			m[k] = v
		}
		body = tea.StringValue(openapiutil.ToForm(m))
		headers["content-type"] = tea.String("application/x-www-form-urlencoded")
	}
	sum := sha256.Sum256([]byte(body))
	payload := hex.EncodeToString(sum[:])
	headers["x-acs-content-sha256"] = tea.String(payload)
	treq := tea.NewRequest()
	treq.Method = tea.String("POST")
	treq.Pathname = tea.String("/")
	treq.Query = ptrMap(q.query)
	treq.Headers = headers
	auth := openapiutil.GetAuthorization(treq, tea.String("ACS3-HMAC-SHA256"), tea.String(payload), tea.String(q.id), tea.String(q.secret))
	headers["Authorization"] = auth

	vals := url.Values{}
	for k, v := range q.query {
		vals.Set(k, v)
	}
	r := httptest.NewRequest(http.MethodPost, "http://"+testHost+"/?"+vals.Encode(), strings.NewReader(body))
	for k, v := range headers {
		if k == "host" {
			r.Host = *v
			continue
		}
		r.Header.Set(k, *v)
	}
	params := url.Values{}
	for k, v := range vals {
		params[k] = append(params[k], v...)
	}
	if body != "" {
		fv, err := url.ParseQuery(body)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range fv {
			params[k] = append(params[k], v...)
		}
	}
	return signedRequest{r: r, params: params, body: []byte(body)}
}

// v1 builds and signs the request the Go SDK sends with SignatureAlgorithm "v2"
// (darabonba-openapi Client.DoRPCRequest): SignatureVersion 1.0, HMAC-SHA1, every
// parameter in the query string.
func (q sdkRequest) v1(t testing.TB) signedRequest {
	t.Helper()
	q = q.defaults()
	all := map[string]string{
		"Action": q.action, "Format": "json", "Version": "2016-01-20",
		"Timestamp":       q.date.Format("2006-01-02T15:04:05Z"),
		"SignatureNonce":  q.nonce,
		"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "AccessKeyId": q.id,
	}
	for k, v := range q.query {
		all[k] = v
	}
	sig := openapiutil.GetRPCSignature(ptrMap(all), tea.String("POST"), tea.String(q.secret))
	vals := url.Values{}
	for k, v := range all {
		vals.Set(k, v)
	}
	vals.Set("Signature", *sig)
	r := httptest.NewRequest(http.MethodPost, "http://"+testHost+"/?"+vals.Encode(), nil)
	r.Header.Set("x-acs-action", q.action)
	r.Header.Set("x-acs-version", "2016-01-20")
	return signedRequest{r: r, params: vals}
}

func (q sdkRequest) defaults() sdkRequest {
	if q.id == "" {
		q.id = testID
	}
	if q.secret == "" {
		q.secret = testSecret
	}
	if q.action == "" {
		q.action = "GenerateDataKeyWithoutPlaintext"
	}
	if q.query == nil && q.form == nil {
		q.query = map[string]string{
			"KeyId":             "alias/partitions",
			"NumberOfBytes":     "32",
			"EncryptionContext": `{"partition":"p-0042","tenant":"acme corp"}`,
		}
	}
	if q.nonce == "" {
		q.nonce = "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
	}
	if q.date.IsZero() {
		q.date = t0
	}
	return q
}

// codeOf returns the KMS error code of err ("" for nil).
func codeOf(err error) string {
	if err == nil {
		return ""
	}
	return core.AsError(err).Code
}

func ptrMap(m map[string]string) map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = tea.String(v)
	}
	return out
}
