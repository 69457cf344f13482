// Package functions_test runs the real function binaries the way the clouds
// run them: each is built once per test run, started under the AWS Lambda
// Runtime Interface Emulator or the project's Function Compute emulator, and
// invoked with every sample event in events/ that feeds it.
package functions_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/store/storetest"
	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

var (
	root   string // the module root
	binDir string // one binary per function, the kmsless command, loadgen, and hello, built for this machine
	rie    string // aws-lambda-rie, or "" when it could not be found or installed
	rieErr error
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	var err error
	if root, err = emulate.ModuleRoot("."); err != nil {
		return 0, err
	}
	tmp, err := os.MkdirTemp("", "functions-test")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	binDir = filepath.Join(tmp, "bin")
	// One go build for every function: it shares the compile work and keeps to
	// the machine's cores. Host architecture, deployment flags.
	cmd := emulate.GoCommand(context.Background(), root, "build", "-o", binDir+string(filepath.Separator),
		"./functions/...", "./cmd/kmsless", "./bench/cmd/loadgen", "./scripts/hello", "./scripts/hello-fc")
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("building the functions: %v\n%s", err, out)
	}
	rie, rieErr = emulate.FindRIE(context.Background())
	defer removeImages()
	return m.Run(), nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// row is one line of events/README.md: a sample and the function it feeds.
type row struct{ file, function string }

var readmeRow = regexp.MustCompile("(?m)^\\| `([^`]+\\.json)` \\| `([^`]+)` \\|")

func readmeRows(t *testing.T) []row {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "events", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []row
	for _, m := range readmeRow.FindAllStringSubmatch(string(b), -1) {
		rows = append(rows, row{file: m[1], function: m[2]})
	}
	if len(rows) == 0 {
		t.Fatal("events/README.md has no sample rows: every test over them would pass without running")
	}
	return rows
}

func TestEverySampleHasAREADMERowNamingAFunction(t *testing.T) {
	rows := readmeRows(t)
	listed := map[string]bool{}
	folders, _ := emulate.Functions(root)
	for _, r := range rows {
		listed[r.file] = true
		if !fileExists(filepath.Join(root, "events", r.file)) {
			t.Errorf("events/README.md lists %s, which does not exist", r.file)
		}
		if !slices.Contains(folders, r.function) {
			t.Errorf("events/README.md says %s feeds %s, which is not a folder of functions/", r.file, r.function)
		}
	}
	files, _ := filepath.Glob(filepath.Join(root, "events", "*", "*.json"))
	for _, f := range files {
		rel, _ := filepath.Rel(filepath.Join(root, "events"), f)
		if !listed[filepath.ToSlash(rel)] {
			t.Errorf("events/%s has no row in events/README.md saying which function it feeds", filepath.ToSlash(rel))
		}
	}
}

// expect is what a sample's invocation must answer. A direct invocation either
// succeeds with fields set (and absent ones missing) or fails with errorType;
// an HTTP trigger event answers an HTTP status, with an Alibaba error Code
// when it fails.
type expect struct {
	errorType string
	fields    []string
	absent    []string
	status    int
	code      string
}

var ciphertextFields = []string{"RequestId", "KeyId", "KeyVersionId", "CiphertextBlob"}

