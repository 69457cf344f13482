package redis_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/redis"
	"github.com/kmsless/kmsless/internal/syncbuf"
)

func TestNewClientReadsEachURLForm(t *testing.T) {
	cases := []struct {
		url   string
		check func(t *testing.T, c goredis.UniversalClient)
	}{
		{"redis://127.0.0.1:6379/3", func(t *testing.T, c goredis.UniversalClient) {
			o := c.(*goredis.Client).Options()
			if o.DB != 3 || o.TLSConfig != nil || o.ReadTimeout != 200*time.Millisecond || o.DialTimeout != 500*time.Millisecond || o.MaxRetries != 0 {
				t.Fatalf("DB %d, TLS %v, read timeout %s, dial timeout %s, retries %d", o.DB, o.TLSConfig != nil, o.ReadTimeout, o.DialTimeout, o.MaxRetries)
			}
		}},
		{"rediss://cache.example:6380", func(t *testing.T, c goredis.UniversalClient) {
			o := c.(*goredis.Client).Options()
			if o.TLSConfig == nil || o.TLSConfig.ServerName != "cache.example" || o.Addr != "cache.example:6380" {
				t.Fatalf("addr %s, TLS %+v", o.Addr, o.TLSConfig)
			}
		}},
		{"redis://127.0.0.1?read_timeout=2s&max_retries=2", func(t *testing.T, c goredis.UniversalClient) {
			o := c.(*goredis.Client).Options()
			if o.ReadTimeout != 2*time.Second || o.MaxRetries != 2 {
				t.Fatalf("the URL's own options were overridden: read timeout %s, retries %d", o.ReadTimeout, o.MaxRetries)
			}
		}},
		{"unix:///run/redis.sock?db=2", func(t *testing.T, c goredis.UniversalClient) {
			if o := c.(*goredis.Client).Options(); o.Network != "unix" || o.Addr != "/run/redis.sock" || o.DB != 2 {
				t.Fatalf("network %s, addr %s, db %d", o.Network, o.Addr, o.DB)
			}
		}},
		{"redis+cluster://10.0.0.1:7000?addr=10.0.0.2:7000&addr=10.0.0.3:7000", func(t *testing.T, c goredis.UniversalClient) {
			o := c.(*goredis.ClusterClient).Options()
			if strings.Join(o.Addrs, ",") != "10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000" || o.ReadTimeout != 200*time.Millisecond {
				t.Fatalf("seed nodes %v, read timeout %s", o.Addrs, o.ReadTimeout)
			}
		}},
		{"rediss+cluster://10.0.0.1:7000", func(t *testing.T, c goredis.UniversalClient) {
			if o := c.(*goredis.ClusterClient).Options(); o.TLSConfig == nil {
				t.Fatal("no TLS")
			}
		}},
		{"redis+sentinel://10.0.0.1:26379/1?master_name=mymaster&addr=10.0.0.2:26379", func(t *testing.T, c goredis.UniversalClient) {
			if _, ok := c.(*goredis.Client); !ok {
				t.Fatalf("got %T", c)
			}
		}},
		{"redis://10.0.0.1:26379?master_name=mymaster", func(t *testing.T, c goredis.UniversalClient) {
			if _, ok := c.(*goredis.Client); !ok {
				t.Fatalf("got %T", c)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			rdb, err := redis.NewClient(c.url)
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			c.check(t, rdb)
		})
	}
}

// A sealed password goes where each form's servers take theirs, escaped,
// keeping the user and the options; Sentinel's user information stays the
// sentinels'. A URL with a password of its own there is refused, quoting
// neither.
func TestWithPasswordPutsItWhereTheServersTakeIt(t *testing.T) {
	const pw = "p@ss:w/rd?&#%"
	password := func(c goredis.UniversalClient) (user, pass string) {
		switch c := c.(type) {
		case *goredis.Client:
			return c.Options().Username, c.Options().Password
		case *goredis.ClusterClient:
			return c.Options().Username, c.Options().Password
		}
		return "", ""
	}
	for _, c := range []struct{ url, user string }{
		{"redis://kms@127.0.0.1:6379/3?read_timeout=2s", "kms"},
		{"rediss://cache.example:6380", ""},
		{"unix://kms@/run/redis.sock?db=2", "kms"},
		{"redis+cluster://kms@10.0.0.1:7000?addr=10.0.0.2:7000", "kms"},
		{"redis+sentinel://:sentinelpw@10.0.0.1:26379/1?master_name=mymaster&username=kms", "kms"},
		{"redis://10.0.0.1:26379?master_name=mymaster", ""},
	} {
		u, err := redis.WithPassword(c.url, []byte(pw))
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		rdb, err := redis.NewClient(u)
		if err != nil {
			t.Errorf("%s with the password: %v", c.url, err)
			continue
		}
		if user, pass := password(rdb); user != c.user || pass != pw {
			t.Errorf("%s: user %q, password %q; want %q and the sealed one", c.url, user, pass, c.user)
		}
		rdb.Close()
	}
	if u, _ := redis.WithPassword("redis+sentinel://:sentinelpw@10.0.0.1:26379?master_name=m", []byte(pw)); !strings.Contains(u, ":sentinelpw@") {
		t.Errorf("the sentinels' password was lost: %s", u)
	}
	for _, u := range []string{
		"redis://kms:hunter2@127.0.0.1:6379",
		"rediss+cluster://:hunter2@10.0.0.1:7000",
		"redis+sentinel://10.0.0.1:26379?master_name=m&password=hunter2",
		"redis://kms:hunter2@[::1",
	} {
		if _, err := redis.WithPassword(u, []byte(pw)); err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), pw) {
			t.Errorf("%s: %v, want a refusal quoting neither password", u, err)
		}
	}
}

