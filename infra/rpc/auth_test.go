package rpc_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/signtest"
)

// sdkWith is an SDK client for the env's server with a signature algorithm:
// "" for the default (ACS3-HMAC-SHA256, an Authorization header) or "v2"
// (SignatureVersion 1.0 with HMAC-SHA1 parameters).
func (e *env) sdkWith(endpoint, id, secret, algorithm string) *kms.Client {
	e.t.Helper()
	cfg := &openapi.Config{
		AccessKeyId: tea.String(id), AccessKeySecret: tea.String(secret),
		Endpoint: tea.String(strings.TrimPrefix(endpoint, "http://")), Protocol: tea.String("http"),
		RegionId: tea.String(testRegion),
	}
	if algorithm != "" {
		cfg.SignatureAlgorithm = tea.String(algorithm)
	}
	c, err := kms.NewClient(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

var algorithms = map[string]string{"ACS3-HMAC-SHA256": "", "v2 (HMAC-SHA1)": "v2"}

func TestAuthSDKSignaturesAreAccepted(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	rec := e.recorder()
	for name, alg := range algorithms {
		t.Run(name, func(t *testing.T) {
			c := e.sdkWith(rec.url(), adminID, adminSecret, alg)
			g, err := c.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{
				KeyId: tea.String(id), EncryptionContext: map[string]interface{}{"partition": "p-1"}})
			if err != nil {
				t.Fatalf("GenerateDataKeyWithoutPlaintext: %v", err)
			}
			// Make sure the algorithm under test is the one on the wire.
			sent := rec.last()
			if alg == "" && (!strings.HasPrefix(sent.header.Get("Authorization"), "ACS3-HMAC-SHA256 ") || sent.query.Has("Signature")) {
				t.Fatalf("default signing sent Authorization %q", sent.header.Get("Authorization"))
			}
			if alg == "v2" && (sent.header.Get("Authorization") != "" || sent.query.Get("SignatureMethod") != "HMAC-SHA1" || sent.query.Get("SignatureVersion") != "1.0") {
				t.Fatalf("v2 signing sent Authorization %q, SignatureMethod %q", sent.header.Get("Authorization"), sent.query.Get("SignatureMethod"))
			}
			d, err := c.Decrypt(&kms.DecryptRequest{CiphertextBlob: g.Body.CiphertextBlob, EncryptionContext: map[string]interface{}{"partition": "p-1"}})
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if tea.StringValue(d.Body.KeyId) != id {
				t.Errorf("Decrypt answered key %s, want %s", tea.StringValue(d.Body.KeyId), id)
			}
		})
	}
}

func TestAuthWrongSecretAndUnknownAccessKey(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	for name, alg := range algorithms {
		t.Run(name, func(t *testing.T) {
			_, err := e.sdkWith(e.srv.URL, adminID, "not-the-admin-secret", alg).DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(id)})
			se := sdkError(t, err, core.CodeSignatureDoesNotMatch, http.StatusBadRequest)
			if strings.Contains(tea.StringValue(se.Message), adminSecret) {
				t.Errorf("message reveals the secret: %s", tea.StringValue(se.Message))
			}
			_, err = e.sdkWith(e.srv.URL, "LTAI5tNobody0000000001", adminSecret, alg).DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(id)})
			sdkError(t, err, core.CodeInvalidAccessKeyID, http.StatusNotFound)
		})
	}
	if strings.Contains(e.logs.String(), adminSecret) || strings.Contains(e.logs.String(), "not-the-admin-secret") {
		t.Error("a secret reached the log")
	}
}

func TestAuthUnsignedAndTamperedRequestsAreRefused(t *testing.T) {
	e := newEnv(t)
	r := e.do(mustRequest(t, http.MethodGet, e.srv.URL+"/?"+action("ListKeys").Encode(), ""))
	if code, _ := r.errorBody(t); r.status != http.StatusBadRequest || code != core.CodeIncompleteSignature {
		t.Errorf("unsigned request: %d %s", r.status, code)
	}
	p := signV1(http.MethodGet, action("ListKeys", "PageSize", "5"), adminID, adminSecret)
	p.Set("PageSize", "50")
	r = e.do(mustRequest(t, http.MethodGet, e.srv.URL+"/?"+p.Encode(), ""))
	if code, _ := r.errorBody(t); r.status != http.StatusBadRequest || code != core.CodeSignatureDoesNotMatch {
		t.Errorf("parameter changed after signing: %d %s", r.status, code)
	}
	// A signature made for GET does not authorize the same parameters by POST.
	p = signV1(http.MethodGet, action("ListKeys"), adminID, adminSecret)
	req := mustRequest(t, http.MethodPost, e.srv.URL+"/", p.Encode())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r = e.do(req)
	if code, _ := r.errorBody(t); code != core.CodeSignatureDoesNotMatch {
		t.Errorf("GET signature sent by POST: %d %s", r.status, code)
	}
}

