package awsjson_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/awsjson"
)

// awsError decodes AWS's error shape.
func (r rawResponse) awsError(t *testing.T) (typ, message string) {
	t.Helper()
	var b struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("error body is not JSON: %v: %q", err, r.body)
	}
	return b.Type, b.Message
}

func TestSignatureFailuresRaiseTypedErrors(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	// The SDK models these protocol errors as generic API errors with the
	// code; its retryer and callers tell them apart by ErrorCode.
	_, err := e.client("AKIANOBODY0000000000", "x").ListKeys(bg, &kms.ListKeysInput{})
	apiError(t, err, "UnrecognizedClientException")
	_, err = e.client(adminID, "wrong-secret").ListKeys(bg, &kms.ListKeysInput{})
	apiError(t, err, "InvalidSignatureException")
	_, err = e.client(adminID, adminSecret, func(o *kms.Options) { o.Region = "us-east-1" }).ListKeys(bg, &kms.ListKeysInput{})
	if ae := apiError(t, err, "InvalidSignatureException"); !strings.Contains(ae.ErrorMessage(), "region") {
		t.Errorf("another region: %s", ae.ErrorMessage())
	}
	_, err = e.client(adminID, adminSecret, func(o *kms.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(adminID, adminSecret, "session-token")
	}).ListKeys(bg, &kms.ListKeysInput{})
	apiError(t, err, "UnrecognizedClientException")
	body := `{"KeyId":"` + id + `","KeySpec":"AES_256"}`

	unsigned, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(body))
	unsigned.Header.Set("Content-Type", "application/x-amz-json-1.1")
	unsigned.Header.Set("X-Amz-Target", "TrentService.GenerateDataKeyWithoutPlaintext")
	if typ, _ := e.do(unsigned).awsError(t); typ != "IncompleteSignatureException" {
		t.Errorf("unsigned: %s", typ)
	}

	tampered := e.signed("GenerateDataKeyWithoutPlaintext", body, adminID, adminSecret, time.Now())
	tampered.Body = io_nopCloser(`{"KeyId":"` + id + `","KeySpec":"AES_128"}`)
	if typ, _ := e.do(tampered).awsError(t); typ != "InvalidSignatureException" {
		t.Errorf("changed body: %s", typ)
	}

	retarget := e.signed("GenerateDataKeyWithoutPlaintext", body, adminID, adminSecret, time.Now())
	retarget.Header.Set("X-Amz-Target", "TrentService.GenerateDataKey")
	if typ, _ := e.do(retarget).awsError(t); typ != "InvalidSignatureException" {
		t.Errorf("changed target: %s", typ)
	}

	stale := e.do(e.signed("GenerateDataKeyWithoutPlaintext", body, adminID, adminSecret, time.Now().Add(-6*time.Minute)))
	if typ, msg := stale.awsError(t); typ != "InvalidSignatureException" || !strings.Contains(msg, "expired") {
		t.Errorf("six minutes old: %s %s", typ, msg)
	}
	if r := e.do(e.signed("GenerateDataKeyWithoutPlaintext", body, adminID, adminSecret, time.Now().Add(-4*time.Minute))); r.status != 200 {
		t.Errorf("four minutes old: %d %s", r.status, r.body)
	}
}

// TestReplayedSignatureIsRefused: a signature is accepted once. The repeat
// is ThrottlingException, so that an SDK whose signer gives one call made
// twice within a second the same signature signs it again.
func TestReplayedSignatureIsRefused(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	body := `{"KeyId":"` + id + `","KeySpec":"AES_256"}`
	req := e.signed("GenerateDataKeyWithoutPlaintext", body, adminID, adminSecret, time.Now())
	again := req.Clone(bg)
	again.Body = io_nopCloser(body)
	if r := e.do(req); r.status != http.StatusOK {
		t.Fatalf("first: %d %s", r.status, r.body)
	}
	r := e.do(again)
	if typ, msg := r.awsError(t); typ != "ThrottlingException" || r.status != http.StatusBadRequest || r.header.Get("Retry-After") != "1" || r.header.Get("X-Amz-Retry-After") != "1000" || !strings.Contains(msg, "sign it again") {
		t.Errorf("the same signed request again: %d %s", r.status, r.body)
	}
	// The signature's hex verifies in either case; a re-cased copy is the
	// same request, not a fresh one.
	auth := req.Header.Get("Authorization")
	i := strings.Index(auth, "Signature=") + len("Signature=")
	for _, sig := range []string{strings.ToUpper(auth[i:]), strings.ToUpper(auth[i:i+32]) + auth[i+32:]} {
		recased := req.Clone(bg)
		recased.Body = io_nopCloser(body)
		recased.Header.Set("Authorization", auth[:i]+sig)
		r := e.do(recased)
		if typ, _ := r.awsError(t); typ != "ThrottlingException" {
			t.Errorf("the same signed request with its signature as %s: %d %s", sig, r.status, r.body)
		}
	}
}

