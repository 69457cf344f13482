package config

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/rootkey/rootkeytest"
)

func randomRootKey(t testing.TB) []byte {
	t.Helper()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// settings reads vars, with a fresh data dir unless vars names one.
func settings(t testing.TB, vars map[string]string) Settings {
	t.Helper()
	m := map[string]string{"KMS_DATA_DIR": t.TempDir()}
	for k, v := range vars {
		m[k] = v
	}
	s, err := Read(env(m))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func contextJSON(t testing.TB, c map[string]string) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkRootKeyIs starts a service from set, which must log nothing of raw,
// makes a key and a data key blob with it, and then proves the root key was
// exactly raw: a service on the same store with raw in KMS_ROOT_KEY decrypts
// the blob, and one with any other root key cannot.
func checkRootKeyIs(t *testing.T, set Settings, raw []byte) {
	t.Helper()
	var logs bytes.Buffer
	svc, err := Wire(context.Background(), set, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(logs.Bytes(), raw) || strings.Contains(logs.String(), base64.StdEncoding.EncodeToString(raw)) {
		t.Fatal("start-up logged the root key")
	}
	ctx, dev := context.Background(), svc.DevPrincipal
	created, err := svc.KMS.Handle(ctx, &core.Request{Action: "CreateKey", Params: core.Params{}, Caller: dev})
	if err != nil {
		t.Fatal(err)
	}
	keyID := created.(core.Key).ID
	dk, err := svc.KMS.Handle(ctx, &core.Request{Action: "GenerateDataKeyWithoutPlaintext", Params: core.Params{"KeyId": keyID}, Caller: dev})
	if err != nil {
		t.Fatal(err)
	}
	blob := base64.StdEncoding.EncodeToString(dk.(core.Sealed).Blob)
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	decrypts := func(root []byte) bool {
		plain := settings(t, map[string]string{"KMS_DATA_DIR": set.DataDir, "KMS_ROOT_KEY": base64.StdEncoding.EncodeToString(root)})
		again, err := Wire(ctx, plain, quiet())
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		_, err = again.KMS.Handle(ctx, &core.Request{Action: "Decrypt", Params: core.Params{"CiphertextBlob": blob}, Caller: again.DevPrincipal})
		return err == nil
	}
	if decrypts(randomRootKey(t)) {
		t.Fatal("another root key opens the store: the check proves nothing")
	}
	if !decrypts(raw) {
		t.Fatal("the unwrapped root key is not the one that was encrypted")
	}
}

func TestRootKeyFromAWSKMSIsTheEncryptedBytes(t *testing.T) {
	l := rootkeytest.StartLocalKMS(t)
	rootkeytest.UseAWS(t, l.Endpoint)
	key := l.CreateKey(t)
	raw := randomRootKey(t)
	encCtx := map[string]string{"purpose": "kmsless-root-key"}
	for name, vars := range map[string]map[string]string{
		"raw bytes": {"KMS_ROOT_KEY": l.Encrypt(t, key, raw, encCtx), "KMS_ROOT_KEY_CONTEXT": contextJSON(t, encCtx), "KMS_ROOT_KEY_CMK": key},
		// What encrypting an existing KMS_ROOT_KEY value gives.
		"base64 text": {"KMS_ROOT_KEY": l.Encrypt(t, key, []byte(base64.StdEncoding.EncodeToString(raw)), nil)},
	} {
		t.Run(name, func(t *testing.T) {
			vars["KMS_ROOT_KEY_SOURCE"] = SourceAWSKMS
			checkRootKeyIs(t, settings(t, vars), raw)
		})
	}
}

func TestRootKeyFromAlibabaKMSIsTheEncryptedBytes(t *testing.T) {
	k := rootkeytest.StartKmsless(t)
	key := k.CreateKey(t)
	raw := randomRootKey(t)
	encCtx := map[string]string{"purpose": "kmsless-root-key"}
	for name, token := range map[string]string{"access key": "", "role with a security token": "sts-token-0123456789"} {
		t.Run(name, func(t *testing.T) {
			set := settings(t, map[string]string{
				"KMS_ROOT_KEY_SOURCE":             SourceAlibabaKMS,
				"KMS_ROOT_KEY":                    k.Encrypt(t, key, base64.StdEncoding.EncodeToString(raw), encCtx),
				"KMS_ROOT_KEY_CONTEXT":            contextJSON(t, encCtx),
				"KMS_ROOT_KEY_CMK":                key,
				"KMS_ROOT_KEY_ENDPOINT":           k.Endpoint,
				"ALIBABA_CLOUD_ACCESS_KEY_ID":     k.AccessKeyID,
				"ALIBABA_CLOUD_ACCESS_KEY_SECRET": k.AccessKeySecret,
				"ALIBABA_CLOUD_SECURITY_TOKEN":    token,
			})
			checkRootKeyIs(t, set, raw)
		})
	}
}

// TestRootKeyFromABlobNobodySawThePlaintextOf follows the README: a data key
// made with GenerateDataKeyWithoutPlaintext becomes the root key, the same one
// at every start, on both clouds.
func TestRootKeyFromABlobNobodySawThePlaintextOf(t *testing.T) {
	l := rootkeytest.StartLocalKMS(t)
	rootkeytest.UseAWS(t, l.Endpoint)
	awsKey := l.CreateKey(t)
	k := rootkeytest.StartKmsless(t)
	aliKey := k.CreateKey(t)
	for source, vars := range map[string]map[string]string{
		SourceAWSKMS: {"KMS_ROOT_KEY": l.GenerateDataKeyWithoutPlaintext(t, awsKey, map[string]string{"purpose": "kmsless-root-key"}),
			"KMS_ROOT_KEY_CONTEXT": `{"purpose":"kmsless-root-key"}`},
		SourceAlibabaKMS: {"KMS_ROOT_KEY": k.GenerateDataKeyWithoutPlaintext(t, aliKey), "KMS_ROOT_KEY_ENDPOINT": k.Endpoint,
			"ALIBABA_CLOUD_ACCESS_KEY_ID": k.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": k.AccessKeySecret},
	} {
		t.Run(source, func(t *testing.T) {
			vars["KMS_ROOT_KEY_SOURCE"] = source
			set := settings(t, vars)
			ctx := context.Background()
			first, err := Wire(ctx, set, quiet())
			if err != nil {
				t.Fatal(err)
			}
			created, err := first.KMS.Handle(ctx, &core.Request{Action: "CreateKey", Params: core.Params{}, Caller: first.DevPrincipal})
			if err != nil {
				t.Fatal(err)
			}
			dk, err := first.KMS.Handle(ctx, &core.Request{Action: "GenerateDataKeyWithoutPlaintext", Caller: first.DevPrincipal,
				Params: core.Params{"KeyId": created.(core.Key).ID}})
			if err != nil {
				t.Fatal(err)
			}
			first.Close()
			again, err := Wire(ctx, set, quiet())
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if _, err := again.KMS.Handle(ctx, &core.Request{Action: "Decrypt", Caller: again.DevPrincipal,
				Params: core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(dk.(core.Sealed).Blob)}}); err != nil {
				t.Fatalf("the second start unwrapped another root key: %v", err)
			}
		})
	}
}

// closedPort is an address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentPort is an address that accepts connections and never answers.
func silentPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// refused starts a service from vars and wants start-up to fail with a
// message naming the source and containing cause, and nothing of raw.
func refused(t *testing.T, vars map[string]string, raw []byte, cause string) {
	t.Helper()
	set := settings(t, vars)
	svc, err := Wire(context.Background(), set, quiet())
	if err == nil {
		svc.Close()
		t.Fatal("start-up succeeded")
	}
	msg := err.Error()
	t.Log(msg)
	if want := "KMS_ROOT_KEY_SOURCE=" + vars["KMS_ROOT_KEY_SOURCE"]; !strings.Contains(msg, want) || !strings.Contains(msg, cause) {
		t.Fatalf("got %q, want a message naming %s and %q", msg, want, cause)
	}
	if raw != nil && strings.Contains(msg, base64.StdEncoding.EncodeToString(raw)) {
		t.Fatal("the error repeats the root key")
	}
}

func TestAWSKMSRootKeyFailuresStopStartUp(t *testing.T) {
	l, other := rootkeytest.StartLocalKMS(t), rootkeytest.StartLocalKMS(t)
	key, otherKey, foreignKey := l.CreateKey(t), l.CreateKey(t), other.CreateKey(t)
	raw := randomRootKey(t)
	good := l.Encrypt(t, key, raw, map[string]string{"purpose": "kmsless-root-key"})
	aws := func(kv ...string) map[string]string {
		m := map[string]string{"KMS_ROOT_KEY_SOURCE": SourceAWSKMS, "KMS_ROOT_KEY_TIMEOUT": "2s"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name, endpoint string
		vars           map[string]string
		cause          string
	}{
		{"blob not base64", l.Endpoint, aws("KMS_ROOT_KEY", "not a blob!"), "not base64"},
		// Fixed noise: some random blobs make local-kms drop the connection
		// instead of answering, which would test local-kms, not start-up.
		{"blob of noise", l.Endpoint, aws("KMS_ROOT_KEY", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x42}, 32))), "refused to decrypt"},
		{"truncated blob", l.Endpoint, aws("KMS_ROOT_KEY", good[:len(good)-8]), "refused to decrypt"},
		{"wrong encryption context", l.Endpoint, aws("KMS_ROOT_KEY", good, "KMS_ROOT_KEY_CONTEXT", `{"purpose":"other"}`), "refused to decrypt"},
		{"blob under another CMK than the pinned one", l.Endpoint, aws("KMS_ROOT_KEY", l.Encrypt(t, otherKey, raw, nil), "KMS_ROOT_KEY_CMK", key), "refused to decrypt"},
		{"blob from another KMS", l.Endpoint, aws("KMS_ROOT_KEY", other.Encrypt(t, foreignKey, raw, nil)), "refused to decrypt"},
		{"blob of a 16-byte key", l.Endpoint, aws("KMS_ROOT_KEY", l.Encrypt(t, key, raw[:16], nil)), "decrypts to 16 bytes"},
		{"KMS unreachable", "http://" + closedPort(t), aws("KMS_ROOT_KEY", good), "connection refused"},
		{"KMS silent", "http://" + silentPort(t), aws("KMS_ROOT_KEY", good, "KMS_ROOT_KEY_TIMEOUT", "500ms"), "no answer from the KMS in time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rootkeytest.UseAWS(t, c.endpoint)
			refused(t, c.vars, raw, c.cause)
		})
	}
}

