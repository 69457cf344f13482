package awsjson_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	alikms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/awsjson"
	"github.com/kmsless/kmsless/infra/edge"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/rpc"
	"github.com/kmsless/kmsless/infra/store/bolt"
	"github.com/kmsless/kmsless/internal/syncbuf"
)

const (
	testRegion  = "cn-hangzhou"
	testAccount = "1234567890123456"
	// awsAccount is testAccount as AWS ARNs carry it: its last 12 digits.
	awsAccount  = "567890123456"
	adminID     = "AKIAADMIN00000000001"
	adminSecret = "admin-secret-0123456789abcdef"
)

func keyARN(id string) string { return "arn:aws:kms:" + testRegion + ":" + awsAccount + ":key/" + id }

// env is a real listener serving both protocols over one bolt-backed
// core.Service with the in-process cache, limiter and nonce store, the way
// the api function does, with an AWS SDK client and an Alibaba one.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	kms   *core.Service
	store core.KeyStore
	aws   *kms.Client
	ali   *alikms.Client
	logs  *syncbuf.Buffer
}

type setup struct {
	principals []core.Principal
	clock      core.Clock
	// logLevel is the level of the edge's log (default: debug, one line per
	// request, which tests read).
	logLevel slog.Level
	// rand is the service's randomness (default: crypto/rand).
	rand io.Reader
	// edge replaces the AWS handler's own edge.
	edge *edge.Edge
	// allowRepeats is the AWS handler's AllowRepeats (KMS_SIGV4_REPEATS).
	allowRepeats bool
}

func newEnv(t testing.TB, configure ...func(*setup)) *env {
	t.Helper()
	s := setup{logLevel: slog.LevelDebug, principals: []core.Principal{{
		Name: "admin", AccessKeyID: adminID, Secret: core.NewSecret(adminSecret), QPS: 1_000_000, Policy: core.FullAccess(),
	}}}
	for _, c := range configure {
		c(&s)
	}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "kms.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rootBytes := make([]byte, 32)
	_, _ = rand.Read(rootBytes)
	root, err := core.NewRootKey(rootBytes)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := core.New(core.Config{
		Store: st, Grants: st, Usage: st, Root: root, Region: testRegion, AccountID: testAccount, Clock: s.clock, Rand: s.rand,
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
	e := &env{t: t, kms: svc, store: st, logs: &syncbuf.Buffer{}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: s.logLevel}))
	awsH := awsjson.New(awsjson.Options{MaxBody: 1 << 20, KMS: svc, Principals: dir, Logger: log, Clock: s.clock, Edge: s.edge, AllowRepeats: s.allowRepeats})
	aliH := rpc.New(rpc.Options{ClockSkew: 15 * time.Minute, MaxBody: 1 << 20, KMS: svc, Principals: dir, Logger: log, Clock: s.clock})
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if awsjson.IsAWS(r) {
			awsH.ServeHTTP(w, r)
			return
		}
		aliH.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	if s.clock != nil {
		e.aws = e.client(adminID, adminSecret, func(o *kms.Options) { o.HTTPSignerV4 = clockSigner{v4.NewSigner(), s.clock} })
	} else {
		e.aws = e.client(adminID, adminSecret)
	}
	ali, err := alikms.NewClient(&openapi.Config{
		AccessKeyId: tea.String(adminID), AccessKeySecret: tea.String(adminSecret),
		Endpoint: tea.String(strings.TrimPrefix(e.srv.URL, "http://")), Protocol: tea.String("http"), RegionId: tea.String(testRegion),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.ali = ali
	return e
}

// allowingRepeats accepts again a request that signs no invocation ID.
func allowingRepeats(s *setup) { s.allowRepeats = true }

// withClock runs the service on clock; the AWS client signs at its time, so
// that a test can move days ahead and still be heard.
func withClock(clock core.Clock) func(*setup) {
	return func(s *setup) { s.clock = clock }
}

// clockSigner is the SDK's SigV4 signer, signing at a clock's time instead
// of the wall clock's.
type clockSigner struct {
	signer *v4.Signer
	clock  core.Clock
}

func (c clockSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, opts ...func(*v4.SignerOptions)) error {
	return c.signer.SignHTTP(ctx, creds, r, payloadHash, service, region, c.clock.Now(), opts...)
}

func withPrincipal(name, id, secret string, qps int, policy *core.Policy) func(*setup) {
	return func(s *setup) {
		s.principals = append(s.principals, core.Principal{Name: name, AccessKeyID: id, Secret: core.NewSecret(secret), QPS: qps, Burst: qps, Policy: policy})
	}
}

// client is an AWS SDK client for the listener, signing as id, with the SDK's
// retryer off so that each error is seen as the server sent it.
func (e *env) client(id, secret string, opts ...func(*kms.Options)) *kms.Client {
	return kms.New(kms.Options{
		Region: testRegion, BaseEndpoint: aws.String(e.srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
		Retryer:     aws.NopRetryer{}, HTTPClient: sdkHTTPClient,
	}, opts...)
}

// sdkHTTPClient carries the tests' AWS SDK requests: Go's client, with each
// request body offered without its WriteTo method. smithy-go wraps a body in
// a reader whose WriteTo answers io.EOF once closed, and the SDK closes it as
// soon as the answer's headers arrive. net/http, having sent the body, reads
// it once more for bytes past its Content-Length; when that read comes only
// after the SDK's close, the io.EOF is taken for a failed write, and the
// connection is closed under an answer too long for its 4 KiB read buffer
// (ML-DSA's signatures), which the SDK then fails to read: "use of closed
// network connection", seen about once in 25 runs of this package under -race.
// Read alone answers io.EOF as an end, not an error.
var sdkHTTPClient = &http.Client{Transport: readOnlyBodies{http.DefaultTransport.(*http.Transport).Clone()}}

type readOnlyBodies struct{ http.RoundTripper }

func (t readOnlyBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.Clone(r.Context())
		r.Body = struct{ io.ReadCloser }{r.Body}
	}
	return t.RoundTripper.RoundTrip(r)
}

func (e *env) createKey() string {
	e.t.Helper()
	out, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{})
	if err != nil {
		e.t.Fatalf("CreateKey: %v", err)
	}
	return aws.ToString(out.KeyMetadata.KeyId)
}

// apiError asserts that err is the AWS exception code; it returns the typed
// error for further checks.
func apiError(t *testing.T, err error, code string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	return ae
}

// signed is a raw AWS request for op with body, signed by id at the given
// time with the SDK's own SigV4 signer.
func (e *env) signed(op, body, id, secret string, at time.Time) *http.Request {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", awsjson.ContentType)
	req.Header.Set("X-Amz-Target", awsjson.TargetPrefix+op)
	hash := sha256Hex(body)
	err = v4.NewSigner().SignHTTP(bg, aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, req, hash, "kms", testRegion, at)
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

type rawResponse struct {
	status int
	header http.Header
	body   []byte
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

var bg = context.Background()

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// asType reports whether err is, or wraps, a *T and sets target.
func asType[T any](err error, target *T) bool { return errors.As(err, target) }

func io_nopCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