// TestAuthReplayIsRefused captures signed requests on their way to the server
// and sends each again, byte for byte: the second delivery is refused, while the
// same call signed afresh (a new nonce) succeeds.
func TestAuthReplayIsRefused(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	rec := e.recorder()
	for name, alg := range algorithms {
		t.Run(name, func(t *testing.T) {
			c := e.sdkWith(rec.url(), adminID, adminSecret, alg)
			req := &kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id)}
			if _, err := c.GenerateDataKeyWithoutPlaintext(req); err != nil {
				t.Fatal(err)
			}
			captured := rec.last()
			r := e.do(captured.replay(t, rec.url()))
			code, _ := r.errorBody(t)
			if r.status != http.StatusBadRequest || code != core.CodeSignatureNonceUsed {
				t.Fatalf("replayed request: %d %s, want 400 SignatureNonceUsed", r.status, code)
			}
			if _, err := c.GenerateDataKeyWithoutPlaintext(req); err != nil {
				t.Fatalf("the same call with a fresh nonce: %v", err)
			}
			if rec.last().nonce() == captured.nonce() {
				t.Fatal("the SDK reused its nonce")
			}
		})
	}
}

func TestAuthTimestampOutsideTheSkewIsIllegal(t *testing.T) {
	e := newEnv(t)
	for _, off := range []time.Duration{-16 * time.Minute, 16 * time.Minute} {
		p := signtest.V1(http.MethodGet, action("ListKeys"), adminID, adminSecret, time.Now().Add(off))
		r := e.do(mustRequest(t, http.MethodGet, e.srv.URL+"/?"+p.Encode(), ""))
		if code, _ := r.errorBody(t); r.status != http.StatusBadRequest || code != core.CodeIllegalTimestamp {
			t.Errorf("timestamp %v off: %d %s, want 400 IllegalTimestamp", off, r.status, code)
		}
	}
	p := signtest.V1(http.MethodGet, action("ListKeys"), adminID, adminSecret, time.Now().Add(-14*time.Minute))
	if r := e.do(mustRequest(t, http.MethodGet, e.srv.URL+"/?"+p.Encode(), "")); r.status != http.StatusOK {
		t.Errorf("timestamp 14 minutes old: %d %s", r.status, r.body)
	}
}

func TestAuthPolicyDenialAndDryRun(t *testing.T) {
	const rid, rsecret = "LTAI5tReader00000000009", "reader-secret-9"
	e := newEnv(t, withPrincipal("reader", rid, rsecret, 1000, allow([]string{"kms:Decrypt", "kms:DescribeKey"}, "*")))
	id := e.createKey()
	reader := e.sdk(rid, rsecret)
	if _, err := reader.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(id)}); err != nil {
		t.Fatalf("allowed action: %v", err)
	}
	_, err := reader.CreateKey(&kms.CreateKeyRequest{})
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	_, err = reader.Encrypt(&kms.EncryptRequest{KeyId: tea.String(id), Plaintext: tea.String("aGk=")})
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	_, err = reader.Encrypt(&kms.EncryptRequest{KeyId: tea.String(id), Plaintext: tea.String("aGk="), DryRun: tea.String("true")})
	sdkError(t, err, core.CodeAccessDenied, http.StatusForbidden)
	_, err = reader.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id), DryRun: tea.String("true")})
	sdkError(t, err, core.CodeAccessDenied, http.StatusForbidden)
}

