package config

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestReadDefaults(t *testing.T) {
	s, err := Read(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.Platform != Local || s.ListenAddr != "127.0.0.1:8080" || s.DataDir != ".kmsless" ||
		s.Store != "bolt://"+filepath.Join(".kmsless", "kms.db") || s.QPS != 1000 || s.Burst != 1000 ||
		s.Region != "cn-hangzhou" || s.ClockSkew != 15*time.Minute || s.NonceTTL != 15*time.Minute ||
		s.CacheTTL != time.Second || s.MaxBody != 1<<20 || s.RedisURL != "" || s.SigV4Repeats || s.PurgeInterval != 24*time.Hour {
		t.Fatalf("defaults: %+v", s)
	}
}

// One principal at the default rate keeps, at any time, the nonces of its
// requests over the last KMS_CLOCK_SKEW (each kept that long when dated as
// sent), plus a burst: the default nonce memory holds them, so it is never
// throttled for its nonces alone.
func TestDefaultNonceMemoryHoldsOnePrincipalAtTheDefaultRate(t *testing.T) {
	s, err := Read(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	need := s.Burst + s.QPS*int(max(s.ClockSkew, s.NonceTTL)/time.Second)
	if s.NonceMax < need {
		t.Errorf("KMS_NONCE_MAX defaults to %d nonces; one principal at %d requests a second keeps %d", s.NonceMax, s.QPS, need)
	}
}

// TestReadyzURL: a probe on the server's machine asks the operator listener
// when there is one, over HTTP, else the server itself, over HTTPS when it
// serves it; an address of every interface is dialled on loopback, any
// other as given.
func TestReadyzURL(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "http://127.0.0.1:8080/readyz"},
		{map[string]string{"KMS_LISTEN_ADDR": ":8080"}, "http://127.0.0.1:8080/readyz"},
		{map[string]string{"KMS_LISTEN_ADDR": "[::]:9000"}, "http://127.0.0.1:9000/readyz"},
		{map[string]string{"KMS_LISTEN_ADDR": "0.0.0.0:9000", "KMS_TLS_CERT_FILE": "c", "KMS_TLS_KEY_FILE": "k"}, "https://127.0.0.1:9000/readyz"},
		{map[string]string{"KMS_LISTEN_ADDR": "kms.internal:443", "KMS_TLS_CERT_FILE": "c", "KMS_TLS_KEY_FILE": "k"}, "https://kms.internal:443/readyz"},
		{map[string]string{"KMS_LISTEN_ADDR": "[::1]:8080"}, "http://[::1]:8080/readyz"},
		{map[string]string{"KMS_TLS_CERT_FILE": "c", "KMS_TLS_KEY_FILE": "k", "KMS_OPERATOR_ADDR": ":9090"}, "http://127.0.0.1:9090/readyz"},
		{map[string]string{"KMS_OPERATOR_ADDR": "10.0.0.5:9090"}, "http://10.0.0.5:9090/readyz"},
	} {
		s, err := Read(env(c.env))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.ReadyzURL(); got != c.want {
			t.Errorf("%v: %s, want %s", c.env, got, c.want)
		}
	}
}

// Log lines are text for a person at a terminal and JSON in a cloud
// runtime, unless KMS_LOG_FORMAT says otherwise; the logger follows.
func TestReadLogFormat(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		json bool
	}{
		{nil, false},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, true},
		{map[string]string{"FC_RUNTIME_API": "127.0.0.1:9001"}, true},
		{map[string]string{"KMS_LOG_FORMAT": "json"}, true},
		{map[string]string{"KMS_LOG_FORMAT": "text", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, false},
	} {
		s, err := Read(env(c.env))
		if err != nil || s.LogJSON != c.json {
			t.Errorf("%v: LogJSON %v, %v; want %v", c.env, s.LogJSON, err, c.json)
			continue
		}
		var out bytes.Buffer
		NewLogger(s, &out).Info("started", "addr", ":8080")
		if isJSON := json.Valid(out.Bytes()); isJSON != c.json {
			t.Errorf("%v: logged %q", c.env, out.String())
		}
	}
}

func TestReadPurgeInterval(t *testing.T) {
	for v, want := range map[string]time.Duration{"0": 0, "1h": time.Hour, "90s": 90 * time.Second} {
		s, err := Read(env(map[string]string{"KMS_PURGE_INTERVAL": v}))
		if err != nil || s.PurgeInterval != want {
			t.Errorf("KMS_PURGE_INTERVAL=%s: %v, %v; want %v", v, s.PurgeInterval, err, want)
		}
	}
}

func TestReadDetectsPlatform(t *testing.T) {
	for v, want := range map[string]Platform{"AWS_LAMBDA_RUNTIME_API": Lambda, "FC_RUNTIME_API": FC} {
		s, err := Read(env(map[string]string{v: "127.0.0.1:9001"}))
		if err != nil || s.Platform != want {
			t.Fatalf("%s set: platform %q, %v", v, s.Platform, err)
		}
	}
}

