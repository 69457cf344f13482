package fcemu_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/infra/fcemu"
	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

var echoBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fcemu-test")
	if err != nil {
		panic(err)
	}
	echoBinary = filepath.Join(dir, "echo")
	if out, err := emulate.GoCommand(context.Background(), ".", "build", "-o", echoBinary, "./testdata/echo").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the echo function: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// start runs the echo function (built on the real fc-runtime-go-sdk) under an
// emulator instance.
func start(t *testing.T, opts fcemu.Options) (*fcemu.Instance, string) {
	t.Helper()
	marker := filepath.Join(t.TempDir(), "prestop")
	cmd := exec.Command(echoBinary)
	cmd.Env = append(os.Environ(), "ECHO_PRESTOP_FILE="+marker)
	in, err := fcemu.Start(opts, "127.0.0.1:0", cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Stop(context.Background(), time.Second) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := in.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return in, marker
}

func TestFunctionGetsTheInvocationHeadersTheSDKRequires(t *testing.T) {
	in, _ := start(t, fcemu.Options{FunctionName: "echo", Timeout: 3 * time.Second})
	before := time.Now()
	res, err := in.Invoke(context.Background(), []byte(`{}`))
	if err != nil || res.Error != nil {
		t.Fatalf("invoke: %v %v", err, res.Error)
	}
	var a struct {
		RequestID      string `json:"requestId"`
		FunctionName   string `json:"functionName"`
		TimeoutSeconds int    `json:"timeoutSeconds"`
		DeadlineMS     int64  `json:"deadlineMs"`
	}
	if err := json.Unmarshal(res.Payload, &a); err != nil {
		t.Fatalf("payload %s: %v", res.Payload, err)
	}
	deadline := time.UnixMilli(a.DeadlineMS)
	if a.RequestID != res.RequestID || a.FunctionName != "echo" || a.TimeoutSeconds != 3 ||
		deadline.Before(before.Add(2*time.Second)) || deadline.After(before.Add(4*time.Second)) {
		t.Fatalf("the function saw %+v (deadline in %s); want request %s, echo, 3s", a, time.Until(deadline), res.RequestID)
	}
}

func TestFunctionErrorKeepsItsType(t *testing.T) {
	in, _ := start(t, fcemu.Options{})
	res, err := in.Invoke(context.Background(), []byte(`{"fail":"Forbidden.KeyNotFound"}`))
	if err != nil || res.Error == nil || res.Error.Type != "Forbidden.KeyNotFound" || !res.Error.Handled {
		t.Fatalf("invoke: %v, %+v; want a handled Forbidden.KeyNotFound", err, res.Error)
	}
}

func TestInvocationPastItsDeadlineTimesOut(t *testing.T) {
	in, _ := start(t, fcemu.Options{Timeout: time.Second})
	start := time.Now()
	res, err := in.Invoke(context.Background(), []byte(`{"sleepMs":2500}`))
	if err != nil || res.Error == nil || res.Error.Type != fcemu.ErrorTypeTimeout {
		t.Fatalf("invoke: %v, %+v; want %s", err, res.Error, fcemu.ErrorTypeTimeout)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the timeout took %s; want about one second", took)
	}
}

// TestInvocationsRunConcurrently: like an FC instance with instance
// concurrency above one, the emulator hands an invocation to a function that
// asks for it while others are still running, as fc-runtime-go-sdk does.
func TestInvocationsRunConcurrently(t *testing.T) {
	in, _ := start(t, fcemu.Options{Timeout: 5 * time.Second})
	const n = 4
	results := make(chan error, n)
	for range n {
		go func() {
			res, err := in.Invoke(context.Background(), []byte(fmt.Sprintf(`{"together":%d}`, n)))
			if err == nil && res.Error != nil {
				err = res.Error
			}
			results <- err
		}()
	}
	for range n {
		if err := <-results; err != nil {
			t.Fatalf("an invocation waiting for %d at once: %v", n, err)
		}
	}
}

func TestStopRunsThePreStopHookFirst(t *testing.T) {
	in, marker := start(t, fcemu.Options{})
	if err := in.Stop(context.Background(), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(marker); err != nil || string(b) != "pre-stop ran" {
		t.Fatalf("pre-stop marker: %q, %v", b, err)
	}
	if !in.Exited() {
		t.Fatal("the function is still running after Stop")
	}
}

func TestRuntimeAPIRefusesAnswersNoInvocationAwaits(t *testing.T) {
	srv := httptest.NewServer(fcemu.New(fcemu.Options{}))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/"+fcemu.APIVersion+"/runtime/invocation/1-unknown/response", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("status %d; want 410", resp.StatusCode)
	}
}

func TestInvokeHandlerAnswersLikeInvokeFunction(t *testing.T) {
	in, _ := start(t, fcemu.Options{FunctionName: "echo"})
	srv := httptest.NewServer(fcemu.InvokeHandler(in))
	defer srv.Close()
	post := func(path, body string) (*http.Response, string) {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := post(fcemu.InvocationPath("echo"), `{"fail":"InvalidParameter"}`)
	if resp.Header.Get("X-Fc-Error-Type") != "HandledInvocationError" || !strings.Contains(body, `"errorType":"InvalidParameter"`) {
		t.Fatalf("function error answered %s %q", resp.Header, body)
	}
	resp, body = post(fcemu.InvocationPath("echo"), `{}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-Fc-Error-Type") != "" || !strings.Contains(body, resp.Header.Get("X-Fc-Request-Id")) {
		t.Fatalf("success answered %d %s %q", resp.StatusCode, resp.Header, body)
	}
	if resp, _ = post(fcemu.InvocationPath("other"), `{}`); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another function's path answered %d", resp.StatusCode)
	}
}