// TestAuthSeedTrustSplit is the seed scenario over the wire: the provisioner
// mints wrapped data keys and can do nothing else with them; producers unwrap
// them and cannot mint.
func TestAuthSeedTrustSplit(t *testing.T) {
	const (
		provID, provSecret = "LTAI5tProvisioner0001", "provisioner-secret-1"
		prodID, prodSecret = "LTAI5tProducer0000001", "producer-secret-1"
	)
	e := newEnv(t,
		withPrincipal("partition-provisioner", provID, provSecret, 1000,
			allow([]string{"kms:GenerateDataKeyWithoutPlaintext"}, "acs:kms:*:*:key/*", "acs:kms:*:*:alias/*")),
		withPrincipal("producer", prodID, prodSecret, 1000, allow([]string{"kms:Decrypt"}, "*")))
	id := e.createKey()
	if _, err := e.client.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/partitions"), KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	partition := map[string]interface{}{"PartitionId": "orders-0042"}

	for name, alg := range algorithms {
		t.Run(name, func(t *testing.T) {
			prov := e.sdkWith(e.srv.URL, provID, provSecret, alg)
			prod := e.sdkWith(e.srv.URL, prodID, prodSecret, alg)

			minted, err := prov.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{
				KeyId: tea.String("alias/partitions"), EncryptionContext: partition})
			if err != nil {
				t.Fatalf("provisioner mints: %v", err)
			}
			if tea.StringValue(minted.Body.KeyId) != id || tea.StringValue(minted.Body.CiphertextBlob) == "" {
				t.Fatalf("minted %+v", minted.Body)
			}
			blob := minted.Body.CiphertextBlob

			_, err = prov.GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String("alias/partitions"), EncryptionContext: partition})
			sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
			_, err = prov.Decrypt(&kms.DecryptRequest{CiphertextBlob: blob, EncryptionContext: partition})
			sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
			_, err = prov.Encrypt(&kms.EncryptRequest{KeyId: tea.String("alias/partitions"), Plaintext: tea.String("aGk=")})
			sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)

			d, err := prod.Decrypt(&kms.DecryptRequest{CiphertextBlob: blob, EncryptionContext: partition})
			if err != nil {
				t.Fatalf("producer decrypts: %v", err)
			}
			pt, err := base64.StdEncoding.DecodeString(tea.StringValue(d.Body.Plaintext))
			if err != nil || len(pt) != 32 {
				t.Fatalf("producer got %d bytes (%v), want a 32-byte data key", len(pt), err)
			}
			_, err = prod.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String("alias/partitions"), EncryptionContext: partition})
			sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
			_, err = prod.GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String(id)})
			sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
		})
	}
}

// TestAuthQPSIsPerPrincipal: a principal at 5 QPS (burst 5) is throttled when
// it goes faster, and another at the same limit is not held back by it.
func TestAuthQPSIsPerPrincipal(t *testing.T) {
	const (
		aID, aSecret = "LTAI5tLimitedA00000001", "limited-a-secret"
		bID, bSecret = "LTAI5tLimitedB00000001", "limited-b-secret"
	)
	e := newEnv(t,
		withPrincipal("limited-a", aID, aSecret, 5, allow([]string{"kms:ListKeys"}, "*")),
		withPrincipal("limited-b", bID, bSecret, 5, allow([]string{"kms:ListKeys"}, "*")))
	list := func(id, secret string) rawResponse {
		p := signV1(http.MethodGet, action("ListKeys"), id, secret)
		return e.do(mustRequest(t, http.MethodGet, e.srv.URL+"/?"+p.Encode(), ""))
	}
	admitted, throttled := 0, rawResponse{}
	start := time.Now()
	for range 20 {
		r := list(aID, aSecret)
		if r.status == http.StatusOK {
			admitted++
			continue
		}
		throttled = r
	}
	// The burst, plus what the rate refilled while the calls ran.
	if most := 5 + int(time.Since(start).Seconds()*5) + 1; admitted < 5 || admitted > most {
		t.Errorf("20 quick calls at 5 QPS, burst 5: %d admitted, want 5 to %d", admitted, most)
	}
	if throttled.status != http.StatusTooManyRequests {
		t.Fatalf("no call was throttled (last refusal %d %s)", throttled.status, throttled.body)
	}
	if code, msg := throttled.errorBody(t); code != core.CodeThrottling || msg != "QPS Limit Exceeded" {
		t.Errorf("throttled with %s %q", code, msg)
	}
	if s, err := strconv.Atoi(throttled.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q", throttled.header.Get("Retry-After"))
	}
	for i := range 5 {
		if r := list(bID, bSecret); r.status != http.StatusOK {
			t.Fatalf("the other principal's call %d: %d %s", i, r.status, r.body)
		}
	}
}

func allow(actions []string, resources ...string) *core.Policy {
	return core.MustPolicy(core.Statement{Effect: "Allow", Action: actions, Resource: resources})
}

// recorder is a front server that keeps a copy of every request and hands it
// to the env's handler unchanged, as a capturing proxy would.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []captured
}

type captured struct {
	method, uri string
	query       url.Values
	header      http.Header
	body        []byte
}

func (e *env) recorder() *recorder {
	rec := &recorder{}
	next := e.srv.Config.Handler
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, captured{method: r.Method, uri: r.URL.RequestURI(), query: r.URL.Query(), header: r.Header.Clone(), body: body})
		rec.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	}))
	e.t.Cleanup(rec.srv.Close)
	return rec
}

func (r *recorder) url() string { return r.srv.URL }

func (r *recorder) last() captured {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1]
}

// replay rebuilds the captured request for sending to base again.
func (c captured) replay(t *testing.T, base string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(c.method, base+c.uri, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = c.header.Clone()
	return req
}

func (c captured) nonce() string {
	if n := c.header.Get("x-acs-signature-nonce"); n != "" && c.query.Get("SignatureNonce") == "" {
		return n
	}
	return c.query.Get("SignatureNonce")
}