// expectations covers every sample; a new sample needs a line here.
var expectations = map[string]expect{
	"direct-generate-data-key-without-plaintext.json": {fields: ciphertextFields, absent: []string{"Plaintext"}},
	"direct-generate-data-key.json":                   {fields: append([]string{"Plaintext"}, ciphertextFields...)},
	"direct-encrypt.json":                             {fields: ciphertextFields},
	"direct-decrypt.json":                             {errorType: core.CodeInvalidCiphertext},
	"direct-re-encrypt.json":                          {errorType: core.CodeInvalidCiphertext},
	"direct-create-key.json":                          {fields: []string{"RequestId", "KeyMetadata"}},
	"direct-describe-key.json":                        {fields: []string{"RequestId", "KeyMetadata"}},
	"direct-get-partition-data-key.json":              {fields: append([]string{"PartitionId", "EncryptionContext"}, ciphertextFields...), absent: []string{"Plaintext"}},

	"function-url-generate-data-key-without-plaintext.json": {status: 200},
	"apigw-http-describe-key.json":                          {status: 200},
	"apigw-rest-encrypt.json":                               {status: 200},
	"function-url-decrypt-refuses-generate-data-key.json":   {status: 400, code: core.CodeInvalidParameter},
	"http-generate-data-key-without-plaintext.json":         {status: 200},
	"http-encrypt-form.json":                                {status: 200},
	"http-decrypt-refuses-generate-data-key.json":           {status: 400, code: core.CodeInvalidParameter},

	"provision-direct.json":          {fields: []string{"Created", "Results"}},
	"provision-sqs.json":             {fields: []string{"batchItemFailures"}},
	"provision-sns.json":             {fields: []string{"Created"}},
	"provision-eventbridge.json":     {fields: []string{"Created"}},
	"provision-mns-queue.json":       {fields: []string{"Created"}},
	"provision-mns-queue-batch.json": {fields: []string{"Created"}},
	"provision-mns-topic.json":       {fields: []string{"Created"}},

	"schedule-purge.json": {fields: []string{"DestroyedKeys", "DestroyedSecrets"}},
	"timer-purge.json":    {fields: []string{"DestroyedKeys", "DestroyedSecrets"}},
}

// fixture is the state every function instance starts from: the workspace
// (demo key, partition key, principals) plus a partition and a ciphertext made
// under the workspace's root key.
type fixture struct {
	ws        *emulate.Workspace
	blob      string // CiphertextBlob of plaintext under {"tenant":"acme"}
	plaintext string // base64
	expired   string // a key past its deletion date, for purge to destroy
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	ws, err := emulate.Prepare(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range ws.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	set, err := config.Read(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	svc, err := config.Wire(ctx, set, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	admin := &core.Principal{Name: "fixture", AccessKeyID: "fixture", Policy: core.FullAccess()}
	f := &fixture{ws: ws, plaintext: base64.StdEncoding.EncodeToString([]byte("data key for p-0001"))}
	resp, err := svc.KMS.Handle(ctx, &core.Request{ID: "fixture", Action: "Encrypt", Caller: admin,
		Params: core.Params{"KeyId": emulate.DemoAlias, "Plaintext": f.plaintext, "EncryptionContext": `{"tenant":"acme"}`}})
	if err != nil {
		t.Fatal(err)
	}
	f.blob = base64.StdEncoding.EncodeToString(resp.(core.Sealed).Blob)
	if _, _, err := svc.KMS.ProvisionPartition(ctx, admin, core.PartitionRequest{PartitionID: "p-0001", KeyID: set.PartitionKeyID}); err != nil {
		t.Fatal(err)
	}
	made, err := svc.KMS.Handle(ctx, &core.Request{ID: "fixture", Action: "CreateKey", Caller: admin})
	if err != nil {
		t.Fatal(err)
	}
	f.expired = made.(core.Key).ID
	storetest.Expire(t, svc.KMS.Store(), f.expired)
	return f
}

// store gives an instance its own copy of the fixture's store: an embedded
// store admits one process at a time.
func (f *fixture) store(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(f.ws.StorePath)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "kms.db")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// env is a function's environment as a deployment gives it: only the api
// function gets a principals file; the others answer what the platform
// authorized.
func (f *fixture) env(t testing.TB, function string) []string {
	env := f.ws.EnvWithStore(f.store(t))
	// Per-action functions start without principals, as deployed; decrypt
	// keeps them, since its HTTP samples are signed by a principal to show a
	// request for another action refused once the caller is known.
	if function != "api" && function != "decrypt" {
		env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "KMS_PRINCIPALS_FILE=") })
	}
	return env
}

func TestEverySampleUnderItsPlatformsEmulator(t *testing.T) {
	f := newFixture(t)
	rows := readmeRows(t)
	for _, plat := range []struct{ name, dir string }{{"lambda", "aws"}, {"fc", "fc"}} {
		t.Run(plat.name, func(t *testing.T) {
			if plat.name == "lambda" && rie == "" {
				t.Skipf("aws-lambda-rie is missing: %v", rieErr)
			}
			byFunction := map[string][]string{}
			for _, r := range rows {
				if strings.HasPrefix(r.file, plat.dir+"/") {
					byFunction[r.function] = append(byFunction[r.function], r.file)
				}
			}
			for fn, files := range byFunction {
				t.Run(fn, func(t *testing.T) {
					t.Parallel()
					r := start(t, plat.name, fn, f.env(t, fn))
					for _, file := range files {
						checkSample(t, r, f, file)
					}
					checkExtras(t, r, f, fn)
				})
			}
		})
	}
}