func TestAlibabaKMSRootKeyFailuresStopStartUp(t *testing.T) {
	k, other := rootkeytest.StartKmsless(t), rootkeytest.StartKmsless(t)
	key, otherKey := k.CreateKey(t), k.CreateKey(t)
	raw := randomRootKey(t)
	text := base64.StdEncoding.EncodeToString(raw)
	good := k.Encrypt(t, key, text, map[string]string{"purpose": "kmsless-root-key"})
	ali := func(kv ...string) map[string]string {
		m := map[string]string{
			"KMS_ROOT_KEY_SOURCE": SourceAlibabaKMS, "KMS_ROOT_KEY_TIMEOUT": "2s", "KMS_ROOT_KEY_ENDPOINT": k.Endpoint,
			"ALIBABA_CLOUD_ACCESS_KEY_ID": k.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": k.AccessKeySecret,
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name  string
		vars  map[string]string
		cause string
	}{
		{"blob not base64", ali("KMS_ROOT_KEY", "not a blob!"), "not base64"},
		{"blob of noise", ali("KMS_ROOT_KEY", base64.StdEncoding.EncodeToString(randomRootKey(t))), "refused to decrypt"},
		{"wrong encryption context", ali("KMS_ROOT_KEY", good, "KMS_ROOT_KEY_CONTEXT", `{"purpose":"other"}`), "refused to decrypt"},
		{"blob under another CMK than the pinned one", ali("KMS_ROOT_KEY", k.Encrypt(t, otherKey, text, nil), "KMS_ROOT_KEY_CMK", key), "encrypted under key " + otherKey},
		{"blob from another KMS", ali("KMS_ROOT_KEY", other.Encrypt(t, other.CreateKey(t), text, nil)), "refused to decrypt"},
		{"plaintext not the base64 of 32 bytes", ali("KMS_ROOT_KEY", k.Encrypt(t, key, base64.StdEncoding.EncodeToString(raw[:16]), nil)), "not the base64 of 32 bytes"},
		{"wrong credentials", ali("KMS_ROOT_KEY", good, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "wrong"), "refused to decrypt"},
		{"no credentials", ali("KMS_ROOT_KEY", good, "ALIBABA_CLOUD_ACCESS_KEY_ID", ""), "no Alibaba Cloud credentials"},
		{"KMS unreachable", ali("KMS_ROOT_KEY", good, "KMS_ROOT_KEY_ENDPOINT", "http://"+closedPort(t)), "connection refused"},
		{"KMS silent", ali("KMS_ROOT_KEY", good, "KMS_ROOT_KEY_ENDPOINT", "http://"+silentPort(t), "KMS_ROOT_KEY_TIMEOUT", "500ms"), "no answer from the KMS in time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			refused(t, c.vars, raw, c.cause)
		})
	}
}

