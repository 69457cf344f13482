package instance_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"
	dkmsopenapi "github.com/aliyun/alibabacloud-dkms-gcs-go-sdk/openapi"
	dkms "github.com/aliyun/alibabacloud-dkms-gcs-go-sdk/sdk"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/instance"
	"github.com/kmsless/kmsless/infra/store/memory"
)

const (
	testRegion  = "cn-hangzhou"
	testAccount = "1234567890123456"
	appKeyID    = "KAAP.0f9e8d7c-6b5a-4c3d-9e2f-1a2b3c4d5e6f"
)

var admin = &core.Principal{Name: "admin", AccessKeyID: "LTAIadmin", Secret: core.NewSecret("admin-secret"), QPS: 1_000_000, Policy: core.FullAccess()}

// env is the instance API's handler on loopback over a memory store, a
// principal "app" holding a client key, and Alibaba's KMS instance SDK
// signing with that key.
type env struct {
	t       testing.TB
	srv     *httptest.Server
	kms     *core.Service
	private *rsa.PrivateKey
	client  *dkms.Client
	dir     *core.Directory
	clock   core.Clock
}

// setup adjusts an env before it starts.
type setup struct {
	policy *core.Policy
	clock  core.Clock
	// private, when set, is the app's client key; public, when set, is the
	// public key the service holds for it instead.
	private *rsa.PrivateKey
	public  *rsa.PublicKey
}

func newEnv(t testing.TB, configure ...func(*setup)) *env {
	t.Helper()
	s := setup{policy: core.FullAccess()}
	for _, c := range configure {
		c(&s)
	}
	st := memory.New()
	root := make([]byte, 32)
	_, _ = rand.Read(root)
	rk, err := core.NewRootKey(root)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := core.New(core.Config{
		Store: st, Partitions: st, Secrets: st, Grants: st, Certificates: st, Usage: st, Access: st, Root: rk, Region: testRegion, AccountID: testAccount,
		Clock: s.clock, NonceTTL: 15 * time.Minute, NonceWindow: 30 * time.Minute,
		Cache: inproc.NewCache(time.Second, 1000), Limiter: inproc.NewLimiter(), Nonces: inproc.NewNonces(s.clock),
	})
	if err != nil {
		t.Fatal(err)
	}
	private := s.private
	if private == nil {
		if private, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	}
	public := s.public
	if public == nil {
		public = &private.PublicKey
	}
	dir, err := core.NewDirectory([]core.Principal{*admin, {
		Name: "app", AccessKeyID: "LTAIapp", Secret: core.NewSecret("app-secret"), QPS: 1_000_000, Policy: s.policy,
		ClientKeys: []core.ClientKey{{ID: appKeyID, PublicKey: public}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, kms: svc, private: private, dir: dir, clock: s.clock}
	e.srv = httptest.NewServer(instance.New(instance.Options{KMS: svc, Principals: dir, ClockSkew: 15 * time.Minute, MaxBody: 1 << 20, Clock: s.clock}))
	t.Cleanup(e.srv.Close)
	e.client = e.sdk(appKeyID, private)
	return e
}

// sdk is Alibaba's KMS instance SDK for the service, signing as id with key.
func (e *env) sdk(id string, key *rsa.PrivateKey) *dkms.Client {
	e.t.Helper()
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	c, err := dkms.NewClient(&dkmsopenapi.Config{
		Protocol: tea.String("http"), Endpoint: tea.String(strings.TrimPrefix(e.srv.URL, "http://")), RegionId: tea.String(testRegion),
		AccessKeyId: tea.String(id), PrivateKey: tea.String(string(pemKey)),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// do runs action as the admin principal, straight through core.
func (e *env) do(action string, p core.Params) any {
	e.t.Helper()
	out, err := e.kms.Handle(context.Background(), &core.Request{ID: "setup", Action: action, Params: p, Caller: admin})
	if err != nil {
		e.t.Fatalf("%s: %v", action, err)
	}
	return out
}

// createKey makes a key of spec and usage (both may be empty) and returns
// its ID.
func (e *env) createKey(spec, usage string) string {
	e.t.Helper()
	p := core.Params{}
	if spec != "" {
		p["KeySpec"] = spec
	}
	if usage != "" {
		p["KeyUsage"] = usage
	}
	return e.do("CreateKey", p).(core.Key).ID
}