// launch runs a function binary (fn, or hello) under its platform's
// emulator; the caller stops it.
func launch(tb testing.TB, platform, fn string, env []string) emulate.Runner {
	tb.Helper()
	return launchBinary(tb, platform, fn, filepath.Join(binDir, fn), env)
}

// launchBinary runs the function fn's binary bin under its platform's
// emulator; the caller stops it.
func launchBinary(tb testing.TB, platform, fn, bin string, env []string) emulate.Runner {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		r   emulate.Runner
		err error
	)
	if platform == "lambda" {
		r, err = emulate.Lambda(ctx, rie, bin, env)
	} else {
		r, err = emulate.FC(ctx, fn, bin, env, 10*time.Second)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// start runs a function binary under its platform's emulator until the test
// ends, then checks that it closed its connections on the way out.
func start(t *testing.T, platform, fn string, env []string) emulate.Runner {
	t.Helper()
	return startBinary(t, platform, fn, filepath.Join(binDir, fn), env)
}

// startBinary is start with the function's binary at bin.
func startBinary(t *testing.T, platform, fn, bin string, env []string) emulate.Runner {
	t.Helper()
	r := launchBinary(t, platform, fn, bin, env)
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("stopping %s: %v", fn, err)
		}
		// SIGTERM on Lambda, the pre-stop hook on FC: the service closes.
		if !strings.Contains(r.Logs(), `"msg":"service closed"`) {
			t.Errorf("%s did not close its service on shutdown; logs:\n%s", fn, r.Logs())
		}
	})
	return r
}

func invoke(t *testing.T, r emulate.Runner, event []byte) emulate.Outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := r.Invoke(ctx, event)
	if err != nil {
		t.Fatalf("invoke: %v\n%s", err, r.Logs())
	}
	return out
}

