package platform

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"
	dkmsopenapi "github.com/aliyun/alibabacloud-dkms-gcs-go-sdk/openapi"
	dkms "github.com/aliyun/alibabacloud-dkms-gcs-go-sdk/sdk"

	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/metrics"
	"github.com/kmsless/kmsless/internal/syncbuf"
	"github.com/kmsless/kmsless/internal/tlstest"
)

// tlsServer serves "ok" on a listener Listen makes for s, and
// returns its address, its log and its metrics.
func tlsServer(t *testing.T, s config.Settings) (string, *syncbuf.Buffer, *metrics.Set) {
	t.Helper()
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.ListenAddr = "127.0.0.1:0"
	m := metrics.New(nil)
	ln, err := Listen(s, log, m)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	go func() { served <- Serve(ctx, ln, ok, log) }()
	t.Cleanup(func() { stop(); <-served })
	return ln.Addr().String(), logs, m
}

// expiry is the certificate expiry m exposes, in seconds since 1970, and
// whether it exposes one.
func expiry(t *testing.T, m *metrics.Set) (int64, bool) {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "kms_tls_certificate_expiration_timestamp_seconds" {
			return int64(f.GetMetric()[0].GetGauge().GetValue()), true
		}
	}
	return 0, false
}

// handshake connects to addr as a client trusting ca, presenting certs, and
// returns the serial number of the certificate the server presented.
func handshake(addr string, ca *tlstest.CA, certs ...tls.Certificate) (string, error) {
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), Certificates: certs})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// Under TLS 1.3 the server checks a client's certificate after the
	// client's side of the handshake ends: a refusal arrives on the first
	// read, which is where a client with a request to send would meet it.
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: kms\r\n\r\n")); err != nil {
		return "", err
	}
	buf := make([]byte, 64)
	n, err := conn.Read(buf)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200") {
		return "", &net.OpError{Op: "read", Err: os.ErrInvalid}
	}
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String(), nil
}

// rewrite replaces a file's content and moves its modification time on, as
// a renewal that rewrites the file in place does.
func rewrite(t *testing.T, path string, b []byte, at time.Time) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

// A renewed certificate is served from the next connection on, without a
// restart; one that cannot load leaves the last good one in service.
func TestTLSServesARenewedCertificateWithoutARestart(t *testing.T) {
	ca, dir := tlstest.NewCA(t, "kmsless test CA"), t.TempDir()
	later := time.Now().Add(12 * time.Hour)
	first := ca.Issue(t, 1, "127.0.0.1", later)
	certFile, keyFile := first.Write(t, dir, "server")
	addr, logs, m := tlsServer(t, config.Settings{TLSCertFile: certFile, TLSKeyFile: keyFile})
	if serial, err := handshake(addr, ca); err != nil || serial != "1" {
		t.Fatalf("first: certificate %s, %v", serial, err)
	}
	if at, ok := expiry(t, m); !ok || at != later.Unix() {
		t.Errorf("the expiry metric reads %d (%v), want %d", at, ok, later.Unix())
	}

	later = later.Add(time.Hour)
	renewed := ca.Issue(t, 2, "127.0.0.1", later)
	rewrite(t, certFile, renewed.Cert, time.Now().Add(time.Minute))
	rewrite(t, keyFile, renewed.Key, time.Now().Add(time.Minute))
	if serial, err := handshake(addr, ca); err != nil || serial != "2" {
		t.Fatalf("after renewal: certificate %s, %v; log:\n%s", serial, err, logs)
	}
	if !strings.Contains(logs.String(), "TLS certificate reloaded") {
		t.Errorf("the reload was not logged:\n%s", logs)
	}
	if at, _ := expiry(t, m); at != later.Unix() {
		t.Errorf("after renewal the expiry metric reads %d, want %d", at, later.Unix())
	}

	// Caught half rewritten: the new certificate beside the old key.
	third := ca.Issue(t, 3, "127.0.0.1", later)
	rewrite(t, certFile, third.Cert, time.Now().Add(2*time.Minute))
	for range 3 {
		if serial, err := handshake(addr, ca); err != nil || serial != "2" {
			t.Fatalf("with a mismatched pair on disk: certificate %s, %v", serial, err)
		}
	}
	if n := strings.Count(logs.String(), "TLS certificate not reloaded"); n != 1 {
		t.Errorf("the failed reload was logged %d times, want once:\n%s", n, logs)
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Errorf("the log quotes a key:\n%s", logs)
	}
	rewrite(t, keyFile, third.Key, time.Now().Add(3*time.Minute))
	if serial, err := handshake(addr, ca); err != nil || serial != "3" {
		t.Fatalf("once the key follows: certificate %s, %v", serial, err)
	}

	// Gone for a while, as in a swap of the directory a secret is mounted in.
	if err := os.Rename(keyFile, keyFile+".away"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if serial, err := handshake(addr, ca); err != nil || serial != "3" {
			t.Fatalf("with the key file gone: certificate %s, %v", serial, err)
		}
	}
	if n := strings.Count(logs.String(), "TLS certificate not reloaded"); n != 2 {
		t.Errorf("%d failed reloads logged, want one for the mismatch and one for the missing file:\n%s", n, logs)
	}
}

