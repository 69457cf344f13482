package emulate_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/platform"
	"github.com/kmsless/kmsless/infra/trigger"
	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

var httpSamples = []string{
	"aws/apigw-rest-encrypt.json",
	"aws/apigw-http-describe-key.json",
	"aws/function-url-generate-data-key-without-plaintext.json",
	"fc/http-encrypt-form.json",
	"fc/http-generate-data-key-without-plaintext.json",
}

// answer runs an HTTP trigger event through the api function in this process
// and returns the response's status and Alibaba error Code (if any).
func answer(t *testing.T, fn platform.Function, event []byte) (int, string) {
	t.Helper()
	out, err := fn.Handler(context.Background(), event)
	if err != nil {
		t.Fatalf("the api function failed: %v", err)
	}
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal(out.(json.RawMessage), &resp); err != nil {
		t.Fatal(err)
	}
	var body struct{ Code string }
	_ = json.Unmarshal([]byte(resp.Body), &body)
	return resp.StatusCode, body.Code
}

func apiFunction(t *testing.T) (platform.Function, *emulate.Workspace) {
	t.Helper()
	ws, err := emulate.Prepare(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range ws.Env() {
		k, v, _ := cut(kv)
		env[k] = v
	}
	svc := wireEnv(t, env)
	return platform.API(svc), ws
}

func TestResignedSamplesPassTheSignatureCheck(t *testing.T) {
	fn, ws := apiFunction(t)
	for _, name := range httpSamples {
		event, err := emulate.Resign(read(t, name), ws.Caller, time.Now())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if status, code := answer(t, fn, event); status != 200 {
			t.Errorf("%s re-signed: status %d %s; want 200", name, status, code)
		}
	}
}

func TestSamplesAsShippedAreRefused(t *testing.T) {
	fn, _ := apiFunction(t)
	for _, name := range httpSamples {
		// Signed by a sample principal this workspace does not know, in 2025.
		if status, code := answer(t, fn, read(t, name)); status < 400 || code == "" {
			t.Errorf("%s as shipped: status %d %q; want an Alibaba error", name, status, code)
		}
	}
}

func TestResignLeavesDirectEventsAlone(t *testing.T) {
	event := read(t, "aws/direct-describe-key.json")
	got, err := emulate.Resign(event, emulate.Credentials{AccessKeyID: "a", Secret: "b"}, time.Now())
	if err != nil || string(got) != string(event) {
		t.Fatalf("Resign changed a direct event: %v\n%s", err, got)
	}
}

func TestPrepareSeedsTheDemoKeyOnce(t *testing.T) {
	dir := t.TempDir()
	first, err := emulate.Prepare(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	second, err := emulate.Prepare(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if first.Caller != second.Caller || first.Caller.AccessKeyID == "" {
		t.Fatalf("the workspace principal changed: %v then %v", first.Caller.AccessKeyID, second.Caller.AccessKeyID)
	}
	env := map[string]string{}
	for _, kv := range second.Env() {
		k, v, _ := cut(kv)
		env[k] = v
	}
	svc := wireEnv(t, env)
	admin := &core.Principal{Name: "t", AccessKeyID: "t", Policy: core.FullAccess()}
	resp, err := svc.KMS.Handle(context.Background(), &core.Request{ID: "t", Action: "ListAliases", Params: core.Params{}, Caller: admin})
	if err != nil {
		t.Fatal(err)
	}
	aliases := resp.(core.Listing[core.Alias]).Items
	if len(aliases) != 2 || aliases[0].Name != emulate.DemoAlias || aliases[1].Name != "alias/partitions" || aliases[0].KeyID != aliases[1].KeyID {
		t.Fatalf("aliases %+v; want %s and alias/partitions, once each, on one key", aliases, emulate.DemoAlias)
	}
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trigger.Detect(b); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

func TestSamplesSignedWithAWrongSecretAreRefused(t *testing.T) {
	fn, ws := apiFunction(t)
	wrong := emulate.Credentials{AccessKeyID: ws.Caller.AccessKeyID, Secret: ws.Caller.Secret + "x"}
	for _, name := range httpSamples {
		event, err := emulate.Resign(read(t, name), wrong, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if status, code := answer(t, fn, event); status != 400 || code != core.CodeSignatureDoesNotMatch {
			t.Errorf("%s: status %d %q; want 400 SignatureDoesNotMatch", name, status, code)
		}
	}
}