func checkSample(t *testing.T, r emulate.Runner, f *fixture, file string) {
	t.Helper()
	want, ok := expectations[filepath.Base(file)]
	if !ok {
		t.Errorf("events/%s has no expectation in functions_test.go", file)
		return
	}
	event, err := os.ReadFile(filepath.Join(root, "events", file))
	if err != nil {
		t.Fatal(err)
	}
	if want.status == 0 {
		checkDirect(t, file, invoke(t, r, event), want)
		return
	}
	// As shipped, signed by a sample principal in 2025: refused.
	status, code := httpAnswer(t, file, invoke(t, r, event))
	if status < 400 || code == "" {
		t.Errorf("%s as shipped: HTTP %d %q; want an Alibaba error", file, status, code)
	}
	signed, err := emulate.Resign(event, f.ws.Caller, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if status, code = httpAnswer(t, file, invoke(t, r, signed)); status != want.status || code != want.code {
		t.Errorf("%s re-signed: HTTP %d %q; want %d %q", file, status, code, want.status, want.code)
	}
}

func checkDirect(t *testing.T, file string, out emulate.Outcome, want expect) {
	t.Helper()
	if want.errorType != "" {
		if out.ErrorType != want.errorType || out.ErrorMessage == "" {
			t.Errorf("%s: answered %s %q (%s); want function error %s", file, out.ErrorType, out.ErrorMessage, out.Payload, want.errorType)
		}
		return
	}
	if out.Failed() {
		t.Errorf("%s: function error %s: %s", file, out.ErrorType, out.ErrorMessage)
		return
	}
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(out.Payload, &resp); err != nil {
		t.Errorf("%s: response %s is not a JSON object", file, out.Payload)
		return
	}
	for _, k := range want.fields {
		if v := resp[k]; len(v) == 0 || string(v) == `""` || string(v) == "null" {
			t.Errorf("%s: response lacks %s: %s", file, k, out.Payload)
		}
	}
	for _, k := range want.absent {
		if _, ok := resp[k]; ok {
			t.Errorf("%s: response carries %s: %s", file, k, out.Payload)
		}
	}
}

// httpAnswer decodes an HTTP trigger's answer: its status and the Code of an
// Alibaba error body.
func httpAnswer(t *testing.T, file string, out emulate.Outcome) (int, string) {
	t.Helper()
	if out.Failed() {
		t.Fatalf("%s: an HTTP event ended in a function error %s: %s", file, out.ErrorType, out.ErrorMessage)
	}
	var resp struct {
		StatusCode      int    `json:"statusCode"`
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(out.Payload, &resp); err != nil || resp.StatusCode == 0 {
		t.Fatalf("%s: answer %s is not an HTTP trigger response", file, out.Payload)
	}
	var body struct {
		Code      string
		RequestId string
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || body.RequestId == "" || resp.IsBase64Encoded {
		t.Errorf("%s: body %q is not an Alibaba JSON response", file, resp.Body)
	}
	return resp.StatusCode, body.Code
}

// logsCome reports whether r's log comes to hold each of lines within 10 s:
// the emulators relay a function's log lines on their own path, which may
// trail the invocation's answer.
func logsCome(r emulate.Runner, lines ...string) bool {
	all := func() bool {
		logs := r.Logs()
		for _, l := range lines {
			if !strings.Contains(logs, l) {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(10 * time.Second); !all() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	return all()
}

// checkExtras runs what the shipped samples cannot show because it depends on
// this installation's root key: decrypting for real, and re-encrypting.
func checkExtras(t *testing.T, r emulate.Runner, f *fixture, fn string) {
	t.Helper()
	switch fn {
	case "decrypt":
		out := invoke(t, r, fmt.Appendf(nil, `{"CiphertextBlob":%q,"EncryptionContext":{"tenant":"acme"}}`, f.blob))
		var resp struct{ Plaintext string }
		_ = json.Unmarshal(out.Payload, &resp)
		if out.Failed() || resp.Plaintext != f.plaintext {
			t.Errorf("Decrypt of this installation's blob: %s %s %s", out.ErrorType, out.ErrorMessage, out.Payload)
		}
		out = invoke(t, r, fmt.Appendf(nil, `{"CiphertextBlob":%q,"EncryptionContext":{"tenant":"other"}}`, f.blob))
		if out.ErrorType != core.CodeInvalidCiphertext {
			t.Errorf("Decrypt under another context answered %s %s", out.ErrorType, out.Payload)
		}
	case "re-encrypt":
		out := invoke(t, r, fmt.Appendf(nil, `{"CiphertextBlob":%q,"SourceEncryptionContext":{"tenant":"acme"},"DestinationKeyId":%q}`, f.blob, emulate.DemoAlias))
		var resp struct{ CiphertextBlob string }
		_ = json.Unmarshal(out.Payload, &resp)
		if out.Failed() || resp.CiphertextBlob == "" || resp.CiphertextBlob == f.blob {
			t.Errorf("ReEncrypt of this installation's blob: %s %s %s", out.ErrorType, out.ErrorMessage, out.Payload)
		}
	case "purge":
		// The sample's invocation destroyed the fixture's expired key.
		if !logsCome(r, f.expired, `"eventName":"DeleteKey"`) {
			t.Errorf("purge did not name the expired key %s in its log and audit trail:\n%s", f.expired, r.Logs())
		}
		out := invoke(t, r, []byte(`{}`))
		if out.Failed() || string(out.Payload) != `{"DestroyedKeys":[],"DestroyedSecrets":[]}` {
			t.Errorf("purge run again: %s %s %s", out.ErrorType, out.ErrorMessage, out.Payload)
		}
		if out := invoke(t, r, []byte(`["now"]`)); out.ErrorType != core.CodeInvalidParameter {
			t.Errorf("purge given a list: %s %s", out.ErrorType, out.Payload)
		}
	case "generate-data-key-without-plaintext":
		// The platform's invoke permission grants this action only.
		out := invoke(t, r, []byte(`{"Action":"Decrypt","CiphertextBlob":"AAAA"}`))
		if out.ErrorType != core.CodeInvalidParameter {
			t.Errorf("an event for another action answered %s %s", out.ErrorType, out.Payload)
		}
	case "api":
		out := invoke(t, r, []byte(`{"Action":"CreateKey"}`))
		if out.ErrorType != core.CodeInvalidParameter {
			t.Errorf("a direct invocation of the api function answered %s %s", out.ErrorType, out.Payload)
		}
	}
}