// A port probe connects and closes without a handshake, as a Kubernetes
// tcpSocket probe does every few seconds: its failed handshake is logged at
// DEBUG, not as a warning.
func TestTLSProbeLeavesNoWarning(t *testing.T) {
	ca, dir := tlstest.NewCA(t, "kmsless test CA"), t.TempDir()
	certFile, keyFile := ca.Issue(t, 1, "127.0.0.1", time.Now().Add(time.Hour)).Write(t, dir, "server")
	addr, logs, _ := tlsServer(t, config.Settings{TLSCertFile: certFile, TLSKeyFile: keyFile})
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	for deadline := time.Now().Add(5 * time.Second); strings.Count(logs.String(), "TLS handshake error") < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the probes' handshakes were not logged:\n%s", logs)
		}
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("a probe left a warning:\n%s", logs)
	}
}

// clientCAServer serves with a certificate ca issued and with ca as the
// client CA, in the file clientCA; other is a CA it does not trust.
func clientCAServer(t *testing.T) (ca, other *tlstest.CA, addr, clientCA string, logs *syncbuf.Buffer) {
	t.Helper()
	ca, other, dir := tlstest.NewCA(t, "kmsless test CA"), tlstest.NewCA(t, "another CA"), t.TempDir()
	certFile, keyFile := ca.Issue(t, 1, "127.0.0.1", time.Now().Add(time.Hour)).Write(t, dir, "server")
	clientCA = dir + "/clients.pem"
	rewrite(t, clientCA, ca.PEM, time.Now())
	addr, logs, _ = tlsServer(t, config.Settings{TLSCertFile: certFile, TLSKeyFile: keyFile, TLSClientCAFile: clientCA})
	return ca, other, addr, clientCA, logs
}

// With a client CA, a connection must present a certificate that CA issued.
func TestTLSClientCAAdmitsOnlyTheCertificatesItIssued(t *testing.T) {
	ca, other, addr, _, _ := clientCAServer(t)
	later := time.Now().Add(time.Hour)
	if _, err := handshake(addr, ca); err == nil {
		t.Error("a client without a certificate was served")
	}
	if _, err := handshake(addr, ca, other.Issue(t, 7, "client", later).TLS(t)); err == nil {
		t.Error("a client with another CA's certificate was served")
	}
	if _, err := handshake(addr, ca, ca.Issue(t, 8, "client", time.Now().Add(-time.Minute)).TLS(t)); err == nil {
		t.Error("a client with an expired certificate was served")
	}
	if _, err := handshake(addr, ca, ca.Issue(t, 9, "client", later).TLS(t)); err != nil {
		t.Errorf("a client with the CA's certificate: %v", err)
	}
}

// A changed client CA file takes effect from the next connection on,
// without a restart: a CA taken out turns its clients away, one put in
// admits its own, and a file that cannot be read leaves the last good one
// trusted.
func TestTLSClientCAReloadedWithoutARestart(t *testing.T) {
	ca, other, addr, clientCA, logs := clientCAServer(t)
	later := time.Now().Add(time.Hour)
	ours, theirs := ca.Issue(t, 8, "client", later).TLS(t), other.Issue(t, 9, "client", later).TLS(t)
	admits := func(when string, wantOurs, wantTheirs bool) {
		t.Helper()
		for _, c := range []struct {
			name string
			cert tls.Certificate
			want bool
		}{{"the first CA's client", ours, wantOurs}, {"the other CA's client", theirs, wantTheirs}} {
			if _, err := handshake(addr, ca, c.cert); (err == nil) != c.want {
				t.Errorf("%s: %s: %v, want admitted %v; log:\n%s", when, c.name, err, c.want, logs)
			}
		}
	}
	admits("at start", true, false)

	rewrite(t, clientCA, other.PEM, time.Now().Add(time.Minute))
	admits("with the CA replaced", false, true)
	if !strings.Contains(logs.String(), "TLS client CA reloaded") {
		t.Errorf("the reload was not logged:\n%s", logs)
	}
	rewrite(t, clientCA, append(slices.Clone(ca.PEM), other.PEM...), time.Now().Add(2*time.Minute))
	admits("with both CAs in the file", true, true)

	// Caught half written, then gone for a while: both CAs stay trusted, and
	// each failure is logged once however many connections meet it.
	rewrite(t, clientCA, ca.PEM[:len(ca.PEM)/2], time.Now().Add(3*time.Minute))
	admits("with a truncated file", true, true)
	admits("with a truncated file, again", true, true)
	if err := os.Remove(clientCA); err != nil {
		t.Fatal(err)
	}
	admits("with the file gone", true, true)
	admits("with the file gone, again", true, true)
	if n := strings.Count(logs.String(), "TLS client CA not reloaded"); n != 2 {
		t.Errorf("%d failed reloads logged, want one for the truncated file and one for the missing one:\n%s", n, logs)
	}
}

