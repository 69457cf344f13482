package trigger_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/edge"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/store/bolt"
	"github.com/kmsless/kmsless/infra/trigger"
)

// newKMS is a real service on an embedded store, with one key.
func newKMS(t *testing.T) (*core.Service, string) {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "kms.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	raw, _ := core.GenerateRootKey()
	root, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	kms, err := core.New(core.Config{Store: store, Root: root, Region: "cn-hangzhou", AccountID: "0000000000000000"})
	if err != nil {
		t.Fatal(err)
	}
	admin := &core.Principal{Name: "admin", AccessKeyID: "admin", Policy: core.FullAccess()}
	resp, err := kms.Handle(context.Background(), &core.Request{ID: "setup", Action: "CreateKey", Params: core.Params{}, Caller: admin})
	if err != nil {
		t.Fatal(err)
	}
	return kms, resp.(core.Key).ID
}

func TestInvokerRunsItsActionAsTheInvokePrincipal(t *testing.T) {
	kms, keyID := newKMS(t)
	iv := trigger.Invoker{KMS: kms, Edge: edge.New(nil), Action: "GenerateDataKeyWithoutPlaintext", Caller: trigger.InvokePrincipal("generate-data-key-without-plaintext", keyResources, "GenerateDataKeyWithoutPlaintext")}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-request-1"})
	resp, err := iv.Invoke(ctx, []byte(`{"KeyId":"`+keyID+`","NumberOfBytes":16,"EncryptionContext":{"partition":"p-1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := resp.(*alibaba.CiphertextResponse)
	if got.KeyId != keyID || got.CiphertextBlob == "" || got.RequestId != "lambda-request-1" {
		t.Fatalf("response %+v: want the key, a blob and the platform's request ID", got)
	}
}

func TestInvokerRefusesAnEventForAnotherAction(t *testing.T) {
	kms, keyID := newKMS(t)
	iv := trigger.Invoker{KMS: kms, Edge: edge.New(nil), Action: "Decrypt", Caller: trigger.InvokePrincipal("decrypt", keyResources, "Decrypt")}
	_, err := iv.Invoke(context.Background(), []byte(`{"Action":"GenerateDataKey","KeyId":"`+keyID+`"}`))
	var ke *core.Error
	if !errors.As(err, &ke) || ke.Code != core.CodeInvalidParameter {
		t.Fatalf("err = %v; want InvalidParameter", err)
	}
}

// The action an event names is the caller's text: its message quotes it cut
// between characters, so that the message stays valid UTF-8.
func TestInvokerQuotesAnotherActionAsText(t *testing.T) {
	kms, _ := newKMS(t)
	iv := trigger.Invoker{KMS: kms, Edge: edge.New(nil), Action: "Decrypt", Caller: trigger.InvokePrincipal("decrypt", keyResources, "Decrypt")}
	_, err := iv.Invoke(context.Background(), []byte(`{"Action":"`+strings.Repeat("a", 63)+`é"}`))
	var ke *core.Error
	if !errors.As(err, &ke) || ke.Code != core.CodeInvalidParameter || !utf8.ValidString(ke.Message) {
		t.Fatalf("err = %q; want InvalidParameter in valid UTF-8", err)
	}
}

func TestInvokerReportsTheActionsErrorCode(t *testing.T) {
	kms, _ := newKMS(t)
	iv := trigger.Invoker{KMS: kms, Edge: edge.New(nil), Action: "DescribeKey", Caller: trigger.InvokePrincipal("describe-key", keyResources, "DescribeKey")}
	_, err := iv.Invoke(context.Background(), []byte(`{"KeyId":"alias/missing"}`))
	var ke *core.Error
	if !errors.As(err, &ke) || ke.Code != core.CodeAliasNotFound {
		t.Fatalf("err = %v; want Forbidden.AliasNotFound", err)
	}
}

// keyResources are the resources of a per-action function on keys.
var keyResources = []string{"acs:kms:cn-hangzhou:0000000000000000:key/*", "acs:kms:cn-hangzhou:0000000000000000:alias/*"}

func TestInvokePrincipalIsAllowedItsOwnActionsOnly(t *testing.T) {
	p := trigger.InvokePrincipal("decrypt", keyResources, "Decrypt")
	if !p.Policy.Allowed("kms:Decrypt", "acs:kms:cn-hangzhou:0000000000000000:key/k") {
		t.Error("the decrypt function's principal may not Decrypt")
	}
	for _, r := range []string{"acs:kms:cn-hangzhou:0000000000000000:partition/p-1", "acs:kms:cn-hangzhou:0000000000000000:key", "acs:kms:cn-shanghai:0000000000000000:key/k"} {
		if p.Policy.Allowed("kms:Decrypt", r) {
			t.Errorf("the decrypt function's principal may Decrypt %s", r)
		}
	}
	for _, a := range []string{"kms:Encrypt", "kms:GenerateDataKey", "kms:CreateKey"} {
		if p.Policy.Allowed(a) {
			t.Errorf("the decrypt function's principal may %s", a)
		}
	}
}

func TestDirectInvocationIsThrottledWithAlibabasCode(t *testing.T) {
	store, err := bolt.Open(filepath.Join(t.TempDir(), "kms.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	raw, _ := core.GenerateRootKey()
	root, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	kms, err := core.New(core.Config{Store: store, Root: root, Region: "cn-hangzhou", AccountID: "0000000000000000", Limiter: inproc.NewLimiter(), QPS: 1, Burst: 1})
	if err != nil {
		t.Fatal(err)
	}
	iv := trigger.Invoker{KMS: kms, Edge: edge.New(nil), Action: "DescribeKey", Caller: trigger.InvokePrincipal("describe-key", keyResources, "DescribeKey")}
	var ke *core.Error
	for range 3 {
		if _, err = iv.Invoke(context.Background(), []byte(`{"KeyId":"alias/missing"}`)); errors.As(err, &ke) && ke.Code != core.CodeAliasNotFound {
			break
		}
	}
	if ke == nil || ke.Code != "Rejected.Throttling" || ke.RetryAfter <= 0 {
		t.Fatalf("err = %v; want Rejected.Throttling with a RetryAfter", err)
	}
}
