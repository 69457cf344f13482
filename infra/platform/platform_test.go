package platform

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	fcmessages "github.com/aliyun/fc-runtime-go-sdk/fc/messages"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/edge"
	"github.com/kmsless/kmsless/infra/trigger"
)

func TestFunctionNameIsTheFolderOfTheAction(t *testing.T) {
	for action, want := range map[string]string{
		"GenerateDataKeyWithoutPlaintext": "generate-data-key-without-plaintext",
		"ReEncrypt":                       "re-encrypt",
		"Decrypt":                         "decrypt",
	} {
		if got := FunctionName(action); got != want {
			t.Errorf("FunctionName(%s) = %s; want %s", action, got, want)
		}
	}
}

func TestFunctionErrorTypeIsTheKMSCode(t *testing.T) {
	notFound := core.Errorf(core.CodeKeyNotFound, "The key %q does not exist.", "k")
	// Exactly these types: the runtimes report their Type as errorType.
	if got := LambdaError(notFound).(messages.InvokeResponse_Error); got.Type != "Forbidden.KeyNotFound" || got.Message != notFound.Message || got.StackTrace != nil {
		t.Errorf("LambdaError = %#v", got)
	}
	if got := FCError(notFound).(fcmessages.InvokeResponse_Error); got.Type != "Forbidden.KeyNotFound" || got.Message != notFound.Message || got.StackTrace != nil {
		t.Errorf("FCError = %#v", got)
	}
	// An error that is not a KMS error says nothing of its internals.
	internal := errors.New("dial tcp 10.0.0.5:5432: connection refused")
	got := LambdaError(internal).(messages.InvokeResponse_Error)
	if got.Type != core.CodeInternalFailure || strings.Contains(got.Message, "10.0.0.5") {
		t.Errorf("LambdaError(internal) = %#v", got)
	}
}

func TestInvokeTurnsAPanicIntoInternalFailure(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	out, err := invoke(context.Background(), edge.New(log), func(context.Context, json.RawMessage) (any, error) {
		panic("secret-looking panic value")
	}, json.RawMessage(`{}`))
	if out != nil || core.AsError(err).Code != core.CodeInternalFailure {
		t.Fatalf("invoke = %s, %v; want InternalFailure", out, err)
	}
	if strings.Contains(logs.String(), "secret-looking") || !strings.Contains(logs.String(), "panic of type string") {
		t.Fatalf("log %q: want the panic's type, not its value", logs.String())
	}
}

func TestInvokePassesRawJSONThrough(t *testing.T) {
	out, err := invoke(context.Background(), edge.New(nil), func(context.Context, json.RawMessage) (any, error) {
		return json.RawMessage(`{"a":1}`), nil
	}, nil)
	if err != nil || string(out) != `{"a":1}` {
		t.Fatalf("invoke = %s, %v", out, err)
	}
}

func TestFCHandlerRefusesAnEventThatIsNotJSON(t *testing.T) {
	h := fcHandler(edge.New(nil), trigger.Router{Direct: func(context.Context, []byte) (any, error) { return "answered", nil }}.Handle)
	out, err := h(context.Background(), []byte(`{"KeyId":`))
	if got, ok := err.(fcmessages.InvokeResponse_Error); !ok || got.Type != core.CodeInvalidParameter {
		t.Fatalf("handler = %s, %#v; want an InvalidParameter function error", out, err)
	}
}

// TestFCHandlerRunsInvocationsAtOnce: with instance concurrency, Function
// Compute delivers an invocation while others run; none may wait for another.
func TestFCHandlerRunsInvocationsAtOnce(t *testing.T) {
	const n = 4
	var arrived sync.WaitGroup
	arrived.Add(n)
	h := fcHandler(edge.New(nil), func(context.Context, json.RawMessage) (any, error) {
		arrived.Done()
		arrived.Wait() // returns only once all n are in the handler together
		return json.RawMessage(`"ok"`), nil
	})
	results := make(chan error, n)
	// The second round runs on the first round's workers, idle by then.
	for round := range 2 {
		if round > 0 {
			arrived.Add(n)
		}
		for range n {
			go func() {
				_, err := h(context.Background(), []byte(`{}`))
				results <- err
			}()
		}
		for range n {
			if err := <-results; err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestServeDrainsRequestsInFlightOnShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, h, slog.New(slog.DiscardHandler)) }()
	answered := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			answered <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- string(b)
	}()
	<-entered
	stop() // Ctrl-C while a request is in flight
	time.Sleep(50 * time.Millisecond)
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), 200*time.Millisecond); err == nil {
		t.Error("the server still accepts connections after shutdown began")
	}
	close(release)
	if got := <-answered; got != "done" {
		t.Fatalf("the request in flight got %q", got)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve returned %v after a clean shutdown", err)
	}
}

// wire makes a local service on a temporary data dir.
func wire(t *testing.T, env map[string]string) *config.Service {
	t.Helper()
	dir := t.TempDir()
	raw, _ := core.GenerateRootKey()
	base := map[string]string{"KMS_DATA_DIR": dir, "KMS_STORE": "bolt://" + filepath.Join(dir, "kms.db"), "KMS_ROOT_KEY": base64.StdEncoding.EncodeToString(raw)}
	for k, v := range env {
		base[k] = v
	}
	set, err := config.Read(func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	svc, err := config.Wire(context.Background(), set, slog.New(slog.DiscardHandler), config.PrincipalsOptional())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

func TestBannerPrintsTheDevelopmentPrincipalItMade(t *testing.T) {
	svc := wire(t, nil)
	var out bytes.Buffer
	Banner(&out, svc, "127.0.0.1:8080", nil)
	aws := "AWS_ACCESS_KEY_ID=" + svc.DevPrincipal.AccessKeyID + " AWS_SECRET_ACCESS_KEY=" + string(svc.DevPrincipal.Secret.Bytes()) +
		" aws --endpoint-url http://127.0.0.1:8080 --region " + svc.KMS.Region() + " kms list-keys\n"
	for _, want := range []string{"http://127.0.0.1:8080", svc.DevPrincipal.AccessKeyID, string(svc.DevPrincipal.Secret.Bytes()), aws} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out.String())
		}
	}
}

