package rootkeytest

import (
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	alikms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/rpc"
	"github.com/kmsless/kmsless/infra/store/bolt"
)

// Kmsless is an in-process kmsless serving Alibaba Cloud KMS's API over
// loopback HTTP: a real core.Service on bolt, with one full-access principal.
type Kmsless struct {
	// Endpoint is its URL, http://127.0.0.1:port.
	Endpoint                     string
	AccessKeyID, AccessKeySecret string
	client                       *alikms.Client
}

// StartKmsless starts a kmsless with a fresh root key and store; it stops when
// tb ends.
func StartKmsless(tb testing.TB) *Kmsless {
	tb.Helper()
	st, err := bolt.Open(filepath.Join(tb.TempDir(), "kms.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	raw, err := core.GenerateRootKey()
	if err != nil {
		tb.Fatal(err)
	}
	root, err := core.NewRootKey(raw)
	clear(raw)
	if err != nil {
		tb.Fatal(err)
	}
	svc, err := core.New(core.Config{
		Store: st, Root: root, Region: "cn-hangzhou", AccountID: "1234567890123456",
		Cache: inproc.NewCache(time.Second, 1000), Limiter: inproc.NewLimiter(), Nonces: inproc.NewNonces(nil),
	})
	if err != nil {
		tb.Fatal(err)
	}
	k := &Kmsless{AccessKeyID: "LTAI5tRootKeyTest0001", AccessKeySecret: "root-key-test-secret-0123456789"}
	dir, err := core.NewDirectory([]core.Principal{{
		Name: "root-key-owner", AccessKeyID: k.AccessKeyID, Secret: core.NewSecret(k.AccessKeySecret), QPS: 100_000, Policy: core.FullAccess(),
	}})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(rpc.New(rpc.Options{ClockSkew: 15 * time.Minute, MaxBody: 1 << 20, KMS: svc, Principals: dir, Logger: slog.New(slog.DiscardHandler)}))
	tb.Cleanup(srv.Close)
	k.Endpoint = srv.URL
	k.client, err = alikms.NewClient(&openapi.Config{
		AccessKeyId: tea.String(k.AccessKeyID), AccessKeySecret: tea.String(k.AccessKeySecret),
		Endpoint: tea.String(strings.TrimPrefix(srv.URL, "http://")), Protocol: tea.String("http"),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// CreateKey makes a key and returns its ID.
func (k *Kmsless) CreateKey(tb testing.TB) string {
	tb.Helper()
	r, err := k.client.CreateKey(&alikms.CreateKeyRequest{})
	if err != nil {
		tb.Fatalf("kmsless CreateKey: %v", err)
	}
	return tea.StringValue(r.Body.KeyMetadata.KeyId)
}

// Encrypt encrypts the text plaintext under keyID with the encryption context,
// through the official SDK, and returns the CiphertextBlob.
func (k *Kmsless) Encrypt(tb testing.TB, keyID, plaintext string, encCtx map[string]string) string {
	tb.Helper()
	req := &alikms.EncryptRequest{KeyId: tea.String(keyID), Plaintext: tea.String(plaintext)}
	if len(encCtx) > 0 {
		req.EncryptionContext = map[string]any{}
		for key, v := range encCtx {
			req.EncryptionContext[key] = v
		}
	}
	r, err := k.client.Encrypt(req)
	if err != nil {
		tb.Fatalf("kmsless Encrypt: %v", err)
	}
	return tea.StringValue(r.Body.CiphertextBlob)
}

// GenerateDataKeyWithoutPlaintext makes a 32-byte data key under keyID that
// nobody sees, through the official SDK, and returns its CiphertextBlob.
func (k *Kmsless) GenerateDataKeyWithoutPlaintext(tb testing.TB, keyID string) string {
	tb.Helper()
	r, err := k.client.GenerateDataKeyWithoutPlaintext(&alikms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(keyID), KeySpec: tea.String("AES_256")})
	if err != nil {
		tb.Fatalf("kmsless GenerateDataKeyWithoutPlaintext: %v", err)
	}
	return tea.StringValue(r.Body.CiphertextBlob)
}