func TestReadRefusesBadValuesNamingTheVariable(t *testing.T) {
	for name, val := range map[string]string{
		"KMS_QPS_PER_USER":          "0",
		"KMS_BURST":                 "-1",
		"KMS_CACHE_TTL":             "soon",
		"KMS_CLOCK_SKEW":            "-5m",
		"KMS_MAX_BODY":              "10",
		"KMS_REDIS_FALLBACK_SHARE":  "2",
		"KMS_LOG_FORMAT":            "yaml",
		"KMS_REDIS_PASSWORD_SEALED": "kmsless-sealed-v1 redis-password x y",
		"KMS_LOG_LEVEL":             "loud",
		"KMS_SIGV4_REPEATS":         "yes",
		"KMS_PURGE_INTERVAL":        "-1h",
		"KMS_TLS_CERT_FILE":         "cert.pem",       // without its key
		"KMS_TLS_KEY_FILE":          "key.pem",        // without its certificate
		"KMS_TLS_CLIENT_CA_FILE":    "ca.pem",         // on plain HTTP
		"KMS_OPERATOR_ADDR":         "127.0.0.1:8080", // KMS_LISTEN_ADDR's default
	} {
		_, err := Read(env(map[string]string{name: val}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: got %v, want an error naming the variable", name, val, err)
		}
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func localSettings(t *testing.T) Settings {
	t.Helper()
	dir := t.TempDir()
	s, err := Read(env(map[string]string{"KMS_DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLocalRunGeneratesRootKeyAndDevPrincipalOnce(t *testing.T) {
	set := localSettings(t)
	var logs bytes.Buffer
	svc, err := Wire(context.Background(), set, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "GENERATED A NEW ROOT KEY") {
		t.Fatalf("no loud warning about the generated root key: %s", logs.String())
	}
	dev := svc.DevPrincipal
	if dev == nil || svc.Principals.Lookup(dev.AccessKeyID) == nil {
		t.Fatal("no development principal")
	}
	key, err := os.ReadFile(filepath.Join(set.DataDir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(set.DataDir, "root.key")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("root.key mode %v, want 0600", fi.Mode().Perm())
	}
	// The root key never reaches the log.
	if strings.Contains(logs.String(), strings.TrimSpace(string(key))) {
		t.Fatal("the root key was logged")
	}
	caller := dev
	created, err := svc.KMS.Handle(context.Background(), &core.Request{Action: "CreateKey", Params: core.Params{}, Caller: caller})
	if err != nil {
		t.Fatal(err)
	}
	keyID := created.(core.Key).ID
	blob, err := svc.KMS.Handle(context.Background(), &core.Request{Action: "GenerateDataKeyWithoutPlaintext", Params: core.Params{"KeyId": keyID}, Caller: caller})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}

	logs.Reset()
	again, err := Wire(context.Background(), set, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if strings.Contains(logs.String(), "GENERATED") {
		t.Fatal("a second start generated another root key")
	}
	if again.DevPrincipal.AccessKeyID != dev.AccessKeyID {
		t.Fatal("the development principal changed across restarts")
	}
	if _, err := again.KMS.Handle(context.Background(), &core.Request{Action: "Decrypt", Caller: again.DevPrincipal,
		Params: core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(blob.(core.Sealed).Blob)}}); err != nil {
		t.Fatalf("after a restart the old blob does not decrypt: %v", err)
	}
}

func TestCloudRuntimeNeverGeneratesARootKey(t *testing.T) {
	set := localSettings(t)
	set.Platform = Lambda
	_, err := Wire(context.Background(), set, quiet())
	if err == nil || !strings.Contains(err.Error(), "KMS_ROOT_KEY") {
		t.Fatalf("got %v, want a start-up error naming KMS_ROOT_KEY", err)
	}
	if _, err := os.Stat(filepath.Join(set.DataDir, "root.key")); !os.IsNotExist(err) {
		t.Fatal("a root key file was written in a cloud runtime")
	}
}

func TestCloudRuntimeRequiresPrincipalsUnlessOptional(t *testing.T) {
	set := localSettings(t)
	set.Platform = FC
	set.RootKey = base64.StdEncoding.EncodeToString(make([]byte, 32))
	if _, err := Wire(context.Background(), set, quiet()); err == nil || !strings.Contains(err.Error(), "KMS_PRINCIPALS_FILE") {
		t.Fatalf("got %v, want a start-up error naming KMS_PRINCIPALS_FILE", err)
	}
	svc, err := Wire(context.Background(), set, quiet(), PrincipalsOptional())
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if svc.DevPrincipal != nil {
		t.Fatal("a cloud runtime made a development principal")
	}
}

func TestRootKeyMustBe32BytesOfBase64(t *testing.T) {
	for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		set := localSettings(t)
		set.RootKey = bad
		_, err := Wire(context.Background(), set, quiet())
		if err == nil || !strings.Contains(err.Error(), "32 bytes") {
			t.Fatalf("root key %q: got %v", bad, err)
		}
		if strings.Contains(err.Error(), bad) {
			t.Fatal("the error repeats the root key")
		}
	}
}

func TestRootKeyFromFile(t *testing.T) {
	set := localSettings(t)
	path := filepath.Join(t.TempDir(), "root")
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	set.RootKeyFile = path
	svc, err := Wire(context.Background(), set, quiet())
	if err != nil {
		t.Fatal(err)
	}
	svc.Close()
	if _, err := os.Stat(filepath.Join(set.DataDir, "root.key")); !os.IsNotExist(err) {
		t.Fatal("a root key was generated although KMS_ROOT_KEY_FILE was set")
	}
}

func TestUnknownStoreSchemeIsRefused(t *testing.T) {
	set := localSettings(t)
	set.Store = "mysql://x"
	if _, err := Wire(context.Background(), set, quiet()); err == nil || !strings.Contains(err.Error(), "KMS_STORE") {
		t.Fatalf("got %v, want an error naming KMS_STORE", err)
	}
}

// TestStoreNeverHoldsPlaintext runs the cryptographic actions on a wired local
// service and then reads the store's file: neither a data key, nor a plaintext
// given to Encrypt, nor the root key may appear in it.
func TestStoreNeverHoldsPlaintext(t *testing.T) {
	set := localSettings(t)
	rootRaw := make([]byte, 32)
	for i := range rootRaw {
		rootRaw[i] = byte(0xA0 + i%16)
	}
	set.RootKey = base64.StdEncoding.EncodeToString(rootRaw)
	svc, err := Wire(context.Background(), set, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ctx, caller := context.Background(), svc.DevPrincipal
	do := func(action string, p core.Params) any {
		t.Helper()
		r, err := svc.KMS.Handle(ctx, &core.Request{Action: action, Params: p, Caller: caller})
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		return r
	}
	keyID := do("CreateKey", core.Params{}).(core.Key).ID
	do("CreateKeyVersion", core.Params{"KeyId": keyID})
	secret := []byte("a plaintext that must stay out of the store")
	var dataKeys [][]byte
	for range 20 {
		dataKeys = append(dataKeys, do("GenerateDataKey", core.Params{"KeyId": keyID}).(core.DataKey).Plaintext)
		do("Encrypt", core.Params{"KeyId": keyID, "Plaintext": base64.StdEncoding.EncodeToString(secret)})
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(strings.TrimPrefix(set.Store, "bolt://"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dk := range dataKeys {
		if bytes.Contains(file, dk) || bytes.Contains(file, []byte(base64.StdEncoding.EncodeToString(dk))) {
			t.Fatal("a data key is in the store")
		}
	}
	if bytes.Contains(file, secret) || bytes.Contains(file, rootRaw) || bytes.Contains(file, []byte(set.RootKey)) {
		t.Fatal("a plaintext or the root key is in the store")
	}
}

func TestPartitionKeysDefaultToThePartitionKey(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want []string
	}{
		{nil, []string{"alias/partitions"}},
		{map[string]string{"KMS_PARTITION_KEY_ID": "alias/p"}, []string{"alias/p"}},
		{map[string]string{"KMS_PARTITION_KEYS": " alias/a, key-b ,,alias/c"}, []string{"alias/a", "key-b", "alias/c"}},
	} {
		s, err := Read(env(tc.env))
		if err != nil || !slices.Equal(s.PartitionKeys, tc.want) {
			t.Errorf("%v: PartitionKeys %q, %v; want %q", tc.env, s.PartitionKeys, err, tc.want)
		}
	}
	if _, err := Read(env(map[string]string{"KMS_PARTITION_KEYS": " , "})); err == nil || !strings.Contains(err.Error(), "KMS_PARTITION_KEYS") {
		t.Fatalf("an empty list: %v, want an error naming KMS_PARTITION_KEYS", err)
	}
}

func TestStorePoolSizeReachesThePostgreSQLURL(t *testing.T) {
	s, err := Read(env(map[string]string{"KMS_STORE_POOL_SIZE": "2"}))
	if err != nil || s.StorePoolSize != 2 {
		t.Fatalf("KMS_STORE_POOL_SIZE=2: %d, %v", s.StorePoolSize, err)
	}
	for _, tc := range [][3]string{
		{"postgres://h/db", "2", "postgres://h/db?pool_max_conns=2"},
		{"postgres://h/db?sslmode=require", "2", "postgres://h/db?sslmode=require&pool_max_conns=2"},
		{"postgres://h/db?pool_max_conns=9", "2", "postgres://h/db?pool_max_conns=9"},
		{"postgres://h/db", "0", "postgres://h/db"},
	} {
		n, _ := strconv.Atoi(tc[1])
		if got := withPoolSize(tc[0], n); got != tc[2] {
			t.Errorf("withPoolSize(%q, %d) = %q, want %q", tc[0], n, got, tc[2])
		}
	}
}