// TestBannerExamplesDialLoopbackForEveryAddress: a server listening on every
// address, as the container image's does, is named as it listens on the
// first line, and its examples reach it on 127.0.0.1.
func TestBannerExamplesDialLoopbackForEveryAddress(t *testing.T) {
	svc := wire(t, nil)
	for _, listen := range []string{"[::]:8080", "0.0.0.0:8080", ":8080"} {
		var out bytes.Buffer
		Banner(&out, svc, listen, nil)
		first, rest, _ := strings.Cut(out.String(), "\n")
		if !strings.HasSuffix(first, "http://"+listen) {
			t.Errorf("%s: first line %q", listen, first)
		}
		if !strings.Contains(rest, `Endpoint: tea.String("127.0.0.1:8080")`) || !strings.Contains(rest, "--endpoint-url http://127.0.0.1:8080 ") {
			t.Errorf("%s: examples do not dial 127.0.0.1:8080:\n%s", listen, rest)
		}
	}
}

func TestAPIRefusesDirectInvocations(t *testing.T) {
	fn := API(wire(t, nil))
	_, err := fn.Handler(context.Background(), json.RawMessage(`{"Action":"CreateKey"}`))
	if core.AsError(err).Code != core.CodeInvalidParameter {
		t.Fatalf("err = %v; want InvalidParameter", err)
	}
	if fn.HTTP == nil {
		t.Fatal("the api function has no local server")
	}
}

func TestActionFunctionRunsItsActionWithoutPrincipalsInACloudRuntime(t *testing.T) {
	svc := wire(t, map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"})
	if svc.Principals.Len() != 0 {
		t.Fatalf("%d principals; want none without KMS_PRINCIPALS_FILE", svc.Principals.Len())
	}
	fn := Action(svc, "CreateKey")
	if fn.Name != "create-key" || fn.HTTP != nil {
		t.Fatalf("function %q serves locally: %v", fn.Name, fn.HTTP != nil)
	}
	out, err := fn.Handler(context.Background(), json.RawMessage(`{"Description":"made by a direct invocation"}`))
	if err != nil {
		t.Fatal(err)
	}
	if meta := out.(*alibaba.KeyMetadataResponse).KeyMetadata; meta.Description != "made by a direct invocation" || meta.KeyState != "Enabled" {
		t.Fatalf("CreateKey answered %+v", meta)
	}
}

// serveCounting serves a handler that counts its calls on a loopback listener
// until the test ends, and returns the address.
func serveCounting(t *testing.T, calls *atomic.Int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			_, _ = io.WriteString(w, strconv.Itoa(len(r.URL.Query().Get("SourceEncryptionContext"))))
		}), slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func TestServeRefusesAnOversizedHeaderBlockBeforeTheHandler(t *testing.T) {
	var calls atomic.Int64
	addr := serveCounting(t, &calls)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var req bytes.Buffer
	req.WriteString("POST / HTTP/1.1\r\nHost: " + addr + "\r\n")
	for i := 0; req.Len() < MaxHeaderBytes+64<<10; i++ {
		fmt.Fprintf(&req, "X-Acs-H%06d: %s\r\n", i, strings.Repeat("v", 100))
	}
	req.WriteString("Content-Length: 0\r\n\r\n")
	// The server answers as soon as it has read past the bound and may stop
	// reading, so the rest of the write can fail; the answer is what counts.
	go func() { _, _ = conn.Write(req.Bytes()) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("the handler ran %d times", n)
	}
}

// TestServeReadsTheLargestLegalRequest: the header bound must not refuse a
// request the contract allows. The largest is a ReEncrypt sent as the Go SDK
// sends it, every parameter in the query string, with two EncryptionContexts of
// 8192 characters of four bytes each.
func TestServeReadsTheLargestLegalRequest(t *testing.T) {
	var calls atomic.Int64
	addr := serveCounting(t, &calls)
	ec := `{"k":"` + strings.Repeat("🔑", core.MaxEncryptionContextLen-8) + `"}`
	if n := utf8.RuneCountInString(ec); n != core.MaxEncryptionContextLen {
		t.Fatalf("the context has %d characters", n)
	}
	q := url.Values{
		"SourceEncryptionContext":      {ec},
		"DestinationEncryptionContext": {ec},
		"CiphertextBlob":               {base64.StdEncoding.EncodeToString(make([]byte, core.MaxEncryptPlaintext+256))},
		"SourceKeyId":                  {"key-0123456789abcdefghijklmn"},
		"DestinationKeyId":             {"alias/" + strings.Repeat("a", 200)},
	}
	u := "http://" + addr + "/?" + strings.ReplaceAll(q.Encode(), "+", "%20")
	if len(u) < 200<<10 {
		t.Fatalf("the request line is only %d bytes", len(u))
	}
	req, err := http.NewRequest(http.MethodPost, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256", "user-agent", "accept"} {
		req.Header.Set(h, strings.Repeat("v", 64))
	}
	req.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential=LTAI5tExample0000000001,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="+strings.Repeat("0", 64))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != strconv.Itoa(len(ec)) || calls.Load() != 1 {
		t.Fatalf("status %d %q after %d handler calls, want the handler to read the request", resp.StatusCode, body, calls.Load())
	}
}