func TestNewClientRefusesBadURLsWithoutEchoingThePassword(t *testing.T) {
	for _, u := range []string{
		"redis://user:hunter2@[::1",
		"redis://user:hunter2@127.0.0.1:6379/notadb",
		"redis://user:hunter2@127.0.0.1:6379?no_such_option=1",
		"memcached://user:hunter2@127.0.0.1:11211",
		"redis+ring://user:hunter2@127.0.0.1",
		"redis+sentinel://user:hunter2@127.0.0.1:26379",
	} {
		_, err := redis.NewClient(u)
		if err == nil {
			t.Errorf("%s: accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error quotes the password: %v", u, err)
		}
	}
}

// Every URL form reaches a real server of its kind and carries the shared state:
// a change on one instance reaches the other, a nonce used on one is refused on
// the other, concurrent admissions share a pipeline, and no call ever fell back
// (which would log a warning). On Redis Cluster this also shows every script's
// keys share a hash slot: Cluster refuses a script whose keys do not.
func TestEachURLFormServesSharedState(t *testing.T) {
	forms := []struct {
		name  string
		start func(t *testing.T) string
	}{
		{"standalone", func(t *testing.T) string { return startRedis(t).URL }},
		{"unix", func(t *testing.T) string {
			sock := filepath.Join(t.TempDir(), "redis.sock")
			launch(t, &server{
				args: []string{"--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", t.TempDir()},
				opts: &goredis.Options{Network: "unix", Addr: sock},
			})
			return "unix://" + sock
		}},
		{"tls", func(t *testing.T) string {
			port := freePort(t)
			dir := t.TempDir()
			certFile, keyFile, pool := selfSigned(t, dir)
			launch(t, &server{port: port,
				args: []string{"--port", "0", "--tls-port", strconv.Itoa(port), "--tls-cert-file", certFile, "--tls-key-file", keyFile,
					"--tls-auth-clients", "no", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir},
				opts: &goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}},
			})
			// The test's certificate is in no system pool; a deployment would
			// use a CA-signed one and leave verification on.
			return fmt.Sprintf("rediss://127.0.0.1:%d/0?skip_verify=true", port)
		}},
		{"cluster", func(t *testing.T) string {
			port := freePort(t)
			dir := t.TempDir()
			s := launch(t, &server{port: port, args: []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
				"--appendonly", "no", "--dir", dir, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"}})
			ctx := context.Background()
			rdb := s.client()
			if err := rdb.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
				t.Fatal(err)
			}
			within(t, 10*time.Second, "the one-node cluster reaching state ok", func() bool {
				info, _ := rdb.ClusterInfo(ctx).Result()
				return strings.Contains(info, "cluster_state:ok")
			})
			return fmt.Sprintf("redis+cluster://127.0.0.1:%d", port)
		}},
		{"sentinel", func(t *testing.T) string {
			master := startRedis(t)
			port := freePort(t)
			dir := t.TempDir()
			conf := filepath.Join(dir, "sentinel.conf")
			text := fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 %d 1\n", port, master.port)
			if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			launch(t, &server{port: port, args: []string{conf, "--sentinel"}})
			return fmt.Sprintf("redis+sentinel://127.0.0.1:%d/0?master_name=mymaster", port)
		}},
	}
	for _, form := range forms {
		t.Run(form.name, func(t *testing.T) {
			url := form.start(t)
			logs := &syncbuf.Buffer{}
			f := newFleet(t, fleetConfig{url: url, opts: redis.Options{FallbackShare: 0.25,
				CacheTTL: time.Minute, Logger: slog.New(slog.NewTextHandler(logs, nil)),
			}})
			a, b := f.nodes[0], f.nodes[1]
			p := principal(100, 0)
			id := a.createKey(t, p)
			mustCall(t, a, p, "CreateAlias", core.Params{"KeyId": id, "AliasName": "alias/form"})
			if _, err := b.generate(p, "alias/form"); err != nil {
				t.Fatal(err)
			}
			if _, err := a.callNonce(p, "n1", "DescribeKey", core.Params{"KeyId": id}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.callNonce(p, "n1", "DescribeKey", core.Params{"KeyId": id}); code(err) != core.CodeSignatureNonceUsed {
				t.Fatalf("a nonce replayed on the other instance got %q", code(err))
			}
			mustCall(t, a, p, "DisableKey", core.Params{"KeyId": id})
			within(t, time.Second, "the disable reaching the other instance", func() bool {
				_, err := b.generate(p, "alias/form")
				return code(err) == core.CodeDisabled
			})
			if strings.Contains(logs.String(), "redis unreachable") {
				t.Fatalf("a call fell back:\n%s", logs)
			}
		})
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
