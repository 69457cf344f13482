package sign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/kmsless/kmsless/core"
)

// SigV4 requests are signed with the AWS SDK's own signer, so what
// VerifySigV4 accepts is what the SDKs send.

const v4Region = "eu-central-1"

// v4Request is an AWS KMS request signed at t0 by the test principal, as the
// server receives it.
func v4Request(t testing.TB, body string, edit func(*http.Request)) (*http.Request, []byte) {
	t.Helper()
	r, _ := http.NewRequest(http.MethodPost, "http://"+testHost+"/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "TrentService.GenerateDataKeyWithoutPlaintext")
	r.Header.Set("Amz-Sdk-Invocation-Id", "7f0c1b6e-8f4e-4b7c-9d7a-0d6f0a9a8b1c")
	r.Header.Add("X-Custom", "a   b ")
	r.Header.Add("X-Custom", " c")
	if edit != nil {
		edit(r)
	}
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: testID, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "kms", v4Region, t0); err != nil {
		t.Fatal(err)
	}
	return r, []byte(body)
}

func TestSigV4AcceptsTheSDKSigner(t *testing.T) {
	r, body := v4Request(t, `{"KeyId":"alias/x","KeySpec":"AES_256"}`, nil)
	res, err := VerifySigV4(r, body, testDir(t), v4Region, t0.Add(4*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if res.Principal.Name != "tester" || res.Action != "TrentService.GenerateDataKeyWithoutPlaintext" ||
		res.Nonce == "" || !res.Expires.Equal(t0.Add(SigV4Skew)) {
		t.Errorf("result %+v", res)
	}
}

func TestSigV4RefusesEveryChange(t *testing.T) {
	const body = `{"KeyId":"alias/x","KeySpec":"AES_256"}`
	for _, c := range []struct {
		name   string
		change func(r *http.Request) []byte
		now    time.Time
		region string
		code   string
	}{
		{"body", func(r *http.Request) []byte { return []byte(`{"KeyId":"alias/y","KeySpec":"AES_256"}`) }, t0, v4Region, core.CodeSignatureDoesNotMatch},
		{"target", func(r *http.Request) []byte { r.Header.Set("X-Amz-Target", "TrentService.GenerateDataKey"); return nil }, t0, v4Region, core.CodeSignatureDoesNotMatch},
		{"host", func(r *http.Request) []byte { r.Host = "evil.example"; return nil }, t0, v4Region, core.CodeSignatureDoesNotMatch},
		{"signed custom header", func(r *http.Request) []byte { r.Header.Set("X-Custom", "z"); return nil }, t0, v4Region, core.CodeSignatureDoesNotMatch},
		{"content hash header", func(r *http.Request) []byte {
			r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64))
			return nil
		}, t0, v4Region, core.CodeSignatureDoesNotMatch},
		{"region", nil, t0, "us-east-1", core.CodeSignatureDoesNotMatch},
		{"six minutes late", nil, t0.Add(6 * time.Minute), v4Region, core.CodeIllegalTimestamp},
		{"six minutes early", nil, t0.Add(-6 * time.Minute), v4Region, core.CodeIllegalTimestamp},
		{"unknown key", func(r *http.Request) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testID, "AKIAUNKNOWN", 1))
			return nil
		}, t0, v4Region, core.CodeInvalidAccessKeyID},
		{"another principal's key ID", func(r *http.Request) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testID, "LTAI5tOtherPrincipal2", 1))
			return nil
		}, t0, v4Region, core.CodeSignatureDoesNotMatch},
		{"target unsigned", func(r *http.Request) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-amz-target", "", 1))
			return nil
		}, t0, v4Region, core.CodeIncompleteSignature},
		{"target twice", func(r *http.Request) []byte { r.Header.Add("X-Amz-Target", "TrentService.Decrypt"); return nil }, t0, v4Region, core.CodeIncompleteSignature},
		{"no authorization", func(r *http.Request) []byte { r.Header.Del("Authorization"); return nil }, t0, v4Region, core.CodeIncompleteSignature},
		{"another algorithm", func(r *http.Request) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1))
			return nil
		}, t0, v4Region, core.CodeIncompleteSignature},
		{"another service", func(r *http.Request) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/kms/", "/s3/", 1))
			return nil
		}, t0, v4Region, core.CodeSignatureDoesNotMatch},
		{"short signature", func(r *http.Request) []byte {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-2])
			return nil
		}, t0, v4Region, core.CodeIncompleteSignature},
		{"session token", func(r *http.Request) []byte { r.Header.Set("X-Amz-Security-Token", "t"); return nil }, t0, v4Region, core.CodeInvalidAccessKeyID},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, b := v4Request(t, body, nil)
			if c.change != nil {
				if nb := c.change(r); nb != nil {
					b = nb
				}
			}
			_, err := VerifySigV4(r, b, testDir(t), c.region, c.now)
			if got := core.AsError(err); got == nil || got.Code != c.code {
				t.Fatalf("want %s, got %v", c.code, err)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Fatalf("the secret is in the error: %v", err)
			}
		})
	}
}

