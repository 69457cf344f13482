package functions_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	awstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsless/kmsless/internal/devtools/emulate"
	"github.com/kmsless/kmsless/internal/syncbuf"
	"github.com/kmsless/kmsless/internal/tlstest"
)

// localAPI is the api binary started as a developer would, in a directory
// of its own, on a free port.
type localAPI struct {
	cmd    *exec.Cmd
	addr   string
	stderr *syncbuf.Buffer // written by the process's copier as it runs
	// banner is the first line it printed, the development principal's
	// credentials and, when it printed one, the operator listener's
	// address ("operator").
	banner map[string]string
}

// freeAddr is a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// httpsEnv makes a CA, writes it and a server certificate it issued for
// 127.0.0.1 to files, and returns the CA, its file, and the environment
// that has the api binary serve HTTPS with that certificate.
func httpsEnv(t *testing.T) (ca *tlstest.CA, caFile string, env []string) {
	t.Helper()
	ca, dir := tlstest.NewCA(t, "kmsless test CA"), t.TempDir()
	certFile, keyFile := ca.Issue(t, 1, "127.0.0.1", time.Now().Add(time.Hour)).Write(t, dir, "server")
	caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return ca, caFile, []string{"KMS_TLS_CERT_FILE=" + certFile, "KMS_TLS_KEY_FILE=" + keyFile}
}

// startLocalAPI starts the api binary with env besides a free
// KMS_LISTEN_ADDR and reads its banner.
func startLocalAPI(t *testing.T, env ...string) *localAPI {
	t.Helper()
	return startLocal(t, exec.Command(filepath.Join(binDir, "api")), env...)
}

// startLocal starts cmd, an api server, in a directory of its own with env
// besides a free KMS_LISTEN_ADDR, and reads its banner.
func startLocal(t *testing.T, cmd *exec.Cmd, env ...string) *localAPI {
	t.Helper()
	addr := freeAddr(t)
	cmd.Dir = t.TempDir()
	cmd.Env = append(append(emulate.BaseEnv(), "KMS_LISTEN_ADDR="+addr), env...)
	return startAPI(t, cmd, addr)
}

// startAPI starts cmd, an api server that will serve on addr, and reads its
// banner.
func startAPI(t *testing.T, cmd *exec.Cmd, addr string) *localAPI {
	t.Helper()
	a := &localAPI{cmd: cmd, addr: addr, stderr: &syncbuf.Buffer{}, banner: map[string]string{}}
	stdout, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	a.cmd.Stderr = a.stderr
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.cmd.Process.Kill() })
	lines := bufio.NewScanner(stdout)
	field := regexp.MustCompile(`^\s+(AccessKeyId|AccessKeySecret):\s+(\S+)$`)
	operator := regexp.MustCompile(`^operator paths .* on http://(\S+)$`)
	for (a.banner["AccessKeyId"] == "" || a.banner["AccessKeySecret"] == "") && lines.Scan() {
		if m := field.FindStringSubmatch(lines.Text()); m != nil {
			a.banner[m[1]] = m[2]
		} else if m := operator.FindStringSubmatch(lines.Text()); m != nil {
			a.banner["operator"] = m[1]
		} else if a.banner["first"] == "" {
			a.banner["first"] = lines.Text()
		}
	}
	if a.banner["AccessKeyId"] == "" || a.banner["AccessKeySecret"] == "" {
		t.Fatalf("no development principal in the banner; stderr:\n%s", a.stderr)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return a
}

