package rpc_test

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/rpc"
	"github.com/kmsless/kmsless/infra/store/bolt"
	"github.com/kmsless/kmsless/infra/store/storetest"
	"github.com/kmsless/kmsless/internal/signtest"
	"github.com/kmsless/kmsless/internal/syncbuf"
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
	logs   *syncbuf.Buffer
}

// setup adjusts an env before it starts.
type setup struct {
	principals []core.Principal
	opts       rpc.Options
	// store replaces the bolt store in a temporary dir.
	store storetest.Store
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
		bolt, err := bolt.Open(filepath.Join(t.TempDir(), "kms.db"))
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
		Store: st, Partitions: st, Secrets: st, Grants: st, Certificates: st, Usage: st, Root: root, Region: testRegion, AccountID: testAccount, Clock: s.clock, NonceShare: s.nonceShare,
		NonceTTL: 15 * time.Minute, NonceWindow: 30 * time.Minute,
		Cache: inproc.NewCache(time.Second, 1000), Limiter: inproc.NewLimiter(), Nonces: inproc.NewNonces(s.clock),
	})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := core.NewDirectory(s.principals)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, kms: svc, dir: dir, logs: &syncbuf.Buffer{}}
	opts := s.opts
	opts.KMS, opts.Principals = svc, dir
	if opts.ClockSkew == 0 {
		opts.ClockSkew = 15 * time.Minute
	}
	if opts.MaxBody == 0 {
		opts.MaxBody = 1 << 20
	}
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

// signV1 signs params as SignatureVersion 1.0 does, dated now.
func signV1(method string, params url.Values, id, secret string) url.Values {
	return signtest.V1(method, params, id, secret, time.Now())
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