// Settings that cannot serve stop start-up, saying which file is wrong.
func TestTLSRefusesWhatCannotServe(t *testing.T) {
	ca, dir := tlstest.NewCA(t, "kmsless test CA"), t.TempDir()
	certFile, keyFile := ca.Issue(t, 1, "127.0.0.1", time.Now().Add(time.Hour)).Write(t, dir, "server")
	expiredCert, expiredKey := ca.Issue(t, 2, "127.0.0.1", time.Now().Add(-time.Minute)).Write(t, dir, "expired")
	_, otherKey := ca.Issue(t, 3, "127.0.0.1", time.Now().Add(time.Hour)).Write(t, dir, "other")
	notPEM := dir + "/not.pem"
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		s    config.Settings
		want string
	}{
		"a missing certificate":        {config.Settings{TLSCertFile: dir + "/none.pem", TLSKeyFile: keyFile}, "none.pem"},
		"a key of another certificate": {config.Settings{TLSCertFile: certFile, TLSKeyFile: otherKey}, "KMS_TLS_KEY_FILE"},
		"an expired certificate":       {config.Settings{TLSCertFile: expiredCert, TLSKeyFile: expiredKey}, "expired"},
		"a client CA of no PEM":        {config.Settings{TLSCertFile: certFile, TLSKeyFile: keyFile, TLSClientCAFile: notPEM}, "KMS_TLS_CLIENT_CA_FILE"},
		"a missing client CA":          {config.Settings{TLSCertFile: certFile, TLSKeyFile: keyFile, TLSClientCAFile: dir + "/none.pem"}, "KMS_TLS_CLIENT_CA_FILE"},
	} {
		if _, err := serverTLS(c.s, slog.New(slog.DiscardHandler), nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %s", name, err, c.want)
		}
	}
	m := metrics.New(nil)
	if cfg, err := serverTLS(config.Settings{}, nil, m); cfg != nil || err != nil {
		t.Errorf("no certificate: %v, %v; want plain HTTP", cfg, err)
	}
	if _, ok := expiry(t, m); ok {
		t.Error("plain HTTP exposes a certificate expiry")
	}
}

// Alibaba's KMS instance SDK speaks HTTPS, trusting the instance's CA, by
// default: it reaches the local server so, with the server's CA as its Ca.
func TestInstanceSDKOverHTTPS(t *testing.T) {
	ca, dir := tlstest.NewCA(t, "kmsless test CA"), t.TempDir()
	certFile, keyFile := ca.Issue(t, 1, "127.0.0.1", time.Now().Add(time.Hour)).Write(t, dir, "server")
	file, key := clientKeyPrincipal(t)
	svc := wire(t, map[string]string{"KMS_PRINCIPALS_FILE": file})
	s := svc.Settings
	s.TLSCertFile, s.TLSKeyFile, s.ListenAddr = certFile, keyFile, "127.0.0.1:0"
	ln, err := Listen(s, svc.Logger, svc.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, Operations(svc, API(svc).HTTP), svc.Logger) }()
	t.Cleanup(func() { stop(); <-served })

	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	client, err := dkms.NewClient(&dkmsopenapi.Config{
		Protocol: tea.String("https"), Endpoint: tea.String(ln.Addr().String()), RegionId: tea.String("cn-hangzhou"),
		Ca: tea.String(string(ca.PEM)), AccessKeyId: tea.String("KAAP.app"), PrivateKey: tea.String(string(pemKey)),
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.GenerateRandom(&dkms.GenerateRandomRequest{Length: tea.Int32(24)})
	if err != nil || len(out.Random) != 24 {
		t.Fatalf("GenerateRandom over HTTPS: %v", err)
	}
}

// BenchmarkTLSHandshake is what a new HTTPS connection costs before its
// first request, client and server together in this process, with an ECDSA
// P-256 certificate and Go's defaults (TLS 1.3, X25519MLKEM768): the price
// a caller that does not keep its connections pays on each request.
func BenchmarkTLSHandshake(b *testing.B) {
	ca, dir := tlstest.NewCA(b, "kmsless bench CA"), b.TempDir()
	certFile, keyFile := ca.Issue(b, 1, "127.0.0.1", time.Now().Add(time.Hour)).Write(b, dir, "server")
	ln, err := Listen(config.Settings{ListenAddr: "127.0.0.1:0", TLSCertFile: certFile, TLSKeyFile: keyFile}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
			}()
		}
	}()
	client := &tls.Config{RootCAs: ca.Pool()}
	for b.Loop() {
		c, err := tls.Dial("tcp", ln.Addr().String(), client)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