// sdkClient is Alibaba's KMS SDK with the credentials the banner printed.
func sdkClient(t *testing.T, a *localAPI) *kms.Client {
	t.Helper()
	c, err := kms.NewClient(&openapi.Config{
		AccessKeyId: tea.String(a.banner["AccessKeyId"]), AccessKeySecret: tea.String(a.banner["AccessKeySecret"]),
		Endpoint: tea.String(a.addr), Protocol: tea.String("http"), RegionId: tea.String("cn-hangzhou"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// stop signals the api binary and waits for a clean shutdown, one that
// closes the store.
func (a *localAPI) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := a.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil || !strings.Contains(a.stderr.String(), "service closed") {
			t.Fatalf("after %v: %v\n%s", sig, err, a.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the api server did not stop on %v", sig)
	}
}

// healthcheck runs `kmsless healthcheck` with env and returns its exit code
// and output.
func healthcheck(t *testing.T, env ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "kmsless"), "healthcheck")
	cmd.Env = append(emulate.BaseEnv(), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// TestAPIServesLocallyToTheSDKWithThePrintedPrincipal starts the api binary as
// a developer would, with no configuration but a free port, and calls it with
// the official Alibaba Cloud KMS SDK using the credentials it printed.
func TestAPIServesLocallyToTheSDKWithThePrintedPrincipal(t *testing.T) {
	a := startLocalAPI(t)
	addr := a.addr
	client := sdkClient(t, a)
	created, err := client.CreateKey(&kms.CreateKeyRequest{Description: tea.String("local development")})
	if err != nil {
		t.Fatalf("CreateKey through the SDK: %v", err)
	}
	key := tea.StringValue(created.Body.KeyMetadata.KeyId)
	gen, err := client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(key)})
	if err != nil || tea.StringValue(gen.Body.CiphertextBlob) == "" {
		t.Fatalf("GenerateDataKeyWithoutPlaintext through the SDK: %v", err)
	}

	if code, out := healthcheck(t, "KMS_LISTEN_ADDR="+addr); code != 0 || !strings.Contains(out, "ready") {
		t.Errorf("kmsless healthcheck of a ready server: %d %s", code, out)
	}

	// Ctrl-C: a clean shutdown that closes the store.
	a.stop(t, syscall.SIGINT)
	if code, out := healthcheck(t, "KMS_LISTEN_ADDR="+addr); code != 1 || !strings.Contains(out, "connection refused") {
		t.Errorf("kmsless healthcheck of a stopped server: %d %s", code, out)
	}
}

func TestActionFunctionStartedLocallySaysHowToRunIt(t *testing.T) {
	cmd := exec.Command(filepath.Join(binDir, "decrypt"))
	cmd.Dir = t.TempDir()
	cmd.Env = emulate.BaseEnv()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "make invoke FN=decrypt") {
		t.Fatalf("exit %v, output:\n%s", err, out)
	}
	if entries, _ := filepath.Glob(filepath.Join(cmd.Dir, ".kmsless", "*")); len(entries) != 0 {
		t.Fatalf("a mistaken local start left %v behind", entries)
	}
}

// TestKmslessCommandServesTheAPI runs the api server as the container image
// does, from the kmsless command alone: by the name of its link kmsless-api
// (the image's default command) and as kmsless serve. Each serves the SDK
// and stops cleanly on SIGTERM; serve with an argument is a usage error.
func TestKmslessCommandServesTheAPI(t *testing.T) {
	link := filepath.Join(t.TempDir(), "kmsless-api")
	if err := os.Symlink(filepath.Join(binDir, "kmsless"), link); err != nil {
		t.Fatal(err)
	}
	for name, cmd := range map[string]*exec.Cmd{
		"kmsless-api":   exec.Command(link),
		"kmsless serve": exec.Command(filepath.Join(binDir, "kmsless"), "serve"),
	} {
		t.Run(name, func(t *testing.T) {
			a := startLocal(t, cmd)
			if _, err := sdkClient(t, a).CreateKey(&kms.CreateKeyRequest{}); err != nil {
				t.Fatalf("CreateKey through the SDK: %v", err)
			}
			a.stop(t, syscall.SIGTERM)
		})
	}
	out, err := exec.Command(filepath.Join(binDir, "kmsless"), "serve", "now").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "kmsless serve ") {
		t.Fatalf("kmsless serve now: %v\n%s", err, out)
	}
}