// TestRepeatsWhereAllowed: with KMS_SIGV4_REPEATS=allow a request that signs
// no invocation ID is accepted again, as AWS accepts it; one that signs an
// invocation ID is still accepted once.
func TestRepeatsWhereAllowed(t *testing.T) {
	e := newEnv(t, allowingRepeats)
	id := e.createKey()
	body := `{"KeyId":"` + id + `","KeySpec":"AES_256"}`
	for _, c := range []struct {
		invocation string
		again      string // the second answer's exception, or "" for success
	}{{"", ""}, {"5b0c2d1e-0000-4000-8000-000000000001", "ThrottlingException"}} {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", awsjson.ContentType)
		req.Header.Set("X-Amz-Target", awsjson.TargetPrefix+"GenerateDataKeyWithoutPlaintext")
		if c.invocation != "" {
			req.Header.Set("Amz-Sdk-Invocation-Id", c.invocation)
		}
		if err := v4.NewSigner().SignHTTP(bg, aws.Credentials{AccessKeyID: adminID, SecretAccessKey: adminSecret}, req, sha256Hex(body), "kms", testRegion, time.Now()); err != nil {
			t.Fatal(err)
		}
		again := req.Clone(bg)
		again.Body = io_nopCloser(body)
		first, second := e.do(req), e.do(again)
		typ := ""
		if second.status != http.StatusOK {
			typ, _ = second.awsError(t)
		}
		if first.status != http.StatusOK || typ != c.again {
			t.Errorf("invocation ID %q, twice: %d %s, then %d %s", c.invocation, first.status, first.body, second.status, second.body)
		}
	}
}

func TestHeaderBoundsAreCheckedBeforeTheCaller(t *testing.T) {
	e := newEnv(t)
	req := e.signed("ListKeys", "{}", adminID, adminSecret, time.Now())
	auth := req.Header.Get("Authorization")
	long := strings.Replace(auth, "SignedHeaders=", "SignedHeaders="+strings.Repeat("a", 5000), 1)
	req.Header.Set("Authorization", long)
	if typ, msg := e.do(req).awsError(t); typ != "IncompleteSignatureException" || !strings.Contains(msg, "longer") {
		t.Errorf("oversized Authorization: %s %s", typ, msg)
	}
	req = e.signed("ListKeys", "{}", adminID, adminSecret, time.Now())
	names := make([]string, 80)
	for i := range names {
		names[i] = "x-h" + strings.Repeat("z", i)
	}
	req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "SignedHeaders=", "SignedHeaders="+strings.Join(names, ";")+";", 1))
	if typ, _ := e.do(req).awsError(t); typ != "IncompleteSignatureException" {
		t.Errorf("80 signed headers: %s", typ)
	}
}

func TestThrottlingWithTheRetryerOffAndOn(t *testing.T) {
	e := newEnv(t, withPrincipal("slow", "AKIASLOW000000000001", "slow-secret", 2, core.FullAccess()))
	off := e.client("AKIASLOW000000000001", "slow-secret")
	var throttled bool
	for range 10 {
		_, err := off.ListKeys(bg, &kms.ListKeysInput{})
		if err == nil {
			continue
		}
		apiError(t, err, "ThrottlingException")
		throttled = true
		break
	}
	if !throttled {
		t.Fatal("ten requests at once under a limit of 2 per second: none throttled")
	}
	on := e.client("AKIASLOW000000000001", "slow-secret", func(o *kms.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 20
			so.MaxBackoff = 500 * time.Millisecond
			so.RateLimiter = ratelimit.None
		})
	})
	for i := range 6 {
		if _, err := on.ListKeys(bg, &kms.ListKeysInput{}); err != nil {
			t.Fatalf("request %d with the SDK's retryer: %v", i, err)
		}
	}
}

func TestServiceFaultIsKMSInternalException(t *testing.T) {
	e := newEnv(t)
	e.store.Close()
	_, err := e.aws.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String("key-neverseen000000000000000")})
	var internal *types.KMSInternalException
	if !asType(err, &internal) {
		t.Fatalf("store closed: want *types.KMSInternalException, got %v", err)
	}
	if strings.Contains(internal.ErrorMessage(), "database") {
		t.Errorf("the cause leaked into the message: %s", internal.ErrorMessage())
	}
}