func TestSigV4EachRequestIsItsOwnNonce(t *testing.T) {
	a, body := v4Request(t, `{}`, nil)
	b, _ := v4Request(t, `{}`, func(r *http.Request) { r.Header.Set("Amz-Sdk-Invocation-Id", "another") })
	ra, err1 := VerifySigV4(a, body, testDir(t), v4Region, t0)
	rb, err2 := VerifySigV4(b, body, testDir(t), v4Region, t0)
	if err1 != nil || err2 != nil || ra.Nonce == rb.Nonce {
		t.Fatalf("two SDK invocations share a nonce: %v %v", err1, err2)
	}
}

// TestSigV4RepeatableWithoutAnInvocationID: only a signed invocation ID tells
// two calls apart that were signed within one second with the same body;
// one sent unsigned, as botocore sends it, could be anyone's.
func TestSigV4RepeatableWithoutAnInvocationID(t *testing.T) {
	noID := func(r *http.Request) { r.Header.Del("Amz-Sdk-Invocation-Id") }
	unsigned, body := v4Request(t, `{}`, noID)
	unsigned.Header.Set("Amz-Sdk-Invocation-Id", "added-after-signing")
	signedEmpty, _ := v4Request(t, `{}`, func(r *http.Request) { r.Header.Set("Amz-Sdk-Invocation-Id", "") })
	signedBlank, _ := v4Request(t, `{}`, func(r *http.Request) { r.Header["Amz-Sdk-Invocation-Id"] = []string{" ", ""} })
	secondValue, _ := v4Request(t, `{}`, func(r *http.Request) { r.Header["Amz-Sdk-Invocation-Id"] = []string{"", "5b0c2d1e"} })
	cases := []struct {
		name string
		edit func(*http.Request)
		r    *http.Request
		want bool
	}{
		{name: "signed", want: false},
		{name: "absent", edit: noID, want: true},
		{name: "sent unsigned", r: unsigned, want: true},
		{name: "signed but empty", r: signedEmpty, want: true},
		{name: "signed but blank, twice", r: signedBlank, want: true},
		{name: "signed, in its second value", r: secondValue, want: false},
	}
	for _, c := range cases {
		r := c.r
		if r == nil {
			r, _ = v4Request(t, `{}`, c.edit)
		}
		res, err := VerifySigV4(r, body, testDir(t), v4Region, t0)
		if err != nil || res.Repeatable != c.want {
			t.Errorf("invocation ID %s: Repeatable %v, %v; want %v", c.name, res.Repeatable, err, c.want)
		}
	}
}

func BenchmarkVerifySigV4(b *testing.B) {
	r, body := v4Request(b, `{"KeyId":"alias/x","KeySpec":"AES_256"}`, nil)
	dir := testDir(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifySigV4(r, body, dir, v4Region, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzVerifySigV4 checks that any Authorization, date and target headers end
// in a refusal with one of the signature codes, never a panic, and that only
// a genuine signature is accepted.
func FuzzVerifySigV4(f *testing.F) {
	r, body := v4Request(f, `{}`, nil)
	f.Add(r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date"), r.Header.Get("X-Amz-Target"))
	f.Add("AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=00", "20260301T120000Z", "TrentService.Decrypt")
	f.Add("AWS4-HMAC-SHA256 Credential="+testID+"/20260301/"+v4Region+"/kms/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="+strings.Repeat("0", 64), "20260301T120000Z", "x")
	f.Add("", "", "")
	genuine := r.Header.Get("Authorization")
	f.Fuzz(func(t *testing.T, auth, date, target string) {
		req := r.Clone(context.Background())
		req.Header.Set("Authorization", auth)
		req.Header.Set("X-Amz-Date", date)
		req.Header.Set("X-Amz-Target", target)
		res, err := VerifySigV4(req, body, testDir(t), v4Region, t0)
		if err != nil {
			switch core.AsError(err).Code {
			case core.CodeIncompleteSignature, core.CodeSignatureDoesNotMatch, core.CodeInvalidAccessKeyID, core.CodeIllegalTimestamp:
				return
			}
			t.Fatalf("unexpected error %v", err)
		}
		if auth != genuine || res.Principal == nil {
			t.Fatalf("accepted %q", auth)
		}
	})
}