// TestAPIServesHTTPSToBothSDKsPresentingClientCertificates starts the api
// binary with a certificate and a client CA, as an operator serves it with
// no proxy in front, and calls it over HTTPS with Alibaba's SDK and AWS's,
// each trusting the CA and presenting a client certificate it issued. A
// client without one, and a plain HTTP request, are turned away before any
// request is read.
func TestAPIServesHTTPSToBothSDKsPresentingClientCertificates(t *testing.T) {
	ca, caFile, env := httpsEnv(t)
	client := ca.Issue(t, 2, "orders-service", time.Now().Add(time.Hour))
	a := startLocalAPI(t, append(env, "KMS_TLS_CLIENT_CA_FILE="+caFile)...)
	if !strings.Contains(a.banner["first"], "https://"+a.addr) {
		t.Errorf("the banner gives no https endpoint: %q", a.banner["first"])
	}

	ali, err := kms.NewClient(&openapi.Config{
		AccessKeyId: tea.String(a.banner["AccessKeyId"]), AccessKeySecret: tea.String(a.banner["AccessKeySecret"]),
		Endpoint: tea.String(a.addr), Protocol: tea.String("https"), RegionId: tea.String("cn-hangzhou"),
		Ca: tea.String(string(ca.PEM)), Cert: tea.String(string(client.Cert)), Key: tea.String(string(client.Key)),
	})
	if err != nil {
		t.Fatal(err)
	}
	created, err := ali.CreateKey(&kms.CreateKeyRequest{Description: tea.String("over HTTPS")})
	if err != nil {
		t.Fatalf("CreateKey through Alibaba's SDK over HTTPS: %v", err)
	}

	withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: ca.Pool(), Certificates: []tls.Certificate{client.TLS(t)}}}}
	awsKMS := awskms.New(awskms.Options{
		Region: "cn-hangzhou", BaseEndpoint: tea.String("https://" + a.addr), HTTPClient: withCert,
		Credentials: credentials.NewStaticCredentialsProvider(a.banner["AccessKeyId"], a.banner["AccessKeySecret"], ""),
	})
	dk, err := awsKMS.GenerateDataKeyWithoutPlaintext(context.Background(), &awskms.GenerateDataKeyWithoutPlaintextInput{
		KeyId: created.Body.KeyMetadata.KeyId, KeySpec: awstypes.DataKeySpecAes256})
	if err != nil || len(dk.CiphertextBlob) == 0 {
		t.Fatalf("GenerateDataKeyWithoutPlaintext through AWS's SDK over HTTPS: %v", err)
	}

	// A health check in the server's environment cannot present a
	// certificate, and says what to set instead.
	if code, out := healthcheck(t, append(env, "KMS_TLS_CLIENT_CA_FILE="+caFile, "KMS_LISTEN_ADDR="+a.addr)...); code != 1 || !strings.Contains(out, "set KMS_OPERATOR_ADDR") {
		t.Errorf("kmsless healthcheck with client certificates required: %d %s", code, out)
	}

	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	if resp, err := noCert.Get("https://" + a.addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("a client without a certificate was answered %s", resp.Status)
	}
	if resp, err := http.Get("http://" + a.addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP was answered on the HTTPS listener")
		}
	}
}

// With KMS_OPERATOR_ADDR, the operator paths answer over plain HTTP on a
// listener of their own, so a Kubernetes HTTP probe and a Prometheus scrape
// reach them without the client certificate the API's listener requires;
// that listener answers nothing else.
func TestOperatorListenerAnswersProbesWithoutAClientCertificate(t *testing.T) {
	_, caFile, env := httpsEnv(t)
	operator := freeAddr(t)
	a := startLocalAPI(t, append(env, "KMS_TLS_CLIENT_CA_FILE="+caFile, "KMS_OPERATOR_ADDR="+operator)...)
	if a.banner["operator"] != operator {
		t.Errorf("the banner gives the operator listener as %q, want %q", a.banner["operator"], operator)
	}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + operator + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "kms_tls_certificate_expiration_timestamp_seconds"} {
		if code, body := get(path); code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s on the operator listener: %d %.200q, want 200 with %q", path, code, body, want)
		}
	}

	// A KMS request, signed by the development principal, is not served there.
	awsKMS := awskms.New(awskms.Options{
		Region: "cn-hangzhou", BaseEndpoint: tea.String("http://" + operator),
		Credentials: credentials.NewStaticCredentialsProvider(a.banner["AccessKeyId"], a.banner["AccessKeySecret"], ""),
	})
	if _, err := awsKMS.ListKeys(context.Background(), &awskms.ListKeysInput{}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("ListKeys on the operator listener: %v, want a 404", err)
	}
	if code, _ := get("/?Action=ListKeys"); code != http.StatusNotFound {
		t.Errorf("GET / on the operator listener: %d, want 404", code)
	}

	if code, out := healthcheck(t, append(env, "KMS_TLS_CLIENT_CA_FILE="+caFile, "KMS_OPERATOR_ADDR="+operator, "KMS_LISTEN_ADDR="+a.addr)...); code != 0 {
		t.Errorf("kmsless healthcheck through the operator listener: %d %s", code, out)
	}

	// SIGTERM stops both listeners and closes the store.
	a.stop(t, syscall.SIGTERM)
	if _, err := http.Get("http://" + operator + "/healthz"); err == nil {
		t.Error("the operator listener still answers after the server stopped")
	}
}