func TestReadRootKeySource(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString(make([]byte, 32))
	cases := []struct {
		vars map[string]string
		want string // "" = accepted
	}{
		{map[string]string{"KMS_ROOT_KEY": b64}, ""},
		{map[string]string{"KMS_ROOT_KEY_FILE": "/run/root.key"}, ""},
		{map[string]string{"KMS_ROOT_KEY_SOURCE": "file", "KMS_ROOT_KEY_FILE": "/run/root.key"}, ""},
		{map[string]string{"KMS_ROOT_KEY_SOURCE": "aws-kms", "KMS_ROOT_KEY": "AQID", "KMS_ROOT_KEY_CONTEXT": `{"a":"b"}`}, ""},
		{map[string]string{"KMS_ROOT_KEY_SOURCE": "vault", "KMS_ROOT_KEY": b64}, "KMS_ROOT_KEY_SOURCE must be"},
		{map[string]string{"KMS_ROOT_KEY": b64, "KMS_ROOT_KEY_FILE": "/run/root.key"}, "not both"},
		{map[string]string{"KMS_ROOT_KEY_SOURCE": "env", "KMS_ROOT_KEY_FILE": "/run/root.key"}, "choose one"},
		{map[string]string{"KMS_ROOT_KEY_SOURCE": "file", "KMS_ROOT_KEY": b64}, "choose one"},
		{map[string]string{"KMS_ROOT_KEY_SOURCE": "file"}, "needs KMS_ROOT_KEY_FILE"},
		{map[string]string{"KMS_ROOT_KEY_SOURCE": "aws-kms"}, "needs KMS_ROOT_KEY"},
		{map[string]string{"KMS_ROOT_KEY_SOURCE": "aws-kms", "KMS_ROOT_KEY_FILE": "/run/blob"}, "unset KMS_ROOT_KEY_FILE"},
		{map[string]string{"KMS_ROOT_KEY_SOURCE": "aws-kms", "KMS_ROOT_KEY": "AQID", "KMS_ROOT_KEY_CONTEXT": `{"a":1}`}, "KMS_ROOT_KEY_CONTEXT must be"},
		{map[string]string{"KMS_ROOT_KEY_SOURCE": "aws-kms", "KMS_ROOT_KEY": "AQID", "KMS_ROOT_KEY_ENDPOINT": "kms.example"}, "AWS_ENDPOINT_URL_KMS"},
		{map[string]string{"KMS_ROOT_KEY_SOURCE": "alibaba-kms", "KMS_ROOT_KEY": "AQID"}, "needs KMS_ROOT_KEY_ENDPOINT"},
		{map[string]string{"KMS_ROOT_KEY_SOURCE": "alibaba-kms", "KMS_ROOT_KEY": "AQID", "KMS_ROOT_KEY_ENDPOINT": "kms.example", "KMS_ROOT_KEY_CMK": "alias/root"}, "key ID or ARN"},
		{map[string]string{"KMS_ROOT_KEY": b64, "KMS_ROOT_KEY_CMK": "key-1"}, "apply only to"},
		{map[string]string{"KMS_ROOT_KEY": b64, "KMS_ROOT_KEY_TIMEOUT": "0s"}, "KMS_ROOT_KEY_TIMEOUT"},
	}
	for _, c := range cases {
		_, err := Read(env(c.vars))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v: %v", c.vars, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v: got %v, want an error containing %q", c.vars, err, c.want)
		}
	}
}