func TestUnknownOperationAndBadBodies(t *testing.T) {
	e := newEnv(t)
	if typ, _ := e.do(e.signed("ReplicateKeys", "{}", adminID, adminSecret, time.Now())).awsError(t); typ != "UnknownOperationException" {
		t.Errorf("ReplicateKeys: %s", typ)
	}
	if typ, _ := e.do(e.signed("Encrypt", `{"KeyId":1}`, adminID, adminSecret, time.Now())).awsError(t); typ != "SerializationException" {
		t.Errorf("a number for KeyId: %s", typ)
	}
	if typ, _ := e.do(e.signed("Encrypt", `{"KeyId":"k","Plaintext":"not base64!"}`, adminID, adminSecret, time.Now())).awsError(t); typ != "SerializationException" {
		t.Errorf("a blob that is not base64: %s", typ)
	}
	if typ, _ := e.do(e.signed("Encrypt", `{"KeyId":"k","Plaintext":"eA==","EncryptionContext":{"a":1}}`, adminID, adminSecret, time.Now())).awsError(t); typ != "SerializationException" {
		t.Errorf("a context value that is not a string: %s", typ)
	}
}

// TestBodyIsReadOneWay: a body's members are read by the names AWS gives
// them, exactly, and a member named twice, a context key given twice or
// invalid UTF-8 is a SerializationException, as the Alibaba protocol refuses a
// parameter given twice: no proxy or log that read the body first can have
// read another key or context in it.
func TestBodyIsReadOneWay(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	for name, c := range map[string]struct{ op, body string }{
		"KeyId twice":             {"DescribeKey", `{"KeyId":"` + id + `","KeyId":"alias/other"}`},
		"a context key twice":     {"Encrypt", `{"KeyId":"` + id + `","Plaintext":"eA==","EncryptionContext":{"t":"a","t":"b"}}`},
		"invalid UTF-8":           {"DescribeKey", "{\"KeyId\":\"alias/\xff\"}"},
		"Plaintext twice":         {"Encrypt", `{"KeyId":"` + id + `","Plaintext":"eA==","Plaintext":"eQ=="}`},
		"EncryptionContext twice": {"Encrypt", `{"KeyId":"` + id + `","Plaintext":"eA==","EncryptionContext":{"t":"a"},"EncryptionContext":{"t":"b"}}`},
	} {
		if typ, msg := e.do(e.signed(c.op, c.body, adminID, adminSecret, time.Now())).awsError(t); typ != "SerializationException" {
			t.Errorf("%s: %s %s, want SerializationException", name, typ, msg)
		}
	}
	// A name in another case is not the member, as AWS's SDKs spell it.
	r := e.do(e.signed("DescribeKey", `{"KeyId":"`+id+`","keyId":"alias/missing"}`, adminID, adminSecret, time.Now()))
	if r.status != http.StatusOK || !strings.Contains(string(r.body), id) {
		t.Errorf("KeyId beside keyId: %d %s, want the key KeyId names", r.status, r.body)
	}
	if typ, _ := e.do(e.signed("DescribeKey", `{"keyid":"`+id+`"}`, adminID, adminSecret, time.Now())).awsError(t); typ != "ValidationException" {
		t.Errorf("keyid alone: %s, want ValidationException (no KeyId)", typ)
	}
}

func TestEveryRequestLeavesItsActionAndCaller(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	if _, err := e.aws.GenerateDataKeyWithoutPlaintext(bg, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256}); err != nil {
		t.Fatal(err)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "action=GenerateDataKeyWithoutPlaintext principal=admin code=OK") {
		t.Errorf("no request line for the AWS request:\n%s", logs)
	}
}

// TestRefusedPathAndMethodAreQuotedBounded: a request to another path, or
// with another method, is refused before its signature is read, with a
// message that quotes a bounded prefix of what it sent.
func TestRefusedPathAndMethodAreQuotedBounded(t *testing.T) {
	e := newEnv(t)
	path, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/"+strings.Repeat("p", 60_000), strings.NewReader("{}"))
	method, _ := http.NewRequest(strings.Repeat("M", 60_000), e.srv.URL+"/", strings.NewReader("{}"))
	for name, r := range map[string]*http.Request{"a long path": path, "a long method": method} {
		r.Header.Set("Content-Type", awsjson.ContentType)
		r.Header.Set("X-Amz-Target", awsjson.TargetPrefix+"ListKeys")
		resp := e.do(r)
		if _, msg := resp.awsError(t); resp.status != http.StatusBadRequest || len(msg) > 512 {
			t.Errorf("%s: got %d and a message of %d bytes, want 400 and a short message", name, resp.status, len(msg))
		}
	}
}