// With KMS_LOG_FORMAT=json the api server's log lines, from start-up to its
// shutdown, are JSON objects a log collector reads as they are.
func TestAPILogsJSONLinesWhenAsked(t *testing.T) {
	a := startLocalAPI(t, "KMS_LOG_FORMAT=json")
	a.stop(t, syscall.SIGTERM)
	lines := strings.Split(strings.TrimSpace(a.stderr.String()), "\n")
	for _, line := range lines {
		var rec struct{ Time, Level, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Time == "" || rec.Level == "" || rec.Msg == "" {
			t.Errorf("not a JSON log line: %q (%v)", line, err)
		}
	}
	if len(lines) < 3 {
		t.Errorf("only %d log lines:\n%s", len(lines), a.stderr)
	}
}

// Over HTTPS, `kmsless healthcheck` knows the server by the certificate in
// KMS_TLS_CERT_FILE, whatever name it bears, and by no other, even one the
// same CA issued.
func TestHealthcheckKnowsTheServerByItsCertificate(t *testing.T) {
	ca, _, env := httpsEnv(t)
	a := startLocalAPI(t, env...)
	if code, out := healthcheck(t, append(env, "KMS_LISTEN_ADDR="+a.addr)...); code != 0 || !strings.Contains(out, "https://"+a.addr+"/readyz: ready") {
		t.Errorf("kmsless healthcheck over HTTPS: %d %s", code, out)
	}
	other, _ := ca.Issue(t, 3, "127.0.0.1", time.Now().Add(time.Hour)).Write(t, t.TempDir(), "other")
	if code, out := healthcheck(t, "KMS_TLS_CERT_FILE="+other, "KMS_TLS_KEY_FILE=unused", "KMS_LISTEN_ADDR="+a.addr); code != 1 || !strings.Contains(out, "another certificate") {
		t.Errorf("kmsless healthcheck expecting another certificate: %d %s", code, out)
	}
}

// An operator address that cannot be listened on stops start-up, naming
// the variable, before the API serves.
func TestOperatorAddressTakenStopsStartUp(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cmd := exec.Command(filepath.Join(binDir, "api"))
	cmd.Dir = t.TempDir()
	cmd.Env = append(emulate.BaseEnv(), "KMS_LISTEN_ADDR=127.0.0.1:0", "KMS_OPERATOR_ADDR="+taken.Addr().String())
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "KMS_OPERATOR_ADDR") || strings.Contains(string(out), "serving the") {
		t.Errorf("with the operator address taken: %v\n%s", err, out)
	}
}

// The AWS CLI (botocore, Python's TLS) reaches the api binary over HTTPS
// with the server's CA in AWS_CA_BUNDLE, as the README says, and refuses it
// without.
func TestAWSCLIOverHTTPSWithTheCABundle(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed (pip install awscli)")
	}
	_, bundle, env := httpsEnv(t)
	a := startLocalAPI(t, env...)
	none := filepath.Join(t.TempDir(), "none")
	cli := func(caBundle string) ([]byte, error) {
		cmd := exec.Command("aws", "--endpoint-url", "https://"+a.addr, "--region", "cn-hangzhou", "--output", "json", "kms", "create-key")
		cmd.Env = append(emulate.BaseEnv(), "AWS_ACCESS_KEY_ID="+a.banner["AccessKeyId"], "AWS_SECRET_ACCESS_KEY="+a.banner["AccessKeySecret"],
			"AWS_CONFIG_FILE="+none, "AWS_SHARED_CREDENTIALS_FILE="+none, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
		if caBundle != "" {
			cmd.Env = append(cmd.Env, "AWS_CA_BUNDLE="+caBundle)
		}
		return cmd.CombinedOutput()
	}
	if out, err := cli(bundle); err != nil || !strings.Contains(string(out), `"KeyId"`) {
		t.Fatalf("aws kms create-key over HTTPS: %v\n%s", err, out)
	}
	if out, err := cli(""); err == nil || !strings.Contains(string(out), "SSL") {
		t.Errorf("without the CA bundle: %v\n%s", err, out)
	}
}
