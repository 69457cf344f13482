package config

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	openapiutil "github.com/alibabacloud-go/openapi-util/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/rpc"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

// These tests mount a replay against wired services, the way an attacker
// would: one captured signed request, sent again to another instance of the
// same store, or to the same instance after a restart or a kill.

// signedHost is the host every captured request is signed for, whichever
// test server it is sent to.
const signedHost = "kms.example"

// captured is a signed ListKeys request, as headers.
type captured map[string]string

func capture(t *testing.T, p *core.Principal) captured {
	t.Helper()
	req := tea.NewRequest()
	req.Method, req.Pathname = tea.String(http.MethodPost), tea.String("/")
	h := captured{
		"host":                  signedHost,
		"x-acs-action":          "ListKeys",
		"x-acs-version":         rpc.APIVersion,
		"x-acs-date":            time.Now().UTC().Format("2006-01-02T15:04:05Z"),
		"x-acs-signature-nonce": core.NewRequestID(),
		"x-acs-content-sha256":  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	}
	for k, v := range h {
		req.Headers[k] = tea.String(v)
	}
	h["Authorization"] = tea.StringValue(openapiutil.GetAuthorization(req, tea.String("ACS3-HMAC-SHA256"),
		tea.String(h["x-acs-content-sha256"]), tea.String(p.AccessKeyID), tea.String(string(p.Secret.Bytes()))))
	return h
}

// send serves the captured request on svc's RPC handler and returns the error
// code ("" when it was served).
func send(t *testing.T, svc *Service, c captured) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://"+signedHost+"/", nil)
	for k, v := range c {
		if k != "host" {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	rpc.New(rpc.Options{MaxBody: 1 << 20, KMS: svc.KMS, Principals: svc.Principals, ClockSkew: svc.Settings.ClockSkew}).ServeHTTP(w, r)
	if w.Code == http.StatusOK {
		return ""
	}
	var body struct{ Code string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Code == "" {
		t.Fatalf("status %d, body %s", w.Code, w.Body)
	}
	return body.Code
}

func wire(t *testing.T, set Settings) *Service {
	t.Helper()
	svc, err := Wire(context.Background(), set, quiet())
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestReplayIsRefusedByAnotherInstanceOnOnePostgresStore(t *testing.T) {
	set := localSettings(t)
	set.Store = storetest.PostgresDatabase(t, "kmsless_replay_")
	a := wire(t, set)
	defer a.Close()
	b := wire(t, set)
	defer b.Close()
	req := capture(t, a.DevPrincipal)
	if code := send(t, a, req); code != "" {
		t.Fatalf("first send: %s", code)
	}
	if code := send(t, b, req); code != core.CodeSignatureNonceUsed {
		t.Fatalf("replay to the other instance: %q, want %s", code, core.CodeSignatureNonceUsed)
	}
}

func TestReplayIsRefusedByABoltInstanceAfterRestart(t *testing.T) {
	set := localSettings(t)
	svc := wire(t, set)
	req := capture(t, svc.DevPrincipal)
	if code := send(t, svc, req); code != "" {
		t.Fatalf("first send: %s", code)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	svc = wire(t, set)
	defer svc.Close()
	if code := send(t, svc, req); code != core.CodeSignatureNonceUsed {
		t.Fatalf("replay after a restart: %q, want %s", code, core.CodeSignatureNonceUsed)
	}
}

// killChildEnv, when set, makes this test binary the instance that
// TestReplayIsRefusedByABoltInstanceAfterKill kills: its value is the data dir
// and the captured request, as JSON.
const killChildEnv = "KMSLESS_REPLAY_KILL_CHILD"

type killSpec struct {
	DataDir string
	Request captured
}

func TestReplayIsRefusedByABoltInstanceAfterKill(t *testing.T) {
	if spec := os.Getenv(killChildEnv); spec != "" {
		var s killSpec
		if err := json.Unmarshal([]byte(spec), &s); err != nil {
			t.Fatal(err)
		}
		set, err := Read(env(map[string]string{"KMS_DATA_DIR": s.DataDir}))
		if err != nil {
			t.Fatal(err)
		}
		svc := wire(t, set)
		os.Stdout.WriteString("code=" + send(t, svc, s.Request) + "\n")
		// No Close: the instance dies with its journal as the kernel has it.
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	set := localSettings(t)
	svc := wire(t, set) // makes the data dir's root key and principal
	req := capture(t, svc.DevPrincipal)
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(killSpec{DataDir: set.DataDir, Request: req})
	cmd := exec.Command(os.Args[0], "-test.run=^TestReplayIsRefusedByABoltInstanceAfterKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+string(spec))
	out, err := cmd.Output()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "code=\n") {
		t.Fatalf("the killed instance did not serve the request first:\n%s", out)
	}
	svc = wire(t, set)
	defer svc.Close()
	if code := send(t, svc, req); code != core.CodeSignatureNonceUsed {
		t.Fatalf("replay after a kill: %q, want %s", code, core.CodeSignatureNonceUsed)
	}
}

func TestStartUpLogNamesTheReplayScope(t *testing.T) {
	for _, tc := range []struct {
		name, store, redis, want string
	}{
		{"bolt", "", "", "replay defense: bolt journal, this instance, survives restarts"},
		{"postgres", "postgres", "", "replay defense: postgres, shared by instances on this store"},
		{"redis", "postgres", "redis://127.0.0.1:6379/0", "replay defense: redis, shared by every instance; while Redis is unreachable: postgres"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := localSettings(t)
			if tc.store != "" {
				set.Store = storetest.PostgresDatabase(t, "kmsless_scope_")
			}
			set.RedisURL = tc.redis
			var logs strings.Builder
			svc, err := Wire(context.Background(), set, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			svc.Close()
			if !strings.Contains(logs.String(), tc.want) {
				t.Errorf("start-up log lacks %q:\n%s", tc.want, logs.String())
			}
		})
	}
}