// TestRootKeyFileSourceExplicitOrImplied: KMS_ROOT_KEY_FILE alone still
// means the file source, and naming it changes nothing.
func TestRootKeyFileSourceExplicitOrImplied(t *testing.T) {
	raw := randomRootKey(t)
	path := filepath.Join(t.TempDir(), "root.key")
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(raw)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, source := range []string{"", SourceFile} {
		checkRootKeyIs(t, settings(t, map[string]string{"KMS_ROOT_KEY_SOURCE": source, "KMS_ROOT_KEY_FILE": path}), raw)
	}
}

func TestAWSKMSWithoutRegionOrCredentialsSaysSo(t *testing.T) {
	rootkeytest.UseAWS(t, "http://"+closedPort(t))
	vars := map[string]string{"KMS_ROOT_KEY_SOURCE": SourceAWSKMS, "KMS_ROOT_KEY": "AQID", "KMS_ROOT_KEY_TIMEOUT": "2s"}
	t.Run("no region", func(t *testing.T) {
		t.Setenv("AWS_REGION", "")
		t.Setenv("AWS_DEFAULT_REGION", "")
		refused(t, vars, nil, "no AWS region")
	})
	t.Run("no credentials", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		refused(t, vars, nil, "no AWS credentials")
	})
}

func TestSettingsNeverPrintTheAlibabaSecret(t *testing.T) {
	s, err := Read(env(map[string]string{
		"KMS_ROOT_KEY_SOURCE": "alibaba-kms", "KMS_ROOT_KEY": "AQID", "KMS_ROOT_KEY_ENDPOINT": "kms.cn-hangzhou.aliyuncs.com",
		"ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "the-secret", "ALIBABA_CLOUD_SECURITY_TOKEN": "the-token",
	}))
	if err != nil {
		t.Fatal(err)
	}
	// Verbs that skip String and GoString (%d, %x) print what they reach too.
	var forms []string
	for _, secret := range []string{"the-secret", "the-token"} {
		forms = append(forms, secret, fmt.Sprintf("%x", secret), fmt.Sprintf("%X", secret), strings.Trim(fmt.Sprint([]byte(secret)), "[]"))
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q"} {
		for _, v := range []any{s, &s, s.RootKeyAlibaba} {
			out := fmt.Sprintf(format, v)
			for _, form := range forms {
				if strings.Contains(out, form) {
					t.Errorf("%s of %T prints %s", format, v, out)
				}
			}
		}
	}
	if out := fmt.Sprintf("%v", s); !strings.Contains(out, "STS.id") {
		t.Errorf("the settings do not name the access key they use: %s", out)
	}
}
