package rpc_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/rpc"
	boltstore "github.com/kmsless/kmsless/infra/store/bolt"
)

const (
	testRegion  = "cn-hangzhou"
	testAccount = "1234567890123456"
	adminID     = "LTAI5tAdmin000000000001"
	adminSecret = "admin-secret-0123456789abcdef"
)

// env is a real handler on loopback: a bolt-backed core.Service with the
// in-process cache, limiter and nonce store, and an SDK client for it.
type env struct {
	t      testing.TB
	srv    *httptest.Server
	kms    *core.Service
	dir    *core.Directory
	client *kms.Client
	logs   *syncBuffer
}

// setup adjusts an env before it starts.
type setup struct {
	principals []core.Principal
	opts       rpc.Options
	// store replaces the bolt store in a temporary dir.
	store core.KeyStore
	// clock, when set, is the time of the service, its nonce memory and the
	// signature checks.
	clock core.Clock
	// nonceShare is core.Config.NonceShare.
	nonceShare int
}

func newEnv(t testing.TB, configure ...func(*setup)) *env {
	t.Helper()
	s := setup{principals: []core.Principal{{
		Name: "admin", AccessKeyID: adminID, Secret: core.NewSecret(adminSecret), QPS: 1_000_000, Policy: core.FullAccess(),
	}}}
	for _, c := range configure {
		c(&s)
	}
	st := s.store
	if st == nil {
		bolt, err := boltstore.Open(filepath.Join(t.TempDir(), "kms.db"))
		if err != nil {
			t.Fatal(err)
		}
		st = bolt
	}
	t.Cleanup(func() { st.Close() })
	rootBytes := make([]byte, 32)
	_, _ = rand.Read(rootBytes)
	root, err := core.NewRootKey(rootBytes)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := core.New(core.Config{
		Store: st, Root: root, Region: testRegion, AccountID: testAccount, Clock: s.clock, NonceShare: s.nonceShare,
		Cache: inproc.NewCache(time.Second, 1000), Limiter: inproc.NewLimiter(), Nonces: inproc.NewNonces(s.clock),
	})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := core.NewDirectory(s.principals)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, kms: svc, dir: dir, logs: &syncBuffer{}}
	opts := s.opts
	opts.KMS, opts.Principals = svc, dir
	if opts.Clock == nil {
		opts.Clock = s.clock
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e.srv = httptest.NewServer(rpc.New(opts))
	t.Cleanup(e.srv.Close)
	e.client = e.sdk(adminID, adminSecret)
	return e
}

// withPrincipal adds a principal with the given policy.
func withPrincipal(name, id, secret string, qps int, policy *core.Policy) func(*setup) {
	return func(s *setup) {
		s.principals = append(s.principals, core.Principal{Name: name, AccessKeyID: id, Secret: core.NewSecret(secret), QPS: qps, Burst: qps, Policy: policy})
	}
}

func (e *env) sdk(id, secret string) *kms.Client {
	e.t.Helper()
	c, err := kms.NewClient(&openapi.Config{
		AccessKeyId: tea.String(id), AccessKeySecret: tea.String(secret),
		Endpoint: tea.String(strings.TrimPrefix(e.srv.URL, "http://")), Protocol: tea.String("http"),
		RegionId: tea.String(testRegion),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// createKey makes a key through the SDK and returns its ID.
func (e *env) createKey() string {
	e.t.Helper()
	r, err := e.client.CreateKey(&kms.CreateKeyRequest{})
	if err != nil {
		e.t.Fatalf("CreateKey: %v", err)
	}
	return *r.Body.KeyMetadata.KeyId
}

// sdkError asserts err is an SDK error with the code and HTTP status.
func sdkError(t *testing.T, err error, code string, status int) *tea.SDKError {
	t.Helper()
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("want SDK error %s (%d), got %v", code, status, err)
	}
	if tea.StringValue(se.Code) != code || tea.IntValue(se.StatusCode) != status {
		t.Fatalf("want %s (%d), got %s (%d): %s", code, status, tea.StringValue(se.Code), tea.IntValue(se.StatusCode), tea.StringValue(se.Message))
	}
	return se
}

// signV1 adds the parameters of SignatureVersion 1.0 and the HMAC-SHA1
// signature over them, as Alibaba's classic RPC signing defines it.
func signV1(method string, params url.Values, id, secret string) url.Values {
	p := url.Values{}
	for k, v := range params {
		p[k] = v
	}
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	p.Set("AccessKeyId", id)
	p.Set("SignatureMethod", "HMAC-SHA1")
	p.Set("SignatureVersion", "1.0")
	p.Set("SignatureNonce", hex.EncodeToString(nonce))
	p.Set("Timestamp", time.Now().UTC().Format("2006-01-02T15:04:05Z"))
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = percent(k) + "=" + percent(p.Get(k))
	}
	toSign := method + "&" + percent("/") + "&" + percent(strings.Join(pairs, "&"))
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(toSign))
	p.Set("Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return p
}

// percent is the RFC 3986 encoding the signature string uses.
func percent(s string) string {
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(s))
}

// rawResponse is a response read whole.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// errorBody decodes the body as Alibaba's error shape.
func (r rawResponse) errorBody(t *testing.T) (code, message string) {
	t.Helper()
	var b struct{ RequestId, HostId, Code, Message string }
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("error body is not JSON: %v: %q", err, r.body)
	}
	if b.RequestId == "" || b.HostId == "" {
		t.Fatalf("error body lacks RequestId or HostId: %s", r.body)
	}
	return b.Code, b.Message
}

func (e *env) do(req *http.Request) rawResponse {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: body}
}

// get sends a classic signature-1.0 GET with the action's parameters.
func (e *env) get(params url.Values) rawResponse {
	e.t.Helper()
	p := signV1(http.MethodGet, params, adminID, adminSecret)
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/?"+p.Encode(), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(req)
}

// postForm sends a classic signature-1.0 POST with the parameters in a form body.
func (e *env) postForm(params url.Values) rawResponse {
	e.t.Helper()
	p := signV1(http.MethodPost, params, adminID, adminSecret)
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(p.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(req)
}

func action(name string, kv ...string) url.Values {
	v := url.Values{"Action": {name}, "Version": {rpc.APIVersion}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var bg = context.Background()

// signACS3 signs r (whose URL holds every parameter, with an empty body) as the
// Go SDK does with ACS3-HMAC-SHA256: x-acs-* headers, a canonical request over
// method, path, sorted query, signed headers and the payload hash, and an
// Authorization header.
func signACS3(r *http.Request, action, id, secret string) {
	signACS3At(r, action, id, secret, time.Now())
}

// signACS3At signs like signACS3 with a chosen x-acs-date.
func signACS3At(r *http.Request, action, id, secret string, at time.Time) {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	r.Header.Set("x-acs-action", action)
	r.Header.Set("x-acs-version", rpc.APIVersion)
	r.Header.Set("x-acs-date", at.UTC().Format("2006-01-02T15:04:05Z"))
	r.Header.Set("x-acs-signature-nonce", hex.EncodeToString(nonce))
	r.Header.Set("x-acs-content-sha256", emptySHA256)
	r.Header.Set("Authorization", authorizationACS3(r.Method, r.URL.Query(), r.Host, r.Header, id, secret))
}

// emptySHA256 is the hex SHA-256 of an empty body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func authorizationACS3(method string, query url.Values, host string, header http.Header, id, secret string) string {
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
		q.WriteString(k + "=" + percent(query.Get(k)))
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
