package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/kmsless/kmsless/infra/awsjson"
	"github.com/kmsless/kmsless/infra/config"
)

// awsEvent is an AWS KMS request for op, SigV4-signed by the service's
// development principal, carried by an HTTP trigger event of kind: "url"
// (function URL, API Gateway HTTP API), "rest" (API Gateway REST API) or "fc"
// (Function Compute HTTP trigger).
func awsEvent(t *testing.T, svc *config.Service, kind, op, body string) json.RawMessage {
	t.Helper()
	const host = "kmsless.example.com"
	req, _ := http.NewRequest(http.MethodPost, "https://"+host+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", awsjson.ContentType)
	req.Header.Set("X-Amz-Target", awsjson.TargetPrefix+op)
	sum := sha256.Sum256([]byte(body))
	p := svc.DevPrincipal
	creds := aws.Credentials{AccessKeyID: p.AccessKeyID, SecretAccessKey: string(p.Secret.Bytes())}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "kms", svc.KMS.Region(), time.Now()); err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{"host": host, "content-length": strconv.Itoa(len(body))}
	for k := range req.Header {
		headers[strings.ToLower(k)] = req.Header.Get(k)
	}
	var ev any
	switch kind {
	case "url":
		ev = map[string]any{"version": "2.0", "rawPath": "/", "headers": headers, "body": body,
			"requestContext": map[string]any{"domainName": host, "http": map[string]any{"method": "POST", "path": "/", "sourceIp": "203.0.113.10"}}}
	case "rest":
		ev = map[string]any{"httpMethod": "POST", "path": "/", "resource": "/", "headers": headers, "body": body,
			"requestContext": map[string]any{"domainName": host, "identity": map[string]any{"sourceIp": "203.0.113.10"}}}
	case "fc":
		ev = map[string]any{"version": "v1", "rawPath": "/", "headers": headers, "body": body, "queryParameters": map[string]string{},
			"requestContext": map[string]any{"domainName": host, "http": map[string]any{"method": "POST", "path": "/", "sourceIp": "203.0.113.10"}}}
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// httpAnswer decodes the HTTP response a trigger event was answered with.
func httpAnswer(t *testing.T, out any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return resp.StatusCode, body
}

func TestAPIServesAWSRequestsThroughEveryHTTPTrigger(t *testing.T) {
	svc := wire(t, nil)
	fn := API(svc)
	for _, kind := range []string{"url", "rest", "fc"} {
		out, err := fn.Handler(context.Background(), awsEvent(t, svc, kind, "CreateKey", `{"Description":"`+kind+`"}`))
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		status, body := httpAnswer(t, out)
		meta, _ := body["KeyMetadata"].(map[string]any)
		if status != 200 || meta == nil || !strings.HasPrefix(meta["Arn"].(string), "arn:aws:kms:") || meta["Description"] != kind {
			t.Errorf("%s trigger: %d %v", kind, status, body)
		}
	}
}

func TestActionFunctionAcceptsTheAWSFormOfItsOwnActionOnly(t *testing.T) {
	svc := wire(t, nil)
	api := API(svc)
	out, err := api.Handler(context.Background(), awsEvent(t, svc, "url", "CreateKey", `{}`))
	if err != nil {
		t.Fatal(err)
	}
	_, created := httpAnswer(t, out)
	arn := created["KeyMetadata"].(map[string]any)["Arn"].(string)

	fn := Action(svc, "GenerateDataKeyWithoutPlaintext")
	out, err = fn.Handler(context.Background(), awsEvent(t, svc, "url", "GenerateDataKeyWithoutPlaintext", `{"KeyId":"`+arn+`","KeySpec":"AES_256"}`))
	if err != nil {
		t.Fatal(err)
	}
	if status, body := httpAnswer(t, out); status != 200 || body["KeyId"] != arn || body["CiphertextBlob"] == nil || body["Plaintext"] != nil {
		t.Errorf("own action: %d %v", status, body)
	}
	out, err = fn.Handler(context.Background(), awsEvent(t, svc, "url", "GenerateDataKey", `{"KeyId":"`+arn+`","KeySpec":"AES_256"}`))
	if err != nil {
		t.Fatal(err)
	}
	if status, body := httpAnswer(t, out); status != 400 || body["__type"] != "ValidationException" || body["Plaintext"] != nil {
		t.Errorf("another action: %d %v", status, body)
	}
}

// TestSigV4RepeatsFollowTheSetting: one signed event twice, as botocore sends
// one call made twice within a second, is accepted once by default and twice
// with KMS_SIGV4_REPEATS=allow.
func TestSigV4RepeatsFollowTheSetting(t *testing.T) {
	for setting, second := range map[string]string{"": "ThrottlingException", "allow": ""} {
		svc := wire(t, map[string]string{"KMS_SIGV4_REPEATS": setting})
		fn := API(svc)
		ev := awsEvent(t, svc, "url", "GenerateRandom", `{"NumberOfBytes":32}`)
		var got []string
		for range 2 {
			out, err := fn.Handler(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			status, body := httpAnswer(t, out)
			typ, _ := body["__type"].(string)
			if status == 200 {
				typ = ""
			}
			got = append(got, typ)
		}
		if got[0] != "" || got[1] != second {
			t.Errorf("KMS_SIGV4_REPEATS=%q: the same event twice answered %q", setting, got)
		}
	}
}
